#include "pam_module/user_file.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "gate/log.h"
#include "gate/names.h"
#include "gate/secure_file.h"

namespace gate::pam {

Result<std::optional<Account>> LookupAccount(const std::string& name) {
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  int rc = 0;
  while ((rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20)) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0 && rc != ENOENT && rc != ESRCH) {
    return Err(Internal("cannot look up account " + name + ": " + std::strerror(rc)));
  }
  if (found == nullptr) return std::optional<Account>();
  return std::optional<Account>(Account{pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir});
}

ScopedPrivDrop::ScopedPrivDrop(uid_t euid, gid_t egid, std::vector<gid_t> groups)
    : active_(true), saved_euid_(euid), saved_egid_(egid), saved_groups_(std::move(groups)) {}

ScopedPrivDrop::ScopedPrivDrop(ScopedPrivDrop&& other) noexcept
    : active_(std::exchange(other.active_, false)),
      saved_euid_(other.saved_euid_),
      saved_egid_(other.saved_egid_),
      saved_groups_(std::move(other.saved_groups_)) {}

Result<std::optional<ScopedPrivDrop>> ScopedPrivDrop::Drop(uid_t uid, gid_t gid) {
  const uid_t euid = ::geteuid();
  if (euid != 0) return std::optional<ScopedPrivDrop>();
  const gid_t egid = ::getegid();
  const int n = ::getgroups(0, nullptr);
  if (n < 0) return Err(Unavailable(std::string("getgroups: ") + std::strerror(errno)));
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  if (n > 0 && ::getgroups(n, groups.data()) != n) {
    return Err(Unavailable(std::string("getgroups: ") + std::strerror(errno)));
  }
  // Groups and gid first: once euid is no longer 0 they cannot be changed.
  if (::setgroups(1, &gid) != 0) {
    return Err(Unavailable(std::string("setgroups: ") + std::strerror(errno)));
  }
  if (::setegid(gid) != 0) {
    const int err = errno;
    if (::setgroups(groups.size(), groups.data()) != 0) std::abort();
    return Err(Unavailable(std::string("setegid: ") + std::strerror(err)));
  }
  if (::seteuid(uid) != 0) {
    const int err = errno;
    if (::setegid(egid) != 0 || ::setgroups(groups.size(), groups.data()) != 0) std::abort();
    return Err(Unavailable(std::string("seteuid: ") + std::strerror(err)));
  }
  return std::optional<ScopedPrivDrop>(ScopedPrivDrop(euid, egid, std::move(groups)));
}

ScopedPrivDrop::~ScopedPrivDrop() {
  if (!active_) return;
  if (::seteuid(saved_euid_) != 0 || ::setegid(saved_egid_) != 0 ||
      ::setgroups(saved_groups_.size(), saved_groups_.data()) != 0) {
    log::Error("cannot restore privileges after reading a user file; aborting");
    std::abort();
  }
}

Result<std::string> ExpandPath(const std::string& pattern, const std::string& user,
                               const std::optional<Account>& account) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    ++i;
    if (next == '%') {
      out += '%';
    } else if (next == 'u') {
      out += user;
    } else if (next == 'h') {
      if (!account || account->home.empty() || account->home.front() != '/') {
        return Err(
            NotFound("no home directory for " + user + " (needed by %h in " + pattern + ")"));
      }
      out += account->home;
    } else {
      return Err(InvalidArgument("unknown %-sequence in path " + pattern + " (use %u, %h or %%)"));
    }
  }
  return out;
}

Result<std::vector<authfile::Entry>> ReadAuthfile(const std::string& path,
                                                  const std::optional<Account>& account) {
  // lstat only chooses whose privileges to open with; OpenSecureFile then
  // re-checks the owner on the descriptor, so a file swapped in between is
  // refused rather than trusted.
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::vector<authfile::Entry>();
    return Err(Unavailable("cannot stat " + path + ": " + std::strerror(errno)));
  }
  const bool user_owned = account && account->uid != 0 && st.st_uid == account->uid;

  FilePolicy policy;
  policy.secret = true;
  policy.max_size = 1 << 20;
  policy.allowed_owners = {user_owned ? account->uid : uid_t{0}};
  if (!user_owned && ::geteuid() != 0) {
    // Not root (tests under pam_wrapper, a screen locker): our own files
    // are as trustworthy as root's.
    policy.allowed_owners.push_back(::geteuid());
  }

  Result<SecretString> text = Err(Internal("unreachable"));
  if (user_owned) {
    auto drop = ScopedPrivDrop::Drop(account->uid, account->gid);
    if (!drop) return Err(drop.error().WithContext("cannot drop privileges to read " + path));
    text = ReadSecureFile(path, policy);
  } else {
    text = ReadSecureFile(path, policy);
  }
  if (!text) {
    if (text.error().code() == Code::kNotFound) return std::vector<authfile::Entry>();
    return Err(text.error());
  }
  auto entries = authfile::Parse(text->view());
  if (!entries) return Err(entries.error().WithContext(path));
  return entries;
}

std::optional<UserAuthfile> LoadUserAuthfile(FactorContext& context, std::string_view factor,
                                             std::string_view what) {
  const std::string name(factor);
  if (Status s = ValidateUserName(context.gate_user); !s.ok()) {
    log::Error("unusable user name for " + name + ": " + s.message());
    return std::nullopt;
  }
  auto account = LookupAccount(context.pam_user);
  if (!account) {
    log::Error("" + account.error().message());
    return std::nullopt;
  }
  auto path = ExpandPath(context.options.authfile, context.pam_user, *account);
  if (!path) {
    log::Error("authfile: " + path.error().message());
    return std::nullopt;
  }
  // An absent file is an empty list: nobody is enrolled.
  auto entries = ReadAuthfile(*path, *account);
  if (!entries) {
    log::Error("refusing authfile: " + entries.error().message());
    context.conversation.Error("Second factor unavailable: the " + std::string(what) +
                               " configuration is unusable.");
    return std::nullopt;
  }
  return UserAuthfile{*std::move(path), *std::move(entries)};
}

}  // namespace gate::pam
