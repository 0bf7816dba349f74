#include "pam_module/otp_local.h"

#include <gtest/gtest.h>
#include <liboath/oath.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "common/test_util.h"

namespace gate::pam {
namespace {

using gate::testing::TempDir;
using gate::testing::WriteFile;

constexpr char kSecretB32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";  // "12345678901234567890"
constexpr std::int64_t kNow = 1'700'000'000;                       // step 56666666 + 20 s

authfile::Entry Totp(std::string secret = "12345678901234567890", int digits = 6,
                     std::string algorithm = "sha1") {
  authfile::Entry e;
  e.user = "alice";
  e.totp.algorithm = std::move(algorithm);
  e.totp.digits = digits;
  e.totp.secret = SecretString(std::string_view(secret));
  return e;
}

std::string CodeAt(const authfile::Entry& e, std::int64_t t) {
  oath_init();
  char out[16];
  const int flags = e.totp.algorithm == "sha256" ? OATH_TOTP_HMAC_SHA256 : 0;
  if (oath_totp_generate2(e.totp.secret.data(), e.totp.secret.size(), static_cast<time_t>(t), 30, 0,
                          static_cast<unsigned>(e.totp.digits), flags, out) != OATH_OK) {
    std::abort();
  }
  return out;
}

class LocalOtpTest : public ::testing::Test {
 protected:
  LocalOtpTest() : otp_([this] { return now_.load(); }) {
    options_.state_dir = dir_.File("state");
    options_.authfile = dir_.File("authfile");
    options_.max_tries = 3;
    options_.lockout = std::chrono::seconds(60);
  }

  Outcome Verify(std::string_view code, std::string* why = nullptr) {
    return otp_.Verify(options_, "alice", {entry_}, code, why);
  }
  std::string StateFile() const { return options_.state_dir + "/alice.state"; }

  TempDir dir_;
  Options options_;
  std::atomic<std::int64_t> now_{kNow};
  LocalOtp otp_;
  authfile::Entry entry_ = Totp();
};

TEST(OtpStateTest, FormatParseRoundTrip) {
  const OtpState s{56666666, 2, 1700000100};
  EXPECT_EQ(FormatState(s), "v1 56666666 2 1700000100\n");
  EXPECT_EQ(ParseState(FormatState(s)).value(), s);
  EXPECT_EQ(ParseState(FormatState(OtpState{})).value(), OtpState{});
  // SaveState's padding before the newline.
  EXPECT_EQ(ParseState("v1 56666666 2 1700000100" + std::string(39, ' ') + "\n").value(), s);
}

TEST(OtpStateTest, CorruptStateIsDataLoss) {
  for (const char* text : {"", "\n", "v1 1 2 3", "v2 1 2 3\n", "v1 1 2\n", "v1 1 2 3 4\n",
                           "v1 a 2 3\n", "v1 -2 0 0\n", "v1 1 -1 0\n", "v1 1 0 -5\n", "v1  1 2 3\n",
                           "v1 1 2 3\n\n", "v1 1 1001 0\n", "v1 99999999999999999999 0 0\n"}) {
    auto s = ParseState(text);
    ASSERT_FALSE(s.has_value()) << text;
    EXPECT_EQ(s.error().code(), Code::kDataLoss) << text;
  }
}

TEST_F(LocalOtpTest, Rfc6238Vectors) {
  // RFC 6238 appendix B, T = 59: SHA-1 94287082, SHA-256 46119246.
  now_ = 59;
  options_.window = 0;
  entry_ = Totp("12345678901234567890", 8);
  EXPECT_EQ(Verify("94287082"), Outcome::kSuccess);
  TempDir other;
  options_.state_dir = other.File("state");
  entry_ = Totp("12345678901234567890123456789012", 8, "sha256");
  EXPECT_EQ(Verify("46119246"), Outcome::kSuccess);
}

TEST_F(LocalOtpTest, AcceptsCurrentCodeAndRecordsTheStep) {
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kSuccess);
  EXPECT_EQ(ParseState(gate::testing::ReadFile(StateFile())).value().last_step, kNow / 30);
  EXPECT_EQ(gate::testing::ModeOf(StateFile()), 0600u);
  EXPECT_EQ(gate::testing::ModeOf(options_.state_dir), 0700u);
}

// `gate mfa add --local` consumes its confirmation code's step in the same
// state: pam_gate refuses that code as a replay and accepts the next one.
TEST_F(LocalOtpTest, StepConsumedAtEnrolmentIsRefused) {
  ASSERT_TRUE(otp::ConsumeStep(options_.state_dir, "alice", kNow / 30).ok());
  std::string why;
  EXPECT_EQ(Verify(CodeAt(entry_, kNow), &why), Outcome::kFailure);
  EXPECT_EQ(why, "code already used");
  EXPECT_EQ(Verify(CodeAt(entry_, kNow + 30), &why), Outcome::kSuccess);
}

TEST_F(LocalOtpTest, ConsumeStepOnlyRaisesTheStepAndKeepsFailures) {
  EXPECT_EQ(Verify("000000"), Outcome::kFailure);
  ASSERT_TRUE(otp::ConsumeStep(options_.state_dir, "alice", kNow / 30 + 1).ok());
  ASSERT_TRUE(otp::ConsumeStep(options_.state_dir, "alice", kNow / 30 - 5).ok());
  auto state = otp::LoadState(options_.state_dir, "alice");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->last_step, kNow / 30 + 1);
  EXPECT_EQ(state->failures, 1);
  EXPECT_EQ(state->locked_until, 0);
}

