// The event loop with real ptys and real child processes: exit statuses,
// signals, hangups, window sizes, input recording, flow control, exec pipes
// and the live-join hub's wiring.
#include "recorder/session/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/recording_test_util.h"
#include "common/test_util.h"
#include "gate/asciicast.h"
#include "gate/fault_env.h"
#include "recorder/session/cast_sink.h"
#include "recorder/session/child.h"
#include "recorder/session/pty.h"
#include "recorder/session/session_files.h"
#include "recorder_test_util.h"

namespace gate::recorder {
namespace {

using testing::MemorySink;
using testing::ReadToEof;
using testing::ReadUntil;
using testing::WriteAllTo;

ChildSpec Shell(const std::string& script) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.argv = {"sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "TERM=dumb", "LC_ALL=C"};
  return spec;
}

// A hub that feeds one pipe's bytes into the session as a peer's
// keystrokes, announces itself once, and keeps what it was given.
class FakeHub final : public JoinHub {
 public:
  FakeHub(int peer_fd, JoinCallbacks callbacks)
      : peer_fd_(peer_fd), callbacks_(std::move(callbacks)) {}
  void AppendPollFds(std::vector<pollfd>& fds) const override {
    if (peer_fd_ >= 0) fds.push_back({peer_fd_, POLLIN, 0});
  }
  void HandlePoll(const std::vector<pollfd>& fds, std::size_t first) override {
    if (!announced_) {
      announced_ = true;
      callbacks_.notice("\r\n[gate] bob joined as peer\r\n");  // as the hub frames it
      callbacks_.record(R"({"event":"join","user":"bob","mode":"peer"})");
    }
    if (peer_fd_ < 0 || first >= fds.size() || fds[first].revents == 0) return;
    char buf[256];
    const ssize_t n = read(peer_fd_, buf, sizeof(buf));
    if (n <= 0) {
      peer_fd_ = -1;
      return;
    }
    callbacks_.input(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  void Output(std::string_view bytes) override { output += bytes; }
  void End(std::string_view exit_json) override { ended = exit_json; }
  std::size_t joiners() const override { return 1; }

  std::string output;
  std::optional<std::string> ended;

 private:
  int peer_fd_;
  JoinCallbacks callbacks_;
  bool announced_ = false;
};

class EventLoopTest : public ::testing::Test {
 protected:
  // A pty session: the outer terminal is two pipes (in_, out_).
  void StartPty(const std::string& script, LoopOptions options = {}, int winsize_from = -1) {
    auto signal_fd = BlockSessionSignals();
    ASSERT_TRUE(signal_fd.has_value());
    auto master = OpenPtyMaster();
    ASSERT_TRUE(master.has_value());
    winsize ws{};
    ws.ws_col = 80;
    ws.ws_row = 24;
    ASSERT_TRUE(SetWindowSize(master->get(), ws).ok());
    ChildSpec spec = Shell(script);
    spec.pty_master = master->get();
    auto child = Child::Spawn(spec);
    ASSERT_TRUE(child.has_value()) << child.error().ToString();
    LoopFds fds;
    fds.master = std::move(*master);
    fds.outer_in = in_.read.get();
    fds.outer_out = out_.write.get();
    fds.winsize_from = winsize_from;
    Start(std::move(fds), std::move(*signal_fd), *child, options);
  }

  // A session without a terminal as gate-record runs it: the child's stdin,
  // stdout and stderr are pipes the loop relays from in_ and to out_ and
  // outer_err_. With loop_owns_outer the loop closes out_ and outer_err_'s
  // write ends at the child's EOF.
  void StartExec(const std::string& script, LoopOptions options, bool loop_owns_outer = true) {
    auto signal_fd = BlockSessionSignals();
    ASSERT_TRUE(signal_fd.has_value());
    testing::Pipe child_in = testing::Pipe::Make();
    testing::Pipe child_out = testing::Pipe::Make();
    testing::Pipe child_err = testing::Pipe::Make();
    ChildSpec spec = Shell(script);
    spec.stdin_fd = child_in.read.get();
    spec.stdout_fd = child_out.write.get();
    spec.stderr_fd = child_err.write.get();
    auto child = Child::Spawn(spec);
    ASSERT_TRUE(child.has_value());
    LoopFds fds;
    fds.child_stdin = std::move(child_in.write);
    fds.child_stdout = std::move(child_out.read);
    fds.child_stderr = std::move(child_err.read);
    fds.outer_in = in_.read.get();
    fds.outer_out = loop_owns_outer ? out_.write.Release() : out_.write.get();
    fds.outer_err = loop_owns_outer ? outer_err_.write.Release() : outer_err_.write.get();
    Start(std::move(fds), std::move(*signal_fd), *child, options);
  }

  void Start(LoopFds fds, UniqueFd signal_fd, Child& child, LoopOptions options) {
    options.child = child.pid();
    options.start = std::chrono::steady_clock::now();
    RecordingSink& sink = cast_sink_ ? *cast_sink_ : static_cast<RecordingSink&>(sink_);
    auto loop = EventLoop::Create(std::move(fds), options, std::move(signal_fd), sink);
    ASSERT_TRUE(loop.has_value()) << loop.error().ToString();
    loop_ = std::move(*loop);
    if (hub_peer_.has_value()) {
      auto hub = std::make_unique<FakeHub>(hub_peer_->read.get(), loop_->HubCallbacks());
      hub_ = hub.get();
      loop_->AttachHub(std::move(hub));
    }
    child.Release();
    thread_ = std::thread([this] { end_ = loop_->Run(); });
  }

  // Waits for the loop to end (the child's exit ends it).
  void Finish() {
    if (thread_.joinable()) thread_.join();
  }

  void TearDown() override { Finish(); }

  // The production sink: cast::Writer on <spool>/<id>.cast, created through
  // env as gate-record creates it.
  void UseRecording(Env& env) {
    recording_path_ = RecordingPath(spool_.path(), session_id_);
    auto file = CreateRecordingFile(env, spool_.path(), session_id_);
    ASSERT_TRUE(file.has_value()) << file.error().ToString();
    const cast::Header header =
        testing::TestHeader(session_id_, "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab");
    auto writer = cast::Writer::Create(std::move(*file), header, key_);
    ASSERT_TRUE(writer.has_value()) << writer.error().ToString();
    cast_sink_ = MakeCastSink(std::move(*writer));
  }

  // The recording as the uploader would find it after the session.
  cast::Verification VerifyRecording() {
    const std::string file = testing::ReadFile(recording_path_);
    EXPECT_FALSE(file.empty());
    EXPECT_EQ(file.back(), '\n') << "no half line";
    auto v = cast::Verify(file, key_.public_key());
    EXPECT_TRUE(v.has_value()) << v.error().ToString();
    if (v) {
      EXPECT_EQ(v->verified_bytes, file.size()) << "every byte covered";
    }
    return v.value_or(cast::Verification{});
  }

  testing::TempDir spool_{0700};
  const std::string session_id_ = NewSessionId().value();
  const ssh::Ed25519PrivateKey key_ = ssh::Ed25519PrivateKey::Generate().value();
  std::string recording_path_;

  // First member: restored last, after the loop thread has ended.
  testing::SavedSignalState signals_;
  testing::Pipe in_ = testing::Pipe::Make();
  testing::Pipe out_ = testing::Pipe::Make();
  testing::Pipe outer_err_ = testing::Pipe::Make();
  std::optional<testing::Pipe> hub_peer_;
  FakeHub* hub_ = nullptr;
  MemorySink sink_;
  // When set (UseRecording), the loop writes a real recording instead.
  std::unique_ptr<RecordingSink> cast_sink_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  SessionEnd end_;
  std::string seen_;
};

TEST_F(EventLoopTest, ExitStatusPropagates) {
  StartPty("printf 'hello-%s' $((6*7)); exit 3");
  Finish();
  EXPECT_EQ(end_.exit_code, 3);
  EXPECT_EQ(end_.exit_json, R"({"exit_status":3})");
  EXPECT_FALSE(end_.hung_up);
  EXPECT_TRUE(end_.recording.ok());
  EXPECT_EQ(sink_.All('o'), "hello-42");
  ASSERT_FALSE(sink_.events.empty());
  EXPECT_EQ(sink_.events.back().type, 'x');
  EXPECT_EQ(sink_.events.back().data, R"({"exit_status":3})");
  EXPECT_TRUE(sink_.closed);
  out_.write.Reset();
  ReadToEof(out_.read.get(), &seen_);
  EXPECT_EQ(seen_, "hello-42");
}

TEST_F(EventLoopTest, DeathBySignalIs128PlusSigno) {
  StartPty("kill -TERM $$");
  Finish();
  EXPECT_EQ(end_.exit_code, 128 + SIGTERM);
  EXPECT_EQ(end_.exit_json, R"({"signal":"TERM"})");
  EXPECT_EQ(sink_.All('x'), R"({"signal":"TERM"})");
}

TEST_F(EventLoopTest, NoZombieIsLeft) {
  StartPty("sleep 0 & exit 0");
  Finish();
  EXPECT_EQ(end_.exit_code, 0);
  // The session's child was reaped; so was its own finished child, or it
  // was reparented: either way we have nothing left to wait for.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(EventLoopTest, InputIsRecordedOnlyWhileTheTerminalEchoes) {
  LoopOptions options;
  options.record_input = true;
  StartPty(
      "printf R1; read a; stty -echo; printf R2; read b; stty echo; printf '[%s/%s]' \"$a\" \"$b\"",
      options);
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "R1"));
  WriteAllTo(in_.write.get(), "visible\n");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "R2"));
  WriteAllTo(in_.write.get(), "secret\n");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "]"));
  Finish();
  EXPECT_NE(seen_.find("[visible/secret]"), std::string::npos) << seen_;
  EXPECT_EQ(sink_.All('i'), "visible\n");
  EXPECT_EQ(sink_.All('o').find("secret\r\n"), std::string::npos);  // not echoed either
  EXPECT_EQ(end_.exit_code, 0);
}

