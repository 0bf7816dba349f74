#include "ca-server/signer/privsep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate::ca {
namespace {

// Deep enough for data_dir/recordings/<node>/<file>; anything deeper was not
// made by gate-ca.
constexpr int kMaxChownDepth = 6;
// Room above the descriptors the signer holds once confined: SQLite opens a
// temporary file now and then, and the log may reopen its socket.
constexpr rlim_t kSignerSpareDescriptors = 16;

Status Errno(const std::string& what) { return Internal(what + ": " + std::strerror(errno)); }

// Gives everything under dir_fd to user, not following symlinks; descends
// only into directories that were not already the user's (a tree the front
// end made is its own all the way down).
Status ChownTree(int dir_fd, const std::string& path, const SystemUser& user, int depth,
                 bool skip_ca) {
  if (depth > kMaxChownDepth) return Status::Ok();
  UniqueFd list_fd(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!list_fd.valid()) return Errno(path);
  DIR* dir = ::fdopendir(list_fd.Release());
  if (dir == nullptr) return Errno(path);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || (skip_ca && name == "ca")) continue;
    names.push_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : names) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return Errno(path + "/" + name);
    }
    if (st.st_uid == user.uid && st.st_gid == user.gid) continue;
    if (::fchownat(dir_fd, name.c_str(), user.uid, user.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return Errno("chown " + path + "/" + name);
    }
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return Errno(path + "/" + name);
      GATE_RETURN_IF_ERROR(ChownTree(sub.get(), path + "/" + name, user, depth + 1, false));
    }
  }
  return Status::Ok();
}

// Creates the missing parents of path (0755: the front end must be able to
// reach its data dir) and path itself (0700).
Status MakeDirs(const std::string& path) {
  std::size_t pos = 0;
  while ((pos = path.find('/', pos + 1)) != std::string::npos) {
    const std::string parent = path.substr(0, pos);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir " + parent);
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir " + path);
  return Status::Ok();
}

Status CheckCaDir(int data_fd, const std::string& ca_path, const SystemUser& front_end) {
  if (::mkdirat(data_fd, "ca", 0700) != 0 && errno != EEXIST) return Errno("mkdir " + ca_path);
  UniqueFd fd(::openat(data_fd, "ca", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  SafePathOptions options;
  options.type = SafePathOptions::Type::kDirectory;
  options.forbidden_bits = 077;
  options.subject = "CA key directory";
  options.consequence =
      "only the signer may read the CA keys; if an earlier gate-ca ran as " + front_end.name +
      ", check that the keys are the ones your nodes trust (ssh-keygen -lf " + ca_path +
      "/user_ca.pub) and give them to root: chown -R root:root " + ca_path;
  // Not a directory (a symlink, say): the path check names what it is.
  if (!fd.valid()) return CheckSafeDir(ca_path, 0, options);
  return CheckSafeDirFd(fd.get(), ca_path, 0, options);
}

}  // namespace

Result<SystemUser> LookUpSystemUser(const std::string& name) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  const std::string how =
      "create it with systemd-sysusers (gate.sysusers.conf) or: useradd "
      "--system --user-group --no-create-home --shell /usr/sbin/nologin " +
      name;
  if (rc != 0 || found == nullptr) {
    return Err(
        FailedPrecondition("there is no system user '" + name + "' for gate-ca to run as; " + how));
  }
  if (pw.pw_uid == 0 || pw.pw_gid == 0) {
    return Err(FailedPrecondition(
        "system user '" + name + "' has uid or gid 0; gate-ca needs an unprivileged user: " + how));
  }
  return SystemUser{name, pw.pw_uid, pw.pw_gid};
}

Status PrepareDataDir(const std::string& data_dir, const SystemUser& front_end) {
  GATE_RETURN_IF_ERROR(MakeDirs(data_dir));
  UniqueFd fd(::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Errno(data_dir);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Errno(data_dir);
  if ((st.st_uid != front_end.uid || st.st_gid != front_end.gid) &&
      ::fchown(fd.get(), front_end.uid, front_end.gid) != 0) {
    return Errno("chown " + data_dir);
  }
  GATE_RETURN_IF_ERROR(ChownTree(fd.get(), data_dir, front_end, 0, /*skip_ca=*/true));
  return CheckCaDir(fd.get(), data_dir + "/ca", front_end);
}

Status RunWithEffectiveIds(const SystemUser& user, const std::function<Status()>& fn) {
  if (::setegid(user.gid) != 0) return Errno("setegid " + user.name);
  if (::seteuid(user.uid) != 0) {
    Status s = Errno("seteuid " + user.name);
    if (::setegid(0) != 0) return Errno("cannot return to root");
    return s;
  }
  Status result = fn();
  if (::seteuid(0) != 0 || ::setegid(0) != 0) return Errno("cannot return to root");
  return result;
}

Status DropToUser(const SystemUser& user) {
  // Without this a later exec of a file with capabilities could regain them;
  // needs CAP_SETPCAP, which a unit may withhold (its own bounding set then
  // already applies).
  for (int cap = 0; cap < 64; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) break;  // EINVAL past the last; EPERM
  }
  if (::setgroups(0, nullptr) != 0) return Errno("setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return Errno("setresgid " + user.name);
  if (::setresuid(user.uid, user.uid, user.uid) != 0) return Errno("setresuid " + user.name);
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0 || ru != user.uid ||
      eu != user.uid || su != user.uid || rg != user.gid || eg != user.gid || sg != user.gid ||
      ::getgroups(0, nullptr) != 0) {
    return Internal("dropping to " + user.name + " did not take");
  }
  if (::setuid(0) == 0 || ::setgid(0) == 0) {
    return Internal("could regain root after dropping to " + user.name);
  }
  return Status::Ok();
}

Status HardenProcess() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Errno("no_new_privs");
  // A uid change resets this flag, so callers run it after dropping.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Errno("PR_SET_DUMPABLE");
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) return Errno("RLIMIT_CORE");
  return Status::Ok();
}

Status ConfineSigner() {
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_NPROC, &none) != 0) return Errno("RLIMIT_NPROC");
  int highest = 2;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(dir)) {
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
        highest = std::max(highest, std::atoi(e->d_name));
    }
    ::closedir(dir);
  } else {
    return Errno("/proc/self/fd");
  }
  const rlim_t fds = static_cast<rlim_t>(highest) + 1 + kSignerSpareDescriptors;
  const rlimit nofile{fds, fds};
  if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0) return Errno("RLIMIT_NOFILE");

  std::ifstream status("/proc/self/status");
  std::string line;
  int checked = 0;
  while (std::getline(status, line)) {
    for (const char* field : {"CapPrm:", "CapEff:", "CapAmb:"}) {
      if (line.rfind(field, 0) != 0) continue;
      ++checked;
      if (line.find_first_not_of("0\t ", std::strlen(field)) != std::string::npos) {
        return Internal("the signer still holds capabilities (" + line + ")");
      }
    }
  }
  if (checked != 3) return Internal("cannot read the signer's capabilities in /proc/self/status");
  return Status::Ok();
}

}  // namespace gate::ca