TEST_F(LocalOtpTest, ConsumeStepFailsClosedOnCorruptState) {
  ASSERT_TRUE(otp::ConsumeStep(options_.state_dir, "alice", kNow / 30).ok());
  WriteFile(StateFile(), "garbage\n", 0600);
  const Status s = otp::ConsumeStep(options_.state_dir, "alice", kNow / 30 + 1);
  EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
}

TEST_F(LocalOtpTest, StateIsOneFixedSizeRecordRewrittenInPlace) {
  ASSERT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kSuccess);
  const std::string first = gate::testing::ReadFile(StateFile());
  EXPECT_EQ(first.size(), 64u);
  EXPECT_EQ(first.back(), '\n');
  struct stat before {};
  ASSERT_EQ(::stat(StateFile().c_str(), &before), 0);
  EXPECT_EQ(before.st_mode & 07777, 0600u);

  now_ = kNow + 30;
  ASSERT_EQ(Verify(CodeAt(entry_, kNow + 30)), Outcome::kSuccess);
  struct stat after {};
  ASSERT_EQ(::stat(StateFile().c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // the same file, not a replacement
  EXPECT_EQ(ParseState(gate::testing::ReadFile(StateFile())).value().last_step, (kNow + 30) / 30);
}

TEST_F(LocalOtpTest, LongerStateRecordIsTruncatedToTheNewOne) {
  ASSERT_EQ(::mkdir(options_.state_dir.c_str(), 0700), 0);
  WriteFile(StateFile(), "v1 5 0 0" + std::string(100, ' ') + "\n", 0600);
  ASSERT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kSuccess);
  const std::string text = gate::testing::ReadFile(StateFile());
  EXPECT_EQ(text.size(), 64u);
  EXPECT_EQ(ParseState(text).value().last_step, kNow / 30);
}

TEST_F(LocalOtpTest, WrongCodeFails) {
  std::string why;
  std::string code = CodeAt(entry_, kNow);
  code[0] = code[0] == '9' ? '0' : static_cast<char>(code[0] + 1);
  EXPECT_EQ(Verify(code, &why), Outcome::kFailure);
  EXPECT_EQ(why, "wrong code");
  EXPECT_EQ(ParseState(gate::testing::ReadFile(StateFile())).value().failures, 1);
}

TEST_F(LocalOtpTest, MalformedCodesFail) {
  for (const char* code : {"", "12345", "1234567", "123456789", "12345a", " 123456", "12 456"}) {
    options_.max_tries = 100;
    EXPECT_EQ(Verify(code), Outcome::kFailure) << code;
  }
}

TEST_F(LocalOtpTest, ReplayIsRefused) {
  const std::string code = CodeAt(entry_, kNow);
  ASSERT_EQ(Verify(code), Outcome::kSuccess);
  std::string why;
  EXPECT_EQ(Verify(code, &why), Outcome::kFailure);
  EXPECT_EQ(why, "code already used");
  // An older step inside the window is refused too once a newer one was used.
  EXPECT_EQ(Verify(CodeAt(entry_, kNow - 30), &why), Outcome::kFailure);
  EXPECT_EQ(why, "code already used");
  // The next step is fine.
  EXPECT_EQ(Verify(CodeAt(entry_, kNow + 30)), Outcome::kSuccess);
}