TEST_F(EventLoopTest, InputIsNotRecordedWhenOff) {
  StartPty("printf R1; read a; printf '[%s]' \"$a\"");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "R1"));
  WriteAllTo(in_.write.get(), "typed\n");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "[typed]"));
  Finish();
  EXPECT_EQ(sink_.Count('i'), 0);
}

TEST_F(EventLoopTest, SlowTerminalLosesNoBytes) {
  // The outer side takes 4 KiB at a time and is read in small bites, so the
  // loop's writes come up short and hit EAGAIN; every byte still arrives,
  // in order, and the recording has exactly the same bytes.
  ASSERT_EQ(fcntl(out_.write.get(), F_SETFL, O_NONBLOCK), 0);
  (void)fcntl(out_.write.get(), F_SETPIPE_SZ, 4096);
  StartPty(
      "stty -onlcr; i=0; while [ $i -lt 2000 ]; do printf "
      "'%05d:0123456789abcdef0123456789abcdef0123456789abcdef\\n' $i; i=$((i+1)); done; printf "
      "END");
  char buf[100];
  while (seen_.find("END") == std::string::npos) {
    pollfd p{out_.read.get(), POLLIN, 0};
    ASSERT_GT(poll(&p, 1, 30000), 0);
    const ssize_t n = read(out_.read.get(), buf, sizeof(buf));
    ASSERT_GT(n, 0);
    seen_.append(buf, static_cast<std::size_t>(n));
  }
  Finish();
  std::string expected;
  char line[80];
  for (int i = 0; i < 2000; ++i) {
    std::snprintf(line, sizeof(line), "%05d:0123456789abcdef0123456789abcdef0123456789abcdef\n", i);
    expected += line;
  }
  expected += "END";
  EXPECT_EQ(seen_.size(), expected.size());
  EXPECT_TRUE(seen_ == expected);
  EXPECT_TRUE(sink_.All('o') == expected);
}

