// Who the Gate user is: sshd tells the PAM stack which keys it accepted
// through the PAM environment variable SSH_AUTH_INFO_0 (set by sshd before
// keyboard-interactive:pam runs; one line per completed method, e.g.
// "publickey ssh-ed25519-cert-v01@openssh.com AAAA..."). With a Gate
// certificate the second factor must belong to the certificate's identity
// (its key id), not merely to the local account it logs into.
//
// SSH_AUTH_INFO_0 lives in the PAM environment, which only the application
// (sshd) sets; a user cannot plant it through the process environment
// (AcceptEnv/SendEnv reach the session, never pam_getenv during auth).
#ifndef GATE_PAM_AUTH_INFO_H_
#define GATE_PAM_AUTH_INFO_H_

#include <security/pam_modules.h>

#include <optional>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::pam {

// Pure: the key id of the certificate in auth_info, nullopt if no publickey
// line carries a certificate. Every certificate line must parse
// (ssh::ParseCertificateVerifiedBySshd: sshd checked the signature, the CA
// and validity before it exposed the line, and only sshd sets
// SSH_AUTH_INFO_0; checking the signature again would load libcrypto into
// every PAM stack and prove nothing, as certificates are public) and all of
// them must name the same key id; otherwise
// InvalidArgument (the caller fails closed). Plain (non-certificate) keys
// and other methods are skipped.
Result<std::optional<std::string>> CertificateKeyId(std::string_view auth_info);

// The gate user for this PAM transaction: CertificateKeyId of
// pam_getenv(pamh, "SSH_AUTH_INFO_0") if it names one, else pam_user.
Result<std::string> GateUserFor(pam_handle_t* pamh, const std::string& pam_user);

}  // namespace gate::pam

#endif  // GATE_PAM_AUTH_INFO_H_