TEST_F(LocalOtpTest, Window) {
  options_.max_tries = 100;
  options_.window = 1;
  EXPECT_EQ(Verify(CodeAt(entry_, kNow + 60)), Outcome::kFailure);  // two steps ahead
  EXPECT_EQ(Verify(CodeAt(entry_, kNow - 60)), Outcome::kFailure);  // two steps behind
  EXPECT_EQ(Verify(CodeAt(entry_, kNow - 30)), Outcome::kSuccess);  // one step of skew
  options_.window = 0;
  EXPECT_EQ(Verify(CodeAt(entry_, kNow + 30)), Outcome::kFailure);
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kSuccess);
}

TEST_F(LocalOtpTest, AnyOfSeveralSecretsAndDigitsMustMatch) {
  const authfile::Entry other = Totp("abcdefghijabcdefghij", 8);
  EXPECT_EQ(otp_.Verify(options_, "alice", {entry_, other}, CodeAt(other, kNow)),
            Outcome::kSuccess);
  // A 6-digit prefix of an 8-digit code is not accepted.
  EXPECT_EQ(otp_.Verify(options_, "alice", {other}, CodeAt(other, kNow + 30).substr(0, 6)),
            Outcome::kFailure);
}

TEST_F(LocalOtpTest, LockoutAfterMaxTriesThenExpires) {
  std::string why;
  EXPECT_EQ(Verify("000000"), Outcome::kFailure);
  EXPECT_EQ(Verify("000000"), Outcome::kFailure);
  EXPECT_EQ(Verify("000000", &why), Outcome::kFailure);
  EXPECT_EQ(why, "wrong code; locked out");
  EXPECT_EQ(otp_.CheckLockout(options_, "alice"), Outcome::kLockedOut);
  // Even the right code is not checked while locked out.
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kLockedOut);
  now_ = kNow + 61;
  EXPECT_EQ(otp_.CheckLockout(options_, "alice"), Outcome::kSuccess);
  EXPECT_EQ(Verify(CodeAt(entry_, kNow + 61)), Outcome::kSuccess);
  EXPECT_EQ(ParseState(gate::testing::ReadFile(StateFile())).value().failures, 0);
}

TEST_F(LocalOtpTest, SuccessResetsTheFailureCount) {
  EXPECT_EQ(Verify("000000"), Outcome::kFailure);
  EXPECT_EQ(Verify("000000"), Outcome::kFailure);
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kSuccess);
  EXPECT_EQ(Verify("000000"), Outcome::kFailure);
  EXPECT_EQ(Verify("000000"), Outcome::kFailure);
  EXPECT_EQ(otp_.CheckLockout(options_, "alice"), Outcome::kSuccess);
}

TEST_F(LocalOtpTest, CorruptStateFailsClosed) {
  ASSERT_EQ(Verify("000000"), Outcome::kFailure);  // creates the directory
  WriteFile(StateFile(), "garbage\n", 0600);
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kError);
  EXPECT_EQ(otp_.CheckLockout(options_, "alice"), Outcome::kError);
  WriteFile(StateFile(), "", 0600);  // truncated
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kError);
}

TEST_F(LocalOtpTest, UnsafeStateFilesFailClosed) {
  ASSERT_EQ(Verify("000000"), Outcome::kFailure);
  ASSERT_EQ(chmod(StateFile().c_str(), 0644), 0);
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kError);
  ASSERT_EQ(unlink(StateFile().c_str()), 0);
  WriteFile(dir_.File("elsewhere"), "v1 -1 0 0\n", 0600);
  ASSERT_EQ(symlink(dir_.File("elsewhere").c_str(), StateFile().c_str()), 0);
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kError);
  // A state directory others can enter is refused as well.
  ASSERT_EQ(unlink(StateFile().c_str()), 0);
  ASSERT_EQ(chmod(options_.state_dir.c_str(), 0755), 0);
  EXPECT_EQ(Verify(CodeAt(entry_, kNow)), Outcome::kError);
}