TEST_F(EventLoopTest, WindowSizeFollowsTheOuterTerminal) {
  auto outer = OpenPtyMaster();
  ASSERT_TRUE(outer.has_value());
  auto outer_slave = OpenPtySlave(outer->get());
  ASSERT_TRUE(outer_slave.has_value());
  winsize ws{};
  ws.ws_col = 80;
  ws.ws_row = 24;
  ASSERT_TRUE(SetWindowSize(outer->get(), ws).ok());
  StartPty("printf READY; read x; stty size", {}, outer_slave->get());
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  ws.ws_col = 132;
  ws.ws_row = 50;
  ASSERT_TRUE(SetWindowSize(outer->get(), ws).ok());
  // The kernel signals the outer terminal's foreground group; the test is
  // not in it, so it sends the SIGWINCH sshd's pty would have sent.
  ASSERT_EQ(kill(getpid(), SIGWINCH), 0);
  WriteAllTo(in_.write.get(), "\n");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "50 132"));
  Finish();
  EXPECT_EQ(sink_.All('r'), "132x50");
  // A SIGWINCH without a change records nothing more.
}

TEST_F(EventLoopTest, SighupHangsUpTheShell) {
  StartPty("printf READY; read x; echo not-reached");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  ASSERT_EQ(kill(getpid(), SIGHUP), 0);
  Finish();
  EXPECT_TRUE(end_.hung_up);
  EXPECT_EQ(end_.exit_code, 128 + SIGHUP);
  EXPECT_EQ(sink_.All('x'), R"({"signal":"HUP"})");
  EXPECT_EQ(sink_.All('o').find("not-reached"), std::string::npos);
}

