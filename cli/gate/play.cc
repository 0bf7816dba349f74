// gate play ID|FILE [--speed X] [--idle-limit S] [--skip-to T]
//                   [--verify [--key FILE] [--no-play]]
//
// Replays a session recording (docs/recording.md, "Format") to the
// terminal with its timing, and checks its signed checkpoints on request.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>

#include "cli/common/profile.h"
#include "cli/common/session_api.h"
#include "cli/common/terminal_text.h"
#include "cli/gate/commands.h"
#include "gate/asciicast.h"
#include "gate/ed25519.h"
#include "gate/exit_code.h"
#include "gate/json.h"
#include "gate/proxy_flags.h"
#include "gate/recorder_settings.h"
#include "gate/secure_file.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gate play";
constexpr std::size_t kMaxRecordingSize = std::size_t{1} << 30;
// Output before --skip-to goes out in writes of about this size.
constexpr std::size_t kSkipChunk = 1 << 20;

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

// A session ID that is not a file: the recording gate-ca holds, fetched
// with a request signed by the profile's certificate (cli/common/session_api.h).
Result<std::string> FetchRecording(std::string id) {
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto store = ProfileStore::Default();
  if (!store) return Err(store.error());
  auto client = SessionClient::FromProfile(*store, ProxyFlags{},
                                           static_cast<std::int64_t>(std::time(nullptr)));
  if (!client) return Err(client.error().WithContext("fetching session " + id + " from gate-ca"));
  auto session = client->Get(id);
  if (!session) return Err(session.error());
  auto bytes = client->FetchRecording(id, kMaxRecordingSize);
  if (!bytes) return Err(bytes.error());
  std::string verdict = "still being recorded";
  if (!(*session)["live"].asBool()) {
    verdict = (*session)["verified"].asBool() ? "verified" : "NOT verified";
    const std::string detail = (*session)["verify_detail"].asString();
    if (!detail.empty()) verdict += " (" + Printable(detail) + ")";
  }
  std::cerr << kTool << ": fetched " << bytes->size() << " bytes from gate-ca; gate-ca: " << verdict
            << "\n";
  return bytes;
}

// The recording named on the command line, whole: a file, or a session ID
// that is not a file, fetched from gate-ca.
Result<std::string> LoadRecording(const std::string& source) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) {
    if (errno == ENOENT && IsUuid(source)) return FetchRecording(source);
  } else if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > kMaxRecordingSize) {
    // Checked before reading: ReadFile would read the whole cap first.
    return Err(FailedPrecondition(source + " is " + std::to_string(st.st_size) +
                                  " bytes; gate play refuses recordings larger than 1 GiB"));
  }
  auto data = ReadFile(source, kMaxRecordingSize);
  if (!data) return Err(data.error());
  return std::move(*data);
}

// Where --verify finds the key without --key: recorder.pub beside this
// node's recorder settings (/etc/gate/recorder.json, or the file
// $GATE_RECORDER_CONFIG names, as on the demo node), which must parse as
// recorder settings. NotFound, saying what to do, on a host that records
// nothing.
Result<std::string> NodeRecorderKeyPath() {
  const std::string settings_path = recorder::SettingsPathFromEnvironment();
  FilePolicy policy;
  policy.allowed_owners = {0, ::geteuid()};
  policy.secret = false;
  policy.max_size = recorder::kMaxSettingsSize;
  auto text = ReadSecureFile(settings_path, policy);
  if (!text) {
    if (text.error().code() == Code::kNotFound) {
      return Err(NotFound("this host records no sessions (no recorder settings at " +
                          settings_path +
                          "; GATE_RECORDER_CONFIG names them when they are elsewhere): pass the "
                          "recording node's recorder.pub with --key FILE"));
    }
    return Err(text.error());
  }
  auto settings = recorder::ParseSettings(text->view());
  if (!settings) return Err(settings.error().WithContext(settings_path));
  return recorder::PublicKeyPath(settings_path);
}

// The recorder's public key: one "ssh-ed25519 AAAA..." line. Whoever can
// write this file decides what verifies, so it must belong to root or to
// us and not be writable by others.
Result<ssh::Ed25519PublicKey> LoadRecorderKey(const std::string& path) {
  FilePolicy policy;
  policy.allowed_owners = {0, ::geteuid()};
  policy.secret = false;
  policy.max_size = 64 * 1024;
  auto text = ReadSecureFile(path, policy);
  if (!text) return Err(text.error());
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(text->view());
  if (!key) return Err(key.error().WithContext(path));
  return *key;
}

