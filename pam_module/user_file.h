// Reading the authfile the pam-u2f way (CVE-2019-12209/12210): a file owned
// by the user is read with the user's privileges, a system file as root, and
// either way through gate::ReadSecureFile (O_NOFOLLOW, fstat: regular file,
// allowed owner, mode 0600 or stricter).
#ifndef GATE_PAM_USER_FILE_H_
#define GATE_PAM_USER_FILE_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "gate/authfile.h"
#include "gate/status.h"
#include "pam_module/factor.h"

namespace gate::pam {

// A local account, as getpwnam_r reports it.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

// nullopt when the account does not exist; Internal on lookup errors.
Result<std::optional<Account>> LookupAccount(const std::string& name);

// While alive, the effective uid, gid and supplementary groups are the
// account's (setgroups, setegid, seteuid); the destructor restores them in
// reverse order and aborts the process if it cannot (continuing with the
// wrong identity is worse than dying). A no-op when the process is not root.
// Process-wide (seteuid affects every thread): hold it briefly, around one open.
class ScopedPrivDrop {
 public:
  // Unavailable (nothing changed) when a step fails.
  static Result<std::optional<ScopedPrivDrop>> Drop(uid_t uid, gid_t gid);
  ScopedPrivDrop(ScopedPrivDrop&& other) noexcept;
  ScopedPrivDrop& operator=(ScopedPrivDrop&&) = delete;
  ~ScopedPrivDrop();

 private:
  ScopedPrivDrop(uid_t euid, gid_t egid, std::vector<gid_t> groups);
  bool active_ = false;
  uid_t saved_euid_;
  gid_t saved_egid_;
  std::vector<gid_t> saved_groups_;
};

// "%u" -> account name, "%h" -> home directory, "%%" -> "%"; any other '%'
// sequence is InvalidArgument (a typo must not point at another file).
Result<std::string> ExpandPath(const std::string& pattern, const std::string& user,
                               const std::optional<Account>& account);

// Reads and parses the authfile at path (already expanded) for account.
// An absent file is an empty list (nobody enrolled). Owned by the account
// (not root): opened with privileges dropped to it. Owned by root: opened as
// root. Anything else, a symlink, or group/other access: PermissionDenied.
// Parse errors: InvalidArgument "authfile:N: ...".
Result<std::vector<authfile::Entry>> ReadAuthfile(const std::string& path,
                                                  const std::optional<Account>& account);

// What a factor that reads the authfile needs before it looks for the user's
// entries: the gate user's name is valid, the PAM user's account is found,
// %u/%h in `authfile=` are expanded, and the file is read the safe way
// (ReadAuthfile). On failure it logs why (naming `factor`, e.g. "local OTP"),
// tells the user their `what` ("OTP", "security key") configuration is
// unusable, and returns nothing: the caller then fails with Outcome::kError.
struct UserAuthfile {
  std::string path;
  std::vector<authfile::Entry> entries;
};
std::optional<UserAuthfile> LoadUserAuthfile(FactorContext& context, std::string_view factor,
                                             std::string_view what);

}  // namespace gate::pam

#endif  // GATE_PAM_USER_FILE_H_
