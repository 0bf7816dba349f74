// The plugin boundary (plugin_abi.h) from the plugin's side, and the outcome
// mapping both sides use. Loading real plugins, a mismatched one included,
// is tests/integration/test_pam_host.py.
#include "pam_module/plugin.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "pam_module/plugin_abi.h"

namespace gate::pam {
namespace {

TEST(PluginOutcomeTest, EveryOutcomeCrossesAndComesBack) {
  const std::pair<Outcome, int> table[] = {
      {Outcome::kSuccess, GATE_PAM_OUTCOME_SUCCESS},
      {Outcome::kFailure, GATE_PAM_OUTCOME_FAILURE},
      {Outcome::kLockedOut, GATE_PAM_OUTCOME_LOCKED_OUT},
      {Outcome::kNotEnrolled, GATE_PAM_OUTCOME_NOT_ENROLLED},
      {Outcome::kUnavailable, GATE_PAM_OUTCOME_UNAVAILABLE},
      {Outcome::kError, GATE_PAM_OUTCOME_ERROR},
  };
  for (const auto& [outcome, abi] : table) {
    EXPECT_EQ(ToAbiOutcome(outcome), abi);
    EXPECT_EQ(FromAbiOutcome(abi), outcome);
  }
  // Anything else a plugin returns is an error, never a success.
  for (int odd : {-1, 6, 7, 1000, 0x7fffffff}) EXPECT_EQ(FromAbiOutcome(odd), Outcome::kError);
}

// What the host saw of one call.
struct Host {
  std::string answer = "4321";
  bool answers = true;
  std::vector<std::string> prompts, infos, errors, logs;
};

void Log(void* host, int level, const char* line) {
  static_cast<Host*>(host)->logs.push_back(std::to_string(level) + " " + line);
}
int Prompt(void* host, const char* prompt, char* buf, std::size_t size) {
  auto* h = static_cast<Host*>(host);
  h->prompts.push_back(prompt);
  if (!h->answers || h->answer.size() >= size) return 0;
  std::memcpy(buf, h->answer.c_str(), h->answer.size() + 1);
  return 1;
}
void Info(void* host, const char* text) { static_cast<Host*>(host)->infos.push_back(text); }
void Error(void* host, const char* text) { static_cast<Host*>(host)->errors.push_back(text); }

// A factor that uses everything the call lends it.
struct Seen {
  std::string pam_user, gate_user, appid, pin;
  bool prompted = false;
};
Seen* g_seen = nullptr;

class EchoFactor final : public Factor {
 public:
  Outcome Authenticate(FactorContext& context) override {
    g_seen->pam_user = context.pam_user;
    g_seen->gate_user = context.gate_user;
    g_seen->appid = context.options.appid;
    SecretString pin;
    g_seen->prompted = context.conversation.PromptSecret("PIN: ", &pin);
    g_seen->pin = std::string(pin.view());
    context.conversation.Info("touch it");
    context.conversation.Error("it failed");
    log::Debug("a debug line");
    log::Warning("a warning line");
    return g_seen->prompted ? Outcome::kLockedOut : Outcome::kFailure;
  }
};

std::unique_ptr<Factor> MakeEcho() { return std::make_unique<EchoFactor>(); }

class RunPluginCallTest : public ::testing::Test {
 protected:
  void SetUp() override { g_seen = &seen_; }
  void TearDown() override {
    g_seen = nullptr;
    log::Init(log::Sink::kStderr, "", log::Level::kInfo);
  }

  gate_pam_call Call() {
    gate_pam_call call{};
    call.abi_version = GATE_PAM_PLUGIN_ABI_VERSION;
    call.struct_size = sizeof(call);
    call.argc = static_cast<int>(argv_.size());
    call.argv = argv_.data();
    call.pam_user = "root";
    call.gate_user = "alice";
    call.min_log_level = GATE_PAM_LOG_INFO;
    call.host = &host_;
    call.log = &Log;
    call.prompt_secret = &Prompt;
    call.info = &Info;
    call.error = &Error;
    return call;
  }

  std::vector<const char*> argv_ = {"second_factor=u2f", "appid=pam://host1"};
  Host host_;
  Seen seen_;
};

TEST_F(RunPluginCallTest, LendsTheFactorTheHostsConversationLogAndOptions) {
  const gate_pam_call call = Call();
  EXPECT_EQ(RunPluginCall(&call, &MakeEcho), GATE_PAM_OUTCOME_LOCKED_OUT);
  EXPECT_EQ(seen_.pam_user, "root");
  EXPECT_EQ(seen_.gate_user, "alice");
  EXPECT_EQ(seen_.appid, "pam://host1");
  EXPECT_TRUE(seen_.prompted);
  EXPECT_EQ(seen_.pin, "4321");
  EXPECT_EQ(host_.prompts, std::vector<std::string>{"PIN: "});
  EXPECT_EQ(host_.infos, std::vector<std::string>{"touch it"});
  EXPECT_EQ(host_.errors, std::vector<std::string>{"it failed"});
  // At the host's level: no debug line.
  EXPECT_EQ(host_.logs, std::vector<std::string>{"2 a warning line"});
}

TEST_F(RunPluginCallTest, NoAnswerIsNoAnswer) {
  host_.answers = false;
  const gate_pam_call call = Call();
  EXPECT_EQ(RunPluginCall(&call, &MakeEcho), GATE_PAM_OUTCOME_FAILURE);
  EXPECT_FALSE(seen_.prompted);
  EXPECT_EQ(seen_.pin, "");
}

TEST_F(RunPluginCallTest, CallsFromAnotherBuildAreRefusedUntouched) {
  std::vector<gate_pam_call> bad;
  gate_pam_call call = Call();
  call.abi_version = 1;
  bad.push_back(call);
  call = Call();
  call.abi_version = GATE_PAM_PLUGIN_ABI_VERSION + 1;
  bad.push_back(call);
  call = Call();
  call.struct_size = sizeof(call) - 8;
  bad.push_back(call);
  call = Call();
  call.prompt_secret = nullptr;
  bad.push_back(call);
  call = Call();
  call.gate_user = nullptr;
  bad.push_back(call);
  for (const gate_pam_call& c : bad) {
    EXPECT_EQ(RunPluginCall(&c, &MakeEcho), GATE_PAM_OUTCOME_ERROR);
  }
  EXPECT_EQ(RunPluginCall(nullptr, &MakeEcho), GATE_PAM_OUTCOME_ERROR);
  EXPECT_TRUE(seen_.gate_user.empty()) << "the factor ran";
  EXPECT_TRUE(host_.logs.empty());
}

TEST_F(RunPluginCallTest, BadArgumentsFailClosedWithALogLine) {
  argv_ = {"second_factor=u2f", "bogus"};
  const gate_pam_call call = Call();
  EXPECT_EQ(RunPluginCall(&call, &MakeEcho), GATE_PAM_OUTCOME_ERROR);
  EXPECT_TRUE(seen_.gate_user.empty());
  ASSERT_EQ(host_.logs.size(), 1u);
  EXPECT_NE(host_.logs[0].find("bogus"), std::string::npos) << host_.logs[0];
}

}  // namespace
}  // namespace gate::pam