TEST_F(EventLoopTest, SigtermHangsUpTheShell) {
  StartPty("printf READY; read x");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  Finish();
  EXPECT_TRUE(end_.hung_up);
  EXPECT_EQ(end_.exit_code, 128 + SIGHUP);
}

TEST_F(EventLoopTest, SigintDoesNotEndTheSession) {
  StartPty("printf READY; read x; printf '<%s>' \"$x\"; exit 4");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  WriteAllTo(in_.write.get(), "still-here\n");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "<still-here>"));
  Finish();
  EXPECT_FALSE(end_.hung_up);
  EXPECT_EQ(end_.exit_code, 4);
}

TEST_F(EventLoopTest, OuterTerminalGoingAwayHangsUpTheShell) {
  StartPty("printf READY; read x; read y");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  in_.write.Reset();  // EOF on the outer stdin
  Finish();
  EXPECT_TRUE(end_.hung_up);
  EXPECT_EQ(end_.exit_json, R"({"signal":"HUP"})");
}

TEST_F(EventLoopTest, RecordingFailureEndsTheSession) {
  sink_.fail_flush = true;
  LoopOptions options;
  options.flush_interval = std::chrono::milliseconds(10);
  StartPty("printf READY; read x; echo not-reached", options);
  Finish();  // the first flush fails and hangs up the shell
  EXPECT_FALSE(end_.recording.ok());
  EXPECT_NE(end_.recording.message().find("disk full"), std::string::npos);
  EXPECT_EQ(end_.exit_code, 128 + SIGHUP);
  out_.write.Reset();
  ReadToEof(out_.read.get(), &seen_);
  EXPECT_NE(seen_.find("recording failed"), std::string::npos) << seen_;
  // Output reaches the user only once it is in the recording.
  EXPECT_EQ(seen_.find("READY"), std::string::npos) << seen_;
}

// The same with the real writer on a disk that fills up during the
// session: the session ends at once with the system's reason on the user's
// terminal, and the file left for the uploader verifies, cut short, with
// no half line and nothing past the last good checkpoint.
TEST_F(EventLoopTest, FullDiskEndsTheSessionAndLeavesARecordingThatVerifiesCutShort) {
  FaultEnv env;
  UseRecording(env);
  env.FailAll(FaultOp::kWrite, ENOSPC);
  LoopOptions options;
  options.flush_interval = std::chrono::milliseconds(10);
  StartPty("printf READY; read x; echo not-reached", options);
  Finish();
  EXPECT_EQ(end_.recording.code(), Code::kResourceExhausted);
  EXPECT_NE(end_.recording.message().find("cannot write " + recording_path_ +
                                          ": No space left on device"),
            std::string::npos)
      << end_.recording.message();
  EXPECT_EQ(end_.exit_code, 128 + SIGHUP);
  out_.write.Reset();
  ReadToEof(out_.read.get(), &seen_);
  EXPECT_NE(seen_.find("gate-record: the recording failed (cannot write " + recording_path_ +
                       ": No space left on device"),
            std::string::npos)
      << seen_;
  EXPECT_EQ(seen_.find("not-reached"), std::string::npos) << seen_;
  const cast::Verification v = VerifyRecording();
  EXPECT_EQ(v.state, cast::Verification::State::kCutShort);
  EXPECT_EQ(testing::ReadFile(recording_path_).find("READY"), std::string::npos);
}

