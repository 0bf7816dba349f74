// Helpers for the libgate SSH tests that talk to the real OpenSSH tools:
// a scratch directory, file writing with an explicit mode, and running a
// shell command with its output captured.
#ifndef GATE_TESTS_UNIT_LIBGATE_SSH_TEST_UTIL_H_
#define GATE_TESTS_UNIT_LIBGATE_SSH_TEST_UTIL_H_

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace gate::testing {

inline constexpr char kSshKeygen[] = "/usr/bin/ssh-keygen";

inline bool HaveSshKeygen() { return access(kSshKeygen, X_OK) == 0; }

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object goes away.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/gate-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Writes content to path and sets its mode; ssh-keygen refuses private keys
// readable by others, so key files are written 0600.
inline void WriteFile(const std::string& path, std::string_view content,
                      std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                    std::filesystem::perms::owner_write) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) std::abort();
  }
  std::filesystem::permissions(path, mode, std::filesystem::perm_options::replace);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CommandResult {
  int exit_code = -1;  // -1 if the command did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs command through /bin/sh with stderr folded into stdout.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  const std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// Single-quotes s for /bin/sh (test paths never contain quotes, but a
// TMPDIR with spaces should still work).
inline std::string ShellQuote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  q += "'";
  return q;
}

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_LIBGATE_SSH_TEST_UTIL_H_
