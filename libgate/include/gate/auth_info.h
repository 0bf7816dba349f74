// sshd's record of how a session authenticated: one line per completed
// method ("publickey ssh-ed25519-cert-v01@openssh.com AAAA..."), in the file
// named by SSH_USER_AUTH (ExposeAuthInfo) and in PAM's SSH_AUTH_INFO_0.
// pam_gate.so and gate-record both look for the Gate certificate in it.
#ifndef GATE_AUTH_INFO_H_
#define GATE_AUTH_INFO_H_

#include <cstddef>
#include <string_view>
#include <vector>

namespace gate::ssh {

struct AuthInfoCertificate {
  std::size_t line = 0;  // 1-based line number, for error messages
  std::string_view key;  // "TYPE BASE64[ comment]", pointing into the input
};

// The publickey lines whose key type is an OpenSSH certificate
// ("*-cert-v01@openssh.com"), in order; every other line is skipped.
std::vector<AuthInfoCertificate> AuthInfoCertificates(std::string_view auth_info);

}  // namespace gate::ssh

#endif  // GATE_AUTH_INFO_H_