// A session that ran to its end, but whose final fsync failed: the session's
// own exit stands, the error is reported, and the recording does not claim
// to be complete (its end may not be on disk).
TEST_F(EventLoopTest, FailedFinalFsyncLeavesARecordingThatDoesNotClaimToBeComplete) {
  FaultEnv env;
  UseRecording(env);
  env.FailAll(FaultOp::kSync, EIO);
  LoopOptions options;
  options.flush_interval = std::chrono::milliseconds(10);
  StartPty("printf READY; read x; printf done", options);
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  WriteAllTo(in_.write.get(), "\n");
  Finish();
  EXPECT_EQ(end_.exit_code, 0);
  EXPECT_EQ(end_.recording.code(), Code::kUnavailable);
  EXPECT_NE(
      end_.recording.message().find("cannot fsync " + recording_path_ + ": Input/output error"),
      std::string::npos)
      << end_.recording.message();
  EXPECT_EQ(VerifyRecording().state, cast::Verification::State::kCutShort);
}

// Without faults the same recording is complete.
TEST_F(EventLoopTest, RealRecordingOfASessionIsComplete) {
  FaultEnv env;
  UseRecording(env);
  StartPty("printf done");
  Finish();
  EXPECT_TRUE(end_.recording.ok()) << end_.recording.ToString();
  EXPECT_EQ(VerifyRecording().state, cast::Verification::State::kComplete);
  EXPECT_NE(testing::ReadFile(recording_path_).find("done"), std::string::npos);
}

TEST_F(EventLoopTest, FlushesWhatWasBuffered) {
  LoopOptions options;
  options.flush_interval = std::chrono::milliseconds(10);
  StartPty("printf READY; read x", options);
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  WriteAllTo(in_.write.get(), "\n");
  Finish();
  EXPECT_GE(sink_.flushes, 1);  // at least the close
  EXPECT_TRUE(sink_.closed);
}

TEST_F(EventLoopTest, HubSeesOutputFeedsInputAndRecordsJoins) {
  hub_peer_ = testing::Pipe::Make();
  StartPty("stty -echo; printf READY; read x; printf 'got:%s' \"$x\"");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  WriteAllTo(hub_peer_->write.get(), "peer-typed\n");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "got:peer-typed"));
  Finish();
  ASSERT_NE(hub_, nullptr);
  EXPECT_NE(hub_->output.find("got:peer-typed"), std::string::npos) << hub_->output;
  ASSERT_TRUE(hub_->ended.has_value());
  EXPECT_EQ(*hub_->ended, R"({"exit_status":0})");
  EXPECT_EQ(sink_.All('j'), R"({"event":"join","user":"bob","mode":"peer"})");
  EXPECT_NE(seen_.find("\r\n[gate] bob joined as peer\r\n"), std::string::npos) << seen_;
  // Notices are for the owner's terminal, not the recording.
  EXPECT_EQ(sink_.All('o').find("bob joined"), std::string::npos);
}

