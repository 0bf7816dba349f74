// Helpers every GoogleTest binary may use: a scratch directory, files with
// an explicit mode, and running a shell command with its output captured.
#ifndef GATE_TESTS_UNIT_COMMON_TEST_UTIL_H_
#define GATE_TESTS_UNIT_COMMON_TEST_UTIL_H_

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

// A fresh directory under $TMPDIR (or /tmp) with `mode`, removed with its
// contents when the object goes away.
class TempDir {
 public:
  explicit TempDir(mode_t mode = 0700) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/gate-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
    if (chmod(path_.c_str(), mode) != 0) std::abort();
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

// Writes content to path and sets its mode exactly (umask notwithstanding).
inline void WriteFile(const std::string& path, std::string_view content, mode_t mode = 0644) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) std::abort();
  }
  if (chmod(path.c_str(), mode) != 0) std::abort();
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Permission bits of path itself (not a link's target); 0 if it is missing.
inline mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
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

// Single-quotes s for /bin/sh.
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

#endif  // GATE_TESTS_UNIT_COMMON_TEST_UTIL_H_
