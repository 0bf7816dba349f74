// Who is being recorded: the Gate user behind this SSH session, from what
// sshd exposed (ExposeAuthInfo: the file named by SSH_USER_AUTH holds one
// line per completed method, "publickey ssh-ed25519-cert-v01@openssh.com
// AAAA..."), checked against the node's own cache as gate-principals
// checks it. The recorder is setuid, so it trusts nothing the user could
// have written: the certificate's signature is verified here, its CA must
// be in the cached user_ca.pub, it must be valid now, and the cached policy
// must allow its key id to log in as this OS account.
#ifndef GATE_RECORDER_SESSION_IDENTITY_H_
#define GATE_RECORDER_SESSION_IDENTITY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/node_cache.h"
#include "gate/status.h"

namespace gate::recorder {

struct Identity {
  std::string user;          // Gate user: the certificate's key id
  std::string login;         // OS account
  std::uint64_t serial = 0;  // the certificate's serial
  std::string cluster;       // from the policy cache
  // The certificate carries permit-port-forwarding.
  bool permit_port_forwarding = false;
};

// sshd writes a few lines; anything larger is not from sshd.
inline constexpr std::size_t kMaxAuthInfoSize = 64 * 1024;

// Pure apart from reading the cache: the identity for `login` from the
// text of the SSH_USER_AUTH file. PermissionDenied with a short reason
// (for the user's one-line message and the log) when there is no
// certificate line, more than one certificate, a certificate that does
// not parse or verify, a host certificate, one not valid at `now`, one
// that does not list `login` as a principal, one signed by a CA not in the
// cache, an unreadable or unsafe cache, or a policy that denies the login.
Result<Identity> ResolveIdentity(std::string_view auth_info, const std::string& login,
                                 const node::CacheLocation& cache, std::int64_t now);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_IDENTITY_H_