TEST_F(EventLoopTest, ExecWithPipesRecordsOutputAndPassesEof) {
  auto signal_fd = BlockSessionSignals();
  ASSERT_TRUE(signal_fd.has_value());
  testing::Pipe child_out = testing::Pipe::Make();
  testing::Pipe child_err = testing::Pipe::Make();
  testing::Pipe outer_err = testing::Pipe::Make();
  ChildSpec spec = Shell("printf out-text; printf err-text >&2; exec >&- 2>&-; exit 5");
  spec.stdout_fd = child_out.write.get();
  spec.stderr_fd = child_err.write.get();
  auto child = Child::Spawn(spec);
  ASSERT_TRUE(child.has_value());
  child_out.write.Reset();
  child_err.write.Reset();
  LoopFds fds;
  fds.child_stdout = std::move(child_out.read);
  fds.child_stderr = std::move(child_err.read);
  fds.outer_out = out_.write.Release();  // the loop closes these at the child's EOF
  fds.outer_err = outer_err.write.Release();
  LoopOptions options;
  options.record_exec_output = true;
  Start(std::move(fds), std::move(*signal_fd), *child, options);
  // EOF arrives from the loop, not from us.
  ReadToEof(out_.read.get(), &seen_);
  std::string err;
  ReadToEof(outer_err.read.get(), &err);
  Finish();
  EXPECT_EQ(seen_, "out-text");
  EXPECT_EQ(err, "err-text");
  EXPECT_EQ(end_.exit_code, 5);
  const std::string recorded = sink_.All('o');
  EXPECT_NE(recorded.find("out-text"), std::string::npos);
  EXPECT_NE(recorded.find("err-text"), std::string::npos);
}

TEST_F(EventLoopTest, ExecInputIsRelayedRecordedAndCounted) {
  LoopOptions options;
  options.record_exec_input = true;
  options.record_exec_output = true;
  options.count_bytes = true;
  StartExec("cat; printf done", options);
  WriteAllTo(in_.write.get(), "typed-input\n");
  in_.write.Reset();  // the client's EOF reaches cat through the loop
  ReadToEof(out_.read.get(), &seen_);
  Finish();
  EXPECT_EQ(seen_, "typed-input\ndone");
  EXPECT_EQ(sink_.All('i'), "typed-input\n");
  EXPECT_EQ(sink_.All('o'), "typed-input\ndone");
  EXPECT_EQ(end_.bytes_in, 12u);
  EXPECT_EQ(end_.bytes_out, 16u);
  EXPECT_EQ(sink_.All('x'), R"({"exit_status":0,"bytes_in":12,"bytes_out":16})");
}

TEST_F(EventLoopTest, TransferIsCountedNotRecorded) {
  LoopOptions options;
  options.count_bytes = true;
  options.exit_note = R"("transfer":"sftp")";
  StartExec("cat >/dev/null; printf 0123456789; printf xy >&2", options);
  WriteAllTo(in_.write.get(), std::string(100000, 'd'));
  in_.write.Reset();
  ReadToEof(out_.read.get(), &seen_);
  Finish();
  EXPECT_EQ(seen_, "0123456789");
  EXPECT_EQ(sink_.Count('i') + sink_.Count('o'), 0);
  EXPECT_EQ(sink_.All('x'),
            R"({"exit_status":0,"transfer":"sftp","bytes_in":100000,"bytes_out":12})");
}

TEST_F(EventLoopTest, ExecEndsWithTheChildEvenWhileTheClientKeepsStdinOpen) {
  StartExec("printf bye; exit 2", {});  // in_.write is never closed
  ReadToEof(out_.read.get(), &seen_);
  Finish();
  EXPECT_EQ(seen_, "bye");
  EXPECT_EQ(end_.exit_code, 2);
}

TEST_F(EventLoopTest, ExecOutputIsNotShownWhenItCannotBeRecorded) {
  sink_.fail_flush = true;
  LoopOptions options;
  options.record_exec_input = true;
  options.record_exec_output = true;
  // The outer ends stay ours: a failed session passes no EOF on.
  StartExec("printf secret-output", options, /*loop_owns_outer=*/false);
  Finish();
  EXPECT_FALSE(end_.recording.ok());
  out_.write.Reset();
  outer_err_.write.Reset();
  ReadToEof(out_.read.get(), &seen_);
  std::string err;
  ReadToEof(outer_err_.read.get(), &err);
  EXPECT_EQ(seen_, "");
  EXPECT_NE(err.find("gate-record: the recording failed (disk full)"), std::string::npos) << err;
}

TEST_F(EventLoopTest, ExecWithoutRecordedOutputOnlyWaits) {
  auto signal_fd = BlockSessionSignals();
  ASSERT_TRUE(signal_fd.has_value());
  ChildSpec spec = Shell("exit 7");
  auto child = Child::Spawn(spec);
  ASSERT_TRUE(child.has_value());
  Start(LoopFds{}, std::move(*signal_fd), *child, {});
  Finish();
  EXPECT_EQ(end_.exit_code, 7);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].type, 'x');
}