std::string Seconds(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", t);
  return buf;
}

// The line --verify prints for a recording that verified.
std::string VerifiedText(const cast::Verification& v, std::size_t file_size) {
  if (v.state == cast::Verification::State::kComplete) return "verified, complete";
  const std::size_t uncovered = file_size - v.verified_bytes;
  std::string text = "verified up to " + Seconds(v.verified_until) + ", cut short (";
  if (uncovered == 0) {
    text += "the recording ends without an exit event)";
  } else {
    text += std::to_string(uncovered) + " bytes after the last checkpoint are not covered)";
  }
  return text;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(std::string("cannot write to the terminal: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// "exit status 0", "signal HUP" from the data of an "x" event.
std::string DescribeEnd(std::string_view data) {
  auto v = json::Parse(data);
  if (v) {
    if (auto status = json::GetInt(*v, "exit_status"); status) {
      return "exit status " + std::to_string(*status);
    }
    if (auto signal = json::GetString(*v, "signal"); signal) return "signal " + *signal;
  }
  return std::string(data);
}

// "bob joined as observer" from the data of a "j" event.
std::string DescribeJoin(std::string_view data) {
  auto v = json::Parse(data);
  if (!v) return std::string(data);
  const std::string user = (*v)["user"].asString();
  const std::string mode = (*v)["mode"].asString();
  if ((*v)["event"].asString() == "leave") return user + " left";
  return user + " joined as " + mode;
}

struct Timing {
  double speed = 1;
  std::optional<double> idle_limit;
  double skip_to = 0;
};

// Replays events on the recording's own clock, scaled and capped. The
// schedule accumulates from one start instant, so sleeps do not drift.
class Player {
 public:
  explicit Player(const Timing& timing) : timing_(timing) {
    clock_gettime(CLOCK_MONOTONIC, &start_);
  }

  // Waits until the event at recording time t is due. Before skip_to,
  // nothing is due later than now.
  void WaitFor(double t) {
    if (t < timing_.skip_to) return;
    double gap = t - std::max(previous_, timing_.skip_to);
    if (gap < 0) gap = 0;
    if (timing_.idle_limit && gap > *timing_.idle_limit) gap = *timing_.idle_limit;
    previous_ = t;
    due_ += gap / timing_.speed;
    const double whole = std::floor(due_);
    timespec at = start_;
    at.tv_sec += static_cast<time_t>(whole);
    at.tv_nsec += static_cast<long>((due_ - whole) * 1e9);
    if (at.tv_nsec >= 1'000'000'000) {
      at.tv_sec += 1;
      at.tv_nsec -= 1'000'000'000;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
    }
  }

  bool Skipping(double t) const { return t < timing_.skip_to; }

 private:
  Timing timing_;
  timespec start_{};
  double previous_ = 0;
  double due_ = 0;  // seconds after start_
};

// The line on stderr that says what is about to play.
std::string Describe(const cast::Header& h) {
  const std::string size = std::to_string(h.width) + "x" + std::to_string(h.height);
  if (!h.from_gate) {
    return "asciicast v2 recording, not from gate (nothing in it is signed), " + size +
           (h.title.empty() ? "" : ", title: " + Printable(h.title));
  }
  return "session " + Printable(h.session_id) + ": " + Printable(h.user) + " as " +
         Printable(h.login) + " on " + Printable(h.node_name) + " (" + Printable(h.cluster) +
         "), " + size + (h.command.empty() ? "" : ", command: " + Printable(h.command));
}

int Play(std::string_view file, const Timing& timing) {
  auto reader = cast::Reader::Create(file, cast::Reader::Headers::kAnyAsciicast);
  if (!reader) return Fail(kTool, reader.error());
  const cast::Header& h = reader->header();
  std::cerr << kTool << ": " << Describe(h) << "\n";

  Player player(timing);
  std::string skipped;  // output before --skip-to, written at once
  std::optional<std::string> end;
  cast::Event event;
  for (;;) {
    auto more = reader->Next(&event);
    if (!more) return Fail(kTool, more.error());
    if (!*more) break;
    if (event.type != cast::kOutput && event.type != cast::kResize && event.type != cast::kJoin &&
        event.type != cast::kExit) {
      continue;  // input and checkpoints are not shown
    }
    if (event.type == cast::kOutput && player.Skipping(event.time)) {
      skipped += event.data;
      if (skipped.size() >= kSkipChunk) {
        if (Status s = WriteAll(STDOUT_FILENO, skipped); !s.ok()) return Fail(kTool, s);
        skipped.clear();
      }
      continue;
    }
    if (!skipped.empty()) {
      if (Status s = WriteAll(STDOUT_FILENO, skipped); !s.ok()) return Fail(kTool, s);
      skipped.clear();
    }
    player.WaitFor(event.time);
    switch (event.type) {
      case cast::kOutput:
        if (Status s = WriteAll(STDOUT_FILENO, event.data); !s.ok()) return Fail(kTool, s);
        break;
      case cast::kResize:
        if (!player.Skipping(event.time)) {
          std::cerr << kTool << ": [" << Seconds(event.time) << "] terminal resized to "
                    << Printable(event.data) << "\n";
        }
        break;
      case cast::kJoin:
        if (!player.Skipping(event.time)) {
          std::cerr << kTool << ": [" << Seconds(event.time) << "] "
                    << Printable(DescribeJoin(event.data)) << "\n";
        }
        break;
      case cast::kExit:
        end = Printable(DescribeEnd(event.data)) + " after " + Seconds(event.time);
        break;
    }
  }
  if (!skipped.empty()) {
    if (Status s = WriteAll(STDOUT_FILENO, skipped); !s.ok()) return Fail(kTool, s);
  }
  if (end) {
    std::cerr << "\n" << kTool << ": session ended: " << *end << "\n";
  } else if (!h.from_gate) {
    // Only gate's recordings mark the end of a session.
    std::cerr << "\n" << kTool << ": end of the recording\n";
  } else {
    std::cerr << "\n"
              << kTool
              << ": the recording ends without an exit event (cut short, or still being "
                 "recorded)\n";
  }
  return kExitOk;
}

class PlayCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_option("recording", source_,
                   "The recording: a .cast file, or a session ID (from gate sessions), fetched "
                   "from gate-ca")
        ->required();
    sub.add_option("--speed", timing_.speed, "Play X times as fast (default 1; 2 = double speed)")
        ->check(CLI::PositiveNumber);
    idle_option_ = sub.add_option("--idle-limit", idle_limit_,
                                  "Shorten every pause in the output to at most S seconds")
                       ->check(CLI::PositiveNumber);
    sub.add_option("--skip-to", timing_.skip_to,
                   "Print everything before T seconds at once, then play on in real time")
        ->check(CLI::NonNegativeNumber);
    auto* verify = sub.add_flag("--verify", verify_,
                                "Check the signed checkpoints before playing (see below)");
    sub.add_option("--key", key_path_,
                   "The recorder's public key for --verify (default: this node's, recorder.pub "
                   "beside its recorder settings)")
        ->needs(verify);
    sub.add_flag("--no-play", no_play_, "With --verify: only verify, print the result on stdout")
        ->needs(verify);
    sub.footer(
        "Replays the terminal output of a recorded session (an asciicast v2 file that\n"
        "gate-record wrote, or any asciicast v2 file, such as `asciinema rec` writes)\n"
        "to standard output, with its original timing. Only output is shown;\n"
        "keystrokes and checkpoints are not. Before the replay a line on stderr names\n"
        "the session; resizes and live joins are noted on stderr as they come, and the\n"
        "end (exit status or signal) is shown when the replay is over. Press Ctrl-C to\n"
        "stop. gate's recordings play with `asciinema play` too.\n\n"
        "Timing: --speed divides every pause; --idle-limit caps each pause first (the\n"
        "recording's own time, before --speed); --skip-to T writes the output before T\n"
        "at once and plays the rest in real time from T.\n\n"
        "--verify recomputes the recording's SHA-256 checkpoint chain and checks each\n"
        "checkpoint's Ed25519 signature with the recorder's public key: by default the\n"
        "key of the node you are on, recorder.pub beside its recorder settings\n"
        "(/etc/gate/recorder.pub beside /etc/gate/recorder.json, or beside the file\n"
        "$GATE_RECORDER_CONFIG names, as it does inside a recorded session on a node\n"
        "set up elsewhere, like the demo's); for a recording from another node, pass\n"
        "that node's key with --key (an OpenSSH \"ssh-ed25519 AAAA...\" line; the file\n"
        "must be owned by root or by you and not writable by others). Only gate's\n"
        "recordings are signed: --verify on any other asciicast file says it is not a\n"
        "gate recording and exits 1. It prints one of:\n"
        "  verified, complete\n"
        "      every byte is signed and the session's end was recorded;\n"
        "  verified up to 12.3 s, cut short (N bytes after the last checkpoint are not\n"
        "  covered)\n"
        "      the recorder stopped (a crash, a power loss) or is still recording; only\n"
        "      the verified part is played;\n"
        "or, when a byte was changed, added, removed or reordered, or another key\n"
        "signed it, \"verification FAILED: line N: ...\" and exits 1 without playing.\n"
        "The result goes to stderr before the replay, or to stdout with --no-play.\n\n"
        "A session ID that is not the name of a file is fetched from the gate-ca you\n"
        "logged in to, with a request signed by your Gate certificate (see gate sessions:\n"
        "you may fetch your own sessions and those your roles may join); gate-ca's own\n"
        "verdict on the recording's signatures is printed on stderr first.\n\n"
        "Recordings larger than 1 GiB are refused.\n\n"
        "Examples:\n"
        "  gate play /var/spool/gate/sessions/6f1c...9d10.cast\n"
        "  gate play 6f1c3a2e-...-9d10          # from gate-ca\n"
        "  gate play --speed 4 --idle-limit 2 session.cast\n"
        "  gate play --verify --no-play --key db-1-recorder.pub session.cast\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    if (!std::isfinite(timing_.speed) || !std::isfinite(timing_.skip_to)) {
      return Fail(kTool, InvalidArgument("--speed and --skip-to must be finite numbers"));
    }
    if (idle_option_->count() > 0) {
      if (!std::isfinite(idle_limit_)) {
        return Fail(kTool, InvalidArgument("--idle-limit must be a finite number of seconds"));
      }
      timing_.idle_limit = idle_limit_;
    }
    auto file = LoadRecording(source_);
    if (!file) return Fail(kTool, file.error());
    std::string_view playable = *file;
    if (verify_) {
      // Only gate's recordings carry signatures: say so before looking for
      // a key (a damaged header is Verify's to report, naming its line).
      const std::size_t nl = playable.find('\n');
      if (nl != std::string_view::npos) {
        auto header = cast::ParseAnyHeader(playable.substr(0, nl));
        if (header && !header->from_gate) {
          return Fail(kTool, DataLoss(source_ + ": " + std::string(cast::kNotAGateRecording) +
                                      "; play it without --verify"));
        }
      }
      if (key_path_.empty()) {
        auto path = NodeRecorderKeyPath();
        if (!path) return Fail(kTool, path.error().WithContext("recorder key"));
        key_path_ = *path;
      }
      auto key = LoadRecorderKey(key_path_);
      if (!key) return Fail(kTool, key.error().WithContext("recorder key"));
      auto verification = cast::Verify(*file, *key);
      if (!verification) {
        return Fail(kTool, verification.error().WithContext(source_ + ": verification FAILED"));
      }
      const std::string text = VerifiedText(*verification, file->size());
      if (no_play_) {
        std::cout << text << "\n" << std::flush;
        return kExitOk;
      }
      std::cerr << kTool << ": " << text << "\n";
      // What is not signed is not shown as if it were.
      playable = playable.substr(0, verification->verified_bytes);
    }
    return Play(playable, timing_);
  }

 private:
  std::string source_;
  Timing timing_;
  double idle_limit_ = 0;
  CLI::Option* idle_option_ = nullptr;
  bool verify_ = false;
  bool no_play_ = false;
  std::string key_path_;  // empty: NodeRecorderKeyPath
};

}  // namespace

std::unique_ptr<Command> MakePlayCommand() { return std::make_unique<PlayCommand>(); }

}  // namespace gate::cli
