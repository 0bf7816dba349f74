// The client's login state under ~/.gate (or $GATE_HOME): the private key,
// its certificate, a known_hosts file with the cluster's host CA, and the
// profile that `gate status` prints. The directory is 0700 and the key 0600.
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
};

class ProfileStore {
 public:
  explicit ProfileStore(std::string dir) : dir_(std::move(dir)) {}
  // $GATE_HOME if set, else ~/.gate of the invoking user.
  static Result<ProfileStore> Default();

  const std::string& dir() const { return dir_; }
  std::string KeyPath() const { return dir_ + "/key"; }
  std::string CertPath() const { return dir_ + "/key-cert.pub"; }
  std::string KnownHostsPath() const { return dir_ + "/known_hosts"; }
  std::string ProfilePath() const { return dir_ + "/profile.json"; }

  // Writes key (0600), certificate, known_hosts (one @cert-authority line per
  // host CA key) and profile, each atomically.
  Status Save(const Profile& profile, const SecretString& key_pem, const std::string& cert_line,
              const std::vector<std::string>& host_ca_keys) const;
  // NotFound("not logged in") if there is no profile; DataLoss if it is corrupt.
  Result<Profile> Load() const;
  // Removes what Save wrote; OK if nothing was there.
  Status Remove() const;

 private:
  std::string dir_;
};

// The profile block `gate login` and `gate status` print (as tsh does).
std::string FormatProfile(const Profile& profile, std::int64_t now);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_PROFILE_H_
