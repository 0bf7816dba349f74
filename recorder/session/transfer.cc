#include "recorder/session/transfer.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>

namespace gate::recorder {
namespace {

bool PlainWordChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("_-./:@%+=,").find(c) != std::string_view::npos;
}

// Splits on single spaces; nullopt if any word has another character or
// two spaces make an empty word.
std::optional<std::vector<std::string>> PlainWords(std::string_view command) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= command.size()) {
    std::size_t end = command.find(' ', start);
    if (end == std::string_view::npos) end = command.size();
    const std::string_view word = command.substr(start, end - start);
    if (word.empty() || !std::all_of(word.begin(), word.end(), PlainWordChar)) {
      return std::nullopt;
    }
    words.emplace_back(word);
    start = end + 1;
  }
  return words;
}

std::string BaseNameOf(std::string_view path) {
  const std::size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// argv[0] names a program: a bare name, or the absolute path the finder
// gives for that name. Returns the program's path.
std::optional<std::string> Resolve(const std::string& word, std::string_view name,
                                   const ProgramFinder& finder) {
  const bool absolute = word.starts_with('/');
  if (absolute ? BaseNameOf(word) != name : word != name) return std::nullopt;
  auto found = finder(name);
  if (!found || (absolute && *found != word)) return std::nullopt;
  return found;
}

// The flags scp's client passes to the remote side (-v -r -p -d, and -t to
// receive or -f to send), each word before "--" one of them. Any other
// option (-o, -S, -F...) would make scp a client that runs programs.
bool IsScpServer(const std::vector<std::string>& words) {
  bool server = false;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") break;
    if (!w.starts_with('-')) continue;
    if (w.size() < 2 || w.find_first_not_of("vrpdtf", 1) != std::string::npos) return false;
    if (w.find_first_of("tf") != std::string::npos) server = true;
  }
  return server;
}

// rsync --server, without the options that would run a daemon with a
// configuration the user names (its "exec" hooks run programs).
bool IsRsyncServer(const std::vector<std::string>& words) {
  if (words.size() < 2 || words[1] != "--server") return false;
  for (const std::string& w : words) {
    for (std::string_view bad : {"--daemon", "--config", "--dparam", "-M"}) {
      if (w.starts_with(bad)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> FindSystemProgram(std::string_view name) {
  static constexpr std::array<std::string_view, 4> kSftpServer = {
      "/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server",
      "/usr/libexec/sftp-server", "/usr/lib/ssh/sftp-server"};
  std::vector<std::string> candidates;
  if (name == "sftp-server") {
    candidates.assign(kSftpServer.begin(), kSftpServer.end());
  } else if (name == "scp" || name == "rsync") {
    candidates = {"/usr/bin/" + std::string(name), "/bin/" + std::string(name)};
  }
  for (const std::string& path : candidates) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) continue;
    return path;
  }
  return std::nullopt;
}

std::optional<Transfer> ClassifyTransfer(std::string_view command, const ProgramFinder& finder) {
  auto words = PlainWords(command);
  if (!words || words->empty()) return std::nullopt;
  const std::string& first = words->front();
  Transfer t;
  std::optional<std::string> program;
  if (first == "internal-sftp") {
    t.kind = "sftp";
    program = finder("sftp-server");
  } else if (BaseNameOf(first) == "sftp-server") {
    t.kind = "sftp";
    program = Resolve(first, "sftp-server", finder);
  } else if (BaseNameOf(first) == "scp") {
    if (!IsScpServer(*words)) return std::nullopt;
    t.kind = "scp";
    program = Resolve(first, "scp", finder);
  } else if (BaseNameOf(first) == "rsync") {
    if (!IsRsyncServer(*words)) return std::nullopt;
    t.kind = "rsync";
    program = Resolve(first, "rsync", finder);
  }
  if (!program) return std::nullopt;
  t.program = *program;
  t.argv = std::move(*words);
  t.argv.front() = BaseNameOf(t.program);
  return t;
}

}  // namespace gate::recorder
