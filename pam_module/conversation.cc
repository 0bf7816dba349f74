#include "pam_module/conversation.h"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>

#include "gate/secret.h"

namespace gate::pam {
namespace {

// Wipes and frees what the application allocated for one response.
void FreeResponse(pam_response* resp) {
  if (resp == nullptr) return;
  if (resp->resp != nullptr) {
    Wipe(resp->resp, std::strlen(resp->resp));
    std::free(resp->resp);
  }
  std::free(resp);
}

}  // namespace

bool PamConversation::Converse(int style, const std::string& text, SecretString* answer) {
  const void* item = nullptr;
  if (pam_get_item(pamh_, PAM_CONV, &item) != PAM_SUCCESS || item == nullptr) return false;
  const auto* conv = static_cast<const pam_conv*>(item);
  if (conv->conv == nullptr) return false;

  pam_message msg{};
  msg.msg_style = style;
  msg.msg = text.c_str();
  const pam_message* msgs[1] = {&msg};
  pam_response* resp = nullptr;
  const int rc = conv->conv(1, msgs, &resp, conv->appdata_ptr);
  bool ok = false;
  if (rc == PAM_SUCCESS) {
    if (answer == nullptr) {
      ok = true;
    } else if (resp != nullptr && resp->resp != nullptr) {
      answer->assign(resp->resp);
      ok = true;
    }
  }
  FreeResponse(resp);
  return ok;
}

bool PamConversation::PromptSecret(const std::string& prompt, SecretString* answer) {
  return Converse(PAM_PROMPT_ECHO_OFF, prompt, answer);
}

void PamConversation::Info(const std::string& text) {
  if (silent_) return;
  (void)Converse(PAM_TEXT_INFO, text, nullptr);
}

void PamConversation::Error(const std::string& text) {
  if (silent_) return;
  (void)Converse(PAM_ERROR_MSG, text, nullptr);
}

}  // namespace gate::pam
