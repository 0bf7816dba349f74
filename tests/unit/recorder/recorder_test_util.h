// Fixtures for the recorder tests: an in-memory RecordingSink and a real
// session (a shell in a real pty, driven through pipes as the outer
// terminal, with the event loop on a second thread).
#ifndef GATE_TESTS_UNIT_RECORDER_RECORDER_TEST_UTIL_H_
#define GATE_TESTS_UNIT_RECORDER_RECORDER_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gate/unique_fd.h"
#include "recorder/session/recording_sink.h"

namespace gate::testing {

// Every event, in order. Flush can be made to fail.
class MemorySink final : public recorder::RecordingSink {
 public:
  struct Event {
    char type;
    std::string data;
  };

  void Output(double, std::string_view b) override { Add('o', b); }
  void Input(double, std::string_view b) override { Add('i', b); }
  void Resize(double, int cols, int rows) override {
    Add('r', std::to_string(cols) + "x" + std::to_string(rows));
  }
  void Join(double, std::string_view json) override { Add('j', json); }
  void Exit(double, std::string_view json) override { Add('x', json); }
  Status Flush(double) override {
    ++flushes;
    if (fail_flush) return Unavailable("disk full");
    buffered = 0;
    return Status::Ok();
  }
  Status Close(double t) override {
    closed = true;
    return Flush(t);
  }
  std::size_t buffered_bytes() const override { return buffered; }

  // All data of one type, concatenated.
  std::string All(char type) const {
    std::string out;
    for (const Event& e : events) {
      if (e.type == type) out += e.data;
    }
    return out;
  }
  int Count(char type) const {
    int n = 0;
    for (const Event& e : events) n += e.type == type;
    return n;
  }

  std::vector<Event> events;
  std::size_t buffered = 0;
  int flushes = 0;
  bool fail_flush = false;
  bool closed = false;

 private:
  void Add(char type, std::string_view data) {
    events.push_back({type, std::string(data)});
    buffered += data.size() + 1;
  }
};

// Saves the signal mask and the dispositions BlockSessionSignals changes,
// and puts them back (after discarding what is pending), so that later
// tests in this binary, and the processes they start, are not left with
// SIGTERM blocked or SIGPIPE ignored.
class SavedSignalState {
 public:
  SavedSignalState() {
    sigprocmask(SIG_BLOCK, nullptr, &mask_);
    for (std::size_t i = 0; i < kCount; ++i) sigaction(kSignals[i], nullptr, &actions_[i]);
  }
  ~SavedSignalState() {
    sigset_t pending;
    sigemptyset(&pending);
    for (int sig : kSignals) sigaddset(&pending, sig);
    const timespec zero{};
    while (sigtimedwait(&pending, nullptr, &zero) > 0) {
    }
    for (std::size_t i = 0; i < kCount; ++i) sigaction(kSignals[i], &actions_[i], nullptr);
    sigprocmask(SIG_SETMASK, &mask_, nullptr);
  }
  SavedSignalState(const SavedSignalState&) = delete;
  SavedSignalState& operator=(const SavedSignalState&) = delete;

 private:
  static constexpr int kSignals[] = {SIGCHLD, SIGWINCH, SIGHUP,  SIGTERM, SIGINT, SIGQUIT,
                                     SIGUSR1, SIGPIPE,  SIGTSTP, SIGTTIN, SIGTTOU};
  static constexpr std::size_t kCount = sizeof(kSignals) / sizeof(kSignals[0]);
  sigset_t mask_{};
  struct sigaction actions_[kCount] {};
};

// A pipe as two owned ends.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
  static Pipe Make() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
};

// Reads fd into *seen until it contains `want` or EOF. A generous bound
// only keeps a broken build from hanging; no test relies on it.
inline bool ReadUntil(int fd, std::string* seen, std::string_view want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buf[4096];
  while (seen->find(want) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    seen->append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

// Reads fd to EOF into *seen.
inline void ReadToEof(int fd, std::string* seen) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    seen->append(buf, static_cast<std::size_t>(n));
  }
}

inline void WriteAllTo(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0);
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_RECORDER_RECORDER_TEST_UTIL_H_