TEST_F(EventLoopTest, BackgroundJobHoldingThePtyDoesNotKeepTheSession) {
  // The shell leaves a job that holds the pty; after drain_grace the loop
  // closes the master, which hangs the job up.
  LoopOptions options;
  options.drain_grace = std::chrono::milliseconds(50);
  StartPty("trap '' HUP; sleep 5 & printf bye; exit 0", options);
  Finish();
  EXPECT_EQ(end_.exit_code, 0);
  EXPECT_EQ(sink_.All('o'), "bye");
}

// gate-node's SIGUSR1 after a sync that brought a lock: the loop asks the
// re-check, and a covered session is told why, recorded and hung up.
TEST_F(EventLoopTest, RecheckThatFindsALockEndsTheSessionAndSaysWhy) {
  FaultEnv env;
  UseRecording(env);
  LoopOptions options;
  options.recheck = [] {
    return std::optional<PolicyEnding>(
        PolicyEnding{"locked", "your access was locked by an administrator: incident 42"});
  };
  StartPty("printf READY; read x; echo not-reached", options);
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "ending the session\r\n"));
  Finish();
  EXPECT_TRUE(end_.hung_up);
  ASSERT_TRUE(end_.ended_by.has_value());
  EXPECT_EQ(end_.ended_by->cause, "locked");
  EXPECT_EQ(end_.exit_code, 128 + SIGHUP);
  EXPECT_NE(seen_.find("gate-record: your access was locked by an administrator: incident 42; "
                       "ending the session"),
            std::string::npos)
      << seen_;
  EXPECT_EQ(seen_.find("not-reached"), std::string::npos);
  // The recording says so, and is complete: the notice as output, the
  // cause and reason in the "x" event.
  EXPECT_EQ(VerifyRecording().state, cast::Verification::State::kComplete);
  const std::string file = testing::ReadFile(recording_path_);
  EXPECT_NE(file.find("your access was locked by an administrator: incident 42; ending"),
            std::string::npos);
  EXPECT_NE(file.find(R"(\"ended_by\":\"locked\")"), std::string::npos) << file;
  EXPECT_NE(file.find(R"(\"reason\":\"your access was locked by an administrator: incident 42\")"),
            std::string::npos);
}

TEST_F(EventLoopTest, RecheckThatFindsNothingLetsTheSessionGoOn) {
  int rechecks = 0;
  LoopOptions options;
  options.recheck = [&rechecks] {
    ++rechecks;
    return std::optional<PolicyEnding>();
  };
  StartPty("printf READY; read x; printf '<%s>' \"$x\"; exit 4", options);
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  WriteAllTo(in_.write.get(), "go\n");
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "<go>"));
  Finish();
  EXPECT_EQ(rechecks, 1);
  EXPECT_FALSE(end_.ended_by.has_value());
  EXPECT_EQ(end_.exit_code, 4);
  EXPECT_EQ(sink_.All('x'), R"({"exit_status":4})");
}

TEST_F(EventLoopTest, RecheckEndsASessionWithoutATerminalOnItsStderr) {
  LoopOptions options;
  options.recheck = [] {
    return std::optional<PolicyEnding>(PolicyEnding{"revoked", "your certificate was revoked"});
  };
  options.count_bytes = true;
  StartExec("printf READY; exec cat >/dev/null", options);
  ASSERT_TRUE(ReadUntil(out_.read.get(), &seen_, "READY"));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  std::string err;
  ASSERT_TRUE(ReadUntil(outer_err_.read.get(), &err, "ending the session\n"));
  Finish();
  EXPECT_EQ(err, "gate-record: your certificate was revoked; ending the session\n");
  EXPECT_EQ(end_.exit_code, 0) << "cat saw EOF";
  const std::string x = sink_.All('x');
  EXPECT_NE(x.find(R"("ended_by":"revoked","reason":"your certificate was revoked")"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find(R"("bytes_in":)"), std::string::npos);
}

}  // namespace
}  // namespace gate::recorder
