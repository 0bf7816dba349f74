#include "gate/process_info.h"

#include <unistd.h>

#include <charconv>
#include <string_view>
#include <vector>

#include "gate/secure_file.h"

namespace gate::proc {
namespace {

// /proc/<pid>/status is ~1.5 KiB; /proc/stat grows with the CPU count.
constexpr std::size_t kMaxProcFile = 1 << 20;

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> Split(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = text.find_first_not_of(separators, i);
    if (start == std::string_view::npos) break;
    std::size_t end = text.find_first_of(separators, start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    i = end;
  }
  return out;
}

Result<std::string> ReadProc(const std::string& path) {
  auto text = ReadFile(path, kMaxProcFile);
  if (!text && text.error().code() == Code::kNotFound) {
    return Err(NotFound("no process " + path.substr(0, path.rfind('/'))));
  }
  return text;
}

// The value of the line starting with `key` (e.g. "Uid:"), or empty.
std::string_view LineValue(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (line.substr(0, key.size()) == key) return line.substr(key.size());
    pos = end + 1;
  }
  return {};
}

Result<std::int64_t> BootTime() {
  auto stat = ReadFile("/proc/stat", kMaxProcFile);
  if (!stat) return Err(stat.error());
  const auto fields = Split(LineValue(*stat, "btime "), " \t");
  std::int64_t btime = 0;
  if (fields.size() != 1 || !ParseNumber(fields[0], btime)) {
    return Err(DataLoss("/proc/stat: no btime line"));
  }
  return btime;
}

}  // namespace

Result<ProcessInfo> ReadProcessInfo(pid_t pid) {
  if (pid <= 0) return Err(NotFound("no process " + std::to_string(pid)));
  const std::string dir = "/proc/" + std::to_string(pid);
  auto stat = ReadProc(dir + "/stat");
  if (!stat) return Err(stat.error());
  // "pid (comm) state ppid ...": comm may hold spaces and ')', so the fields
  // are counted from the last ')'.
  const std::size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return Err(DataLoss(dir + "/stat does not parse"));
  const auto fields = Split(std::string_view(*stat).substr(paren + 1), " \n");
  ProcessInfo info;
  info.pid = pid;
  unsigned long long start_ticks = 0;
  // fields[0] is field 3 of proc(5): ppid is field 4, session field 6,
  // starttime field 22.
  if (fields.size() < 20 || !ParseNumber(fields[1], info.ppid) ||
      !ParseNumber(fields[3], info.sid) || !ParseNumber(fields[19], start_ticks)) {
    return Err(DataLoss(dir + "/stat does not parse"));
  }
  auto status = ReadProc(dir + "/status");
  if (!status) return Err(status.error());
  const auto uids = Split(LineValue(*status, "Uid:"), " \t");
  if (uids.size() < 3 || !ParseNumber(uids[0], info.ruid) || !ParseNumber(uids[1], info.euid) ||
      !ParseNumber(uids[2], info.suid)) {
    return Err(DataLoss(dir + "/status: no Uid line"));
  }
  auto boot = BootTime();
  if (!boot) return Err(boot.error());
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) return Err(Internal("sysconf(_SC_CLK_TCK) failed"));
  info.started_at =
      *boot + static_cast<std::int64_t>(start_ticks / static_cast<unsigned long long>(hz));
  return info;
}

Result<std::string> ReadCommandName(pid_t pid) {
  if (pid <= 0) return Err(NotFound("no process " + std::to_string(pid)));
  auto cmdline = ReadProc("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline) return Err(cmdline.error());
  const std::size_t nul = cmdline->find('\0');
  return nul == std::string::npos ? *cmdline : cmdline->substr(0, nul);
}

bool RunsOnlyAs(const ProcessInfo& info, uid_t uid) {
  return info.ruid == uid && info.euid == uid && info.suid == uid;
}

bool NamedSshd(std::string_view argv0) {
  const std::size_t slash = argv0.find_last_of('/', argv0.find(' '));
  return (slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1)).starts_with("sshd");
}

}  // namespace gate::proc
