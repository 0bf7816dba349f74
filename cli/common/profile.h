// The client's login state under ~/.gate (or $GATE_HOME), one profile per
// cluster and user, as tsh keeps them:
//
//   ~/.gate/current-profile            "PROXY/USER" of the profile in use
//   ~/.gate/known_hosts                every cluster's host CA, each line
//                                      scoped to that cluster's node names
//   ~/.gate/keys/PROXY/USER/key        the private key (0600)
//   ~/.gate/keys/PROXY/USER/key-cert.pub
//   ~/.gate/keys/PROXY/USER/profile.json
//
// Directories are 0700. A ~/.gate written before profiles were per cluster
// (key and profile.json at the top) is still read as the current profile
// until the next login.
#ifndef GATE_CLI_COMMON_PROFILE_H_
#define GATE_CLI_COMMON_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::cli {

struct Profile {
  std::string proxy;  // host:port
  std::string user;
  std::string cluster;
  bool insecure = false;
  std::string ca_pin;
  std::vector<std::string> roles;
  std::vector<std::string> logins;
  std::vector<std::string> extensions;
  std::int64_t valid_after = 0;
  std::int64_t valid_before = 0;
  std::string serial;
  // The single sign-on connector the login went through; empty for a
  // password login.
  std::string connector;
  // The host names this cluster's ssh config block and host CA trust apply
  // to (ClusterHostPatterns), as of the login.
  std::vector<std::string> host_patterns;
};

// One profile's files. Cheap to copy; does no I/O until asked.
class ProfileStore {
 public:
  ProfileStore(std::string dir, std::string known_hosts_path)
      : dir_(std::move(dir)), known_hosts_(std::move(known_hosts_path)) {}
  // The current profile: the one ~/.gate/current-profile names (or the
  // top-level one of an older ~/.gate). NotFound("not logged in ...") when
  // there is none.
  static Result<ProfileStore> Default();

  const std::string& dir() const { return dir_; }
  std::string KeyPath() const { return dir_ + "/key"; }
  std::string CertPath() const { return dir_ + "/key-cert.pub"; }
  // Shared by every profile of the home (ProfileHome::KnownHostsPath).
  const std::string& KnownHostsPath() const { return known_hosts_; }
  std::string ProfilePath() const { return dir_ + "/profile.json"; }

  // Writes key (0600), certificate and profile, each atomically, creating
  // the home (the known_hosts file's directory) and the directories from
  // there down to the profile's (0700).
  Status Save(const Profile& profile, const SecretString& key_pem,
              const std::string& cert_line) const;
  // NotFound("not logged in ...") if there is no profile; DataLoss if it is
  // corrupt.
  Result<Profile> Load() const;
  // Removes what Save wrote; OK if nothing was there.
  Status Remove() const;

 private:
  std::string dir_;
  std::string known_hosts_;
};

// The root of the profiles: $GATE_HOME, else ~/.gate of the invoking user.
class ProfileHome {
 public:
  explicit ProfileHome(std::string root) : root_(std::move(root)) {}
  static Result<ProfileHome> Default();

  const std::string& root() const { return root_; }
  std::string KnownHostsPath() const { return root_ + "/known_hosts"; }

  // The profile of user at proxy (host:port). InvalidArgument for a proxy
  // or user that cannot be a directory name ('/', "..", empty).
  Result<ProfileStore> For(const std::string& proxy, const std::string& user) const;
  // NotFound when no profile is current.
  Result<ProfileStore> Current() const;
  Status SetCurrent(const std::string& proxy, const std::string& user) const;
  // Forgets which profile is current (the profiles stay).
  Status ClearCurrent() const;
  // Every saved profile that loads, by proxy then user; corrupt ones are
  // skipped.
  std::vector<Profile> List() const;

  // Replaces the known_hosts lines of proxy's cluster with one
  // "@cert-authority PATTERNS KEY" line per host CA key, leaving the other
  // clusters' lines (and any other line) as they were.
  Status WriteClusterTrust(const Profile& profile,
                           const std::vector<std::string>& host_ca_keys) const;

 private:
  std::string root_;
};

// What ssh should trust the cluster's host CA for and offer its key to:
// "*.CLUSTER", every node name and host certificate principal gate-ca
// reported, and for each of those its "[NAME]:*" form (known_hosts names a
// host on another port than 22 as "[host]:port"). Names with characters
// that could widen a pattern or break the line ('*', '?', '!', ',',
// spaces, controls) are dropped, except the leading "*." of the cluster's.
std::vector<std::string> ClusterHostPatterns(const std::string& cluster,
                                             const std::vector<std::string>& node_names);

// The profile block `gate login` and `gate status` print (as tsh does);
// current marks it with "> ".
std::string FormatProfile(const Profile& profile, std::int64_t now, bool current = true);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_PROFILE_H_