TEST_F(LocalOtpTest, ConcurrentUseOfOneCodeSucceedsOnce) {
  const std::string code = CodeAt(entry_, kNow);
  for (int round = 0; round < 20; ++round) {
    TempDir state;
    options_.state_dir = state.File("s");
    std::atomic<int> successes{0}, failures{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) {
        }
        const Outcome o = Verify(code);
        if (o == Outcome::kSuccess) ++successes;
        if (o == Outcome::kFailure) ++failures;
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(successes.load(), 1) << "round " << round;
    EXPECT_EQ(failures.load(), 1) << "round " << round;
  }
}

// The whole factor through a scripted conversation.
class ScriptedConversation : public Conversation {
 public:
  explicit ScriptedConversation(std::string answer, bool answers = true)
      : answer_(std::move(answer)), answers_(answers) {}
  bool PromptSecret(const std::string& prompt, SecretString* answer) override {
    prompts.push_back(prompt);
    if (!answers_) return false;
    *answer = SecretString(answer_);
    return true;
  }
  void Info(const std::string& text) override { infos.push_back(text); }
  void Error(const std::string& text) override { errors.push_back(text); }
  std::vector<std::string> prompts, infos, errors;

 private:
  std::string answer_;
  bool answers_;
};

class LocalOtpFactorTest : public LocalOtpTest {
 protected:
  Outcome Run(ScriptedConversation& conv, const std::string& gate_user = "alice") {
    FactorContext ctx{options_, conv, me_, gate_user, {}};
    return otp_.Authenticate(ctx);
  }
  std::string me_ = getpwuid(geteuid())->pw_name;
};

TEST_F(LocalOtpFactorTest, PromptsAndAccepts) {
  WriteFile(options_.authfile, std::string("alice:totp:sha1:6:") + kSecretB32 + "\n", 0600);
  ScriptedConversation conv(CodeAt(entry_, kNow));
  EXPECT_EQ(Run(conv), Outcome::kSuccess);
  ASSERT_EQ(conv.prompts.size(), 1u);
  EXPECT_EQ(conv.prompts[0], "Enter your OTP token: ");
  ScriptedConversation again(CodeAt(entry_, kNow));
  EXPECT_EQ(Run(again), Outcome::kFailure);
  ASSERT_EQ(again.errors.size(), 1u);
  EXPECT_NE(again.errors[0].find("already used"), std::string::npos);
}

TEST_F(LocalOtpFactorTest, NotEnrolledWithoutPrompting) {
  WriteFile(options_.authfile, std::string("bob:totp:sha1:6:") + kSecretB32 + "\n", 0600);
  ScriptedConversation conv("123456");
  EXPECT_EQ(Run(conv), Outcome::kNotEnrolled);
  EXPECT_TRUE(conv.prompts.empty());
  options_.authfile = dir_.File("absent");
  EXPECT_EQ(Run(conv), Outcome::kNotEnrolled);
}

TEST_F(LocalOtpFactorTest, UnsafeAuthfileIsAnError) {
  WriteFile(options_.authfile, std::string("alice:totp:sha1:6:") + kSecretB32 + "\n", 0644);
  ScriptedConversation conv(CodeAt(entry_, kNow));
  EXPECT_EQ(Run(conv), Outcome::kError);
  EXPECT_TRUE(conv.prompts.empty());
}

TEST_F(LocalOtpFactorTest, LockedOutWithoutPrompting) {
  WriteFile(options_.authfile, std::string("alice:totp:sha1:6:") + kSecretB32 + "\n", 0600);
  for (int i = 0; i < 3; ++i) {
    ScriptedConversation wrong("000000");
    Run(wrong);
  }
  ScriptedConversation conv(CodeAt(entry_, kNow));
  EXPECT_EQ(Run(conv), Outcome::kLockedOut);
  EXPECT_TRUE(conv.prompts.empty());
}

TEST_F(LocalOtpFactorTest, NoAnswerIsAnError) {
  WriteFile(options_.authfile, std::string("alice:totp:sha1:6:") + kSecretB32 + "\n", 0600);
  ScriptedConversation conv("", false);
  EXPECT_EQ(Run(conv), Outcome::kError);
}

TEST_F(LocalOtpFactorTest, BadGateUserNameIsAnError) {
  ScriptedConversation conv("123456");
  EXPECT_EQ(Run(conv, "../etc/passwd"), Outcome::kError);
}

}  // namespace
}  // namespace gate::pam
