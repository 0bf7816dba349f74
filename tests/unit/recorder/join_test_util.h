// Fixtures for the live-join tests: a JoinHub driven by a poll loop in the
// test's thread, and a raw client speaking frames over a real Unix socket.
// Waits are bounded by a generous deadline that only a broken build reaches;
// no test depends on how fast anything runs.
#ifndef GATE_TESTS_UNIT_RECORDER_JOIN_TEST_UTIL_H_
#define GATE_TESTS_UNIT_RECORDER_JOIN_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gate/join_protocol.h"
#include "gate/unique_fd.h"
#include "gate/unix_socket.h"
#include "recorder/join/join_hub.h"

namespace gate::testing {

inline constexpr auto kWaitLimit = std::chrono::seconds(20);

// What the hub's callbacks saw.
struct HubEvents {
  std::string input;
  std::vector<std::string> notices;
  std::vector<std::string> records;

  recorder::JoinCallbacks Callbacks() {
    recorder::JoinCallbacks cb;
    cb.input = [this](std::string_view b) { input.append(b); };
    cb.notice = [this](std::string_view t) { notices.emplace_back(t); };
    cb.record = [this](std::string_view j) { records.emplace_back(j); };
    return cb;
  }
};

// One round of the session's loop: poll the hub's descriptors (and `extra`)
// for at most timeout_ms, then let the hub handle what poll reported.
inline void PumpOnce(recorder::JoinHub& hub, int timeout_ms = 10) {
  std::vector<pollfd> fds;
  hub.AppendPollFds(fds);
  if (fds.empty()) return;
  const int rc = ::poll(fds.data(), fds.size(), timeout_ms);
  ASSERT_GE(rc, 0);
  hub.HandlePoll(fds, 0);
}

// Pumps the hub until done() holds; fails the test at kWaitLimit.
inline bool PumpUntil(recorder::JoinHub& hub, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "timed out waiting";
      return false;
    }
    PumpOnce(hub);
  }
  return true;
}

// "line 000042 ....\n": count numbered lines of 100 bytes from `first`, so
// that any cut, gap or repeat in a history shows.
inline std::string NumberedLines(int first, int count) {
  std::string out;
  out.reserve(static_cast<std::size_t>(count) * 100);
  for (int i = first; i < first + count; ++i) {
    std::string line = "line " + std::to_string(1000000 + i).substr(1) + " ";
    line.append(99 - line.size(), '.');
    line += '\n';
    out += line;
  }
  return out;
}

// A client of the join socket that reads whatever has arrived without
// blocking, so one thread can drive both ends.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    auto fd = ConnectUnix(path);
    if (!fd) {
      ADD_FAILURE() << fd.error().ToString();
      return;
    }
    fd_ = std::move(*fd);
  }

  int fd() const { return fd_.get(); }
  void Close() { fd_.Reset(); }

  void SendRaw(std::string_view bytes) {
    ASSERT_EQ(::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void Send(recorder::FrameType type, std::string_view payload) {
    std::string frame;
    recorder::AppendFrame(frame, type, payload);
    SendRaw(frame);
  }

  // Reads what is there (non-blocking); false once the hub closed the
  // connection (and everything before the close was read).
  bool Poll() {
    if (eof_) return false;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        bytes_received_ += static_cast<std::size_t>(n);
        decoder_.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof_ = true;
      break;
    }
    for (;;) {
      auto frame = decoder_.Next();
      if (!frame) {
        ADD_FAILURE() << "hub sent a bad frame: " << frame.error().ToString();
        eof_ = true;
        break;
      }
      if (!frame->has_value()) break;
      frames_.push_back(std::move(**frame));
    }
    return !eof_;
  }

  bool eof() const { return eof_; }
  std::deque<recorder::Frame>& frames() { return frames_; }
  std::size_t bytes_received() const { return bytes_received_; }

  // All payloads of one type received so far, concatenated.
  std::string All(recorder::FrameType type) const {
    std::string out;
    for (const auto& f : frames_) {
      if (f.type == type) out += f.payload;
    }
    return out;
  }
  bool Has(recorder::FrameType type) const {
    for (const auto& f : frames_) {
      if (f.type == type) return true;
    }
    return false;
  }

 private:
  UniqueFd fd_;
  recorder::FrameDecoder decoder_{recorder::FrameDirection::kToClient};
  std::deque<recorder::Frame> frames_;
  std::size_t bytes_received_ = 0;
  bool eof_ = false;
};

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_RECORDER_JOIN_TEST_UTIL_H_
