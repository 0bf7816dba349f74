// The central OTP factor against a stand-in relay on a real Unix socket: what
// it sends, how each verdict maps to an Outcome, and what happens when the
// relay is missing, silent or talks nonsense. The relay itself (gate-node
// otp-relay) is tests/unit/sshd-hooks/otp_relay_server_test.cc; the whole
// chain through a real gate-ca is tests/integration/test_pam_central.py.
#include "pam_module/otp_central.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "gate/unique_fd.h"

namespace gate::pam {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;

// Listens on dir/relay.sock and answers one connection with `reply` (or,
// when it is empty, by closing without a word, or, with hang, by never
// answering). What it read is kept.
class FakeRelay {
 public:
  FakeRelay(const TempDir& dir, std::string reply, bool hang = false)
      : path_(dir.File("relay.sock")) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    listener_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_.get(), 4) != 0) {
      std::abort();
    }
    thread_ = std::thread([this, reply = std::move(reply), hang] {
      UniqueFd conn(::accept(listener_.get(), nullptr, nullptr));
      char buf[1024];
      const ssize_t n = ::read(conn.get(), buf, sizeof buf);
      if (n > 0) received_.assign(buf, static_cast<std::size_t>(n));
      if (hang) {
        char ignored;
        (void)::read(conn.get(), &ignored, 1);  // until the client gives up
        return;
      }
      if (!reply.empty()) (void)::write(conn.get(), reply.data(), reply.size());
    });
  }
  ~FakeRelay() { thread_.join(); }
  const std::string& path() const { return path_; }
  // After the exchange (the factor has returned).
  const std::string& received() const { return received_; }

 private:
  std::string path_;
  UniqueFd listener_;
  std::string received_;
  std::thread thread_;
};

class ScriptedConversation : public Conversation {
 public:
  bool PromptSecret(const std::string& prompt, SecretString* answer) override {
    prompts.push_back(prompt);
    if (!answer_) return false;
    *answer = SecretString(*answer_);
    return true;
  }
  void Info(const std::string&) override {}
  void Error(const std::string&) override {}

  std::optional<std::string> answer_;
  std::vector<std::string> prompts;
};

struct FactorRun {
  Outcome outcome;
  std::vector<std::string> prompts;
};

FactorRun Authenticate(const std::string& relay, std::optional<std::string> typed,
                       std::chrono::milliseconds timeout = 2000ms) {
  Options options;
  options.relay = relay;
  options.timeout = timeout;
  ScriptedConversation conv;
  conv.answer_ = std::move(typed);
  FactorContext context{options, conv, "root", "alice", {}};
  const Outcome outcome = MakeCentralOtp()->Authenticate(context);
  return {outcome, conv.prompts};
}

TEST(CentralOtpTest, SendsOneRequestLineAndMapsEachVerdict) {
  const std::vector<std::pair<std::string, Outcome>> cases = {
      {"accepted alice code accepted\n", Outcome::kSuccess},
      // Only a yes about this very user.
      {"accepted bob code accepted\n", Outcome::kError},
      {"accepted - \n", Outcome::kError},
      {"refused alice wrong or reused code (HTTP 401)\n", Outcome::kFailure},
      {"locked-out alice locked out (HTTP 429)\n", Outcome::kLockedOut},
      {"unavailable alice cannot reach https://grav-00:3080: refused\n", Outcome::kUnavailable},
      {"error alice cannot use the node credentials\n", Outcome::kError},
      {"error - caller uid 1000 may not ask\n", Outcome::kError},
      // Malformed replies are errors, never a success.
      {"ok alice\n", Outcome::kError},
      {"accepted\n", Outcome::kError},
      {"ACCEPTED alice x\n", Outcome::kError},
      {"accepted alice code accepted", Outcome::kUnavailable},  // no newline: cut short
      {"", Outcome::kUnavailable},                              // closed unanswered
  };
  for (const auto& [reply, want] : cases) {
    TempDir dir;
    std::optional<FakeRelay> relay;
    relay.emplace(dir, reply);
    const FactorRun run = Authenticate(relay->path(), "123456");
    EXPECT_EQ(run.outcome, want) << reply;
    EXPECT_EQ(run.prompts, std::vector<std::string>{kOtpPrompt});
    relay.reset();  // joins: received() is complete
  }
}

TEST(CentralOtpTest, RequestCarriesUserCodeAndTimeout) {
  TempDir dir;
  std::string received;
  {
    FakeRelay relay(dir, "accepted alice ok\n");
    EXPECT_EQ(Authenticate(relay.path(), "654321", 750ms).outcome, Outcome::kSuccess);
    // The relay thread has read the request by the time it answered.
    received = relay.received();
  }
  EXPECT_EQ(received, "verify alice 654321 750\n");
}

TEST(CentralOtpTest, MissingRelayIsUnavailableBeforeAnyPrompt) {
  TempDir dir;
  const FactorRun run = Authenticate(dir.File("relay.sock"), "123456");
  EXPECT_EQ(run.outcome, Outcome::kUnavailable);
  EXPECT_TRUE(run.prompts.empty());
  // Something that is not a socket at the path is no relay either.
  testing::WriteFile(dir.File("file"), "x", 0600);
  EXPECT_EQ(Authenticate(dir.File("file"), "123456").outcome, Outcome::kUnavailable);
}

TEST(CentralOtpTest, SilentRelayTimesOutAsUnavailable) {
  TempDir dir;
  FakeRelay relay(dir, "", /*hang=*/true);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Authenticate(relay.path(), "123456", 100ms).outcome, Outcome::kUnavailable);
  // timeout= plus the grace, not forever (a generous bound, not a timing test).
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(CentralOtpTest, NotACodeIsRefusedWithoutAsking) {
  for (const char* typed : {"", "12a456", "123456 ", "12345678901234567"}) {
    TempDir dir;
    FakeRelay relay(dir, "accepted alice ok\n");
    EXPECT_EQ(Authenticate(relay.path(), typed).outcome, Outcome::kFailure) << typed;
    // Unblock the stand-in, which is still waiting for a connection.
    auto r = AskRelay(relay.path(), "alice", SecretString("1"), 1000ms);
    EXPECT_TRUE(r.has_value());
  }
}

TEST(CentralOtpTest, NoAnswerIsAnError) {
  TempDir dir;
  FakeRelay relay(dir, "accepted alice ok\n");
  EXPECT_EQ(Authenticate(relay.path(), std::nullopt).outcome, Outcome::kError);
  (void)AskRelay(relay.path(), "alice", SecretString("1"), 1000ms);
}

TEST(CentralOutcomeTest, TransportErrors) {
  EXPECT_EQ(CentralOutcome(Err(Unavailable("timed out")), "alice"), Outcome::kUnavailable);
  EXPECT_EQ(CentralOutcome(Err(InvalidArgument("malformed reply")), "alice"), Outcome::kError);
}

}  // namespace
}  // namespace gate::pam
