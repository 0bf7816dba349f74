// PamConversation: the Conversation of factor.h over the application's
// PAM_CONV item (sshd's keyboard-interactive, sudo's terminal, pamtester).
#ifndef GATE_PAM_CONVERSATION_H_
#define GATE_PAM_CONVERSATION_H_

#include <security/pam_modules.h>

#include <string>

#include "pam_module/factor.h"

namespace gate::pam {

// Borrows pamh, which must outlive this object. Not thread-safe (neither is
// a PAM handle).
class PamConversation final : public Conversation {
 public:
  // silent: the application passed PAM_SILENT, so Info and Error say nothing.
  PamConversation(pam_handle_t* pamh, bool silent) : pamh_(pamh), silent_(silent) {}

  // PAM_PROMPT_ECHO_OFF (asked even when silent: a prompt is not a message).
  // False (answer untouched) when the application has no conversation
  // function, it fails, or it returns no answer. The application's response
  // buffer is wiped before it is freed.
  bool PromptSecret(const std::string& prompt, SecretString* answer) override;
  // PAM_TEXT_INFO / PAM_ERROR_MSG, unless silent; failures are ignored (a
  // message is a courtesy, never a reason to change the outcome).
  void Info(const std::string& text) override;
  void Error(const std::string& text) override;

 private:
  // One message; returns the response text through *answer if non-null.
  bool Converse(int style, const std::string& text, SecretString* answer);

  pam_handle_t* pamh_;
  bool silent_;
};

}  // namespace gate::pam

#endif  // GATE_PAM_CONVERSATION_H_
