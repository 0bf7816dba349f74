// Security keys for gate-ca's users: the two WebAuthn ceremonies
// (registering a key, and a key as the second factor of a login) over the
// store, the challenge table and the verification in webauthn.h. The HTTP
// layer decides who may start a ceremony (a logged-in user with a fresh
// second factor registers; a user whose password was just accepted logs
// in) and passes the browser's response here as bytes.
//
// Every finish is audited (event kRegisterEvent or kLoginEvent, with the
// source, the device name when known, and the reason of a refusal; never a
// challenge or signature). A signature counter that did not move forward is
// refused and audited as a possibly cloned key.
//
// Thread safety: all methods may be called concurrently (the store, the
// challenge table and the audit log are).
#ifndef GATE_CA_AUTH_WEBAUTHN_SERVICE_H_
#define GATE_CA_AUTH_WEBAUTHN_SERVICE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/webauthn.h"
#include "ca-server/auth/webauthn_challenges.h"
#include "ca-server/store/store.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::string_view kWebauthnRegisterEvent = "user.webauthn_register";
inline constexpr std::string_view kWebauthnLoginEvent = "user.webauthn";

// What the browser needs to call navigator.credentials.create() / .get().
struct WebauthnCeremony {
  webauthn::Bytes challenge;
  std::string rp_id;
  bool user_verification_required = false;
  // Registration: the user's keys, to exclude. Login: the keys to allow.
  std::vector<webauthn::Bytes> credentials;
};

class WebauthnService {
 public:
  WebauthnService(webauthn::RelyingParty rp, UserStore& store, AuditLog& audit,
                  WebauthnChallenges& challenges)
      : rp_(std::move(rp)), store_(store), audit_(audit), challenges_(challenges) {}

  // A registration challenge for user. NotFound if the user does not exist;
  // ResourceExhausted from the challenge table.
  Result<WebauthnCeremony> BeginRegistration(const std::string& user, std::int64_t now);

  // Verifies response against user's outstanding registration challenge
  // (taken, so it works once) and stores the key as device `name`. Returns
  // the stored device. Unauthenticated or InvalidArgument from the
  // verification (webauthn.h) or a missing/expired challenge;
  // AlreadyExists/InvalidArgument from UserStore::AddDevice (name taken or
  // bad, key registered already). Nothing is stored on any failure.
  Result<MfaDevice> FinishRegistration(const std::string& user, const std::string& name,
                                       const webauthn::RegistrationResponse& response,
                                       const std::string& source, std::int64_t now);

  // A login challenge for user, allowing the user's keys.
  // FailedPrecondition if the user has no security key.
  Result<WebauthnCeremony> BeginLogin(const std::string& user, std::int64_t now);

  // Verifies response against the login challenge (taken) and the user's
  // key with its credential id, then moves the key's signature counter
  // (UserStore::ConsumeWebauthnCounter). OK only if all of that holds.
  // Unauthenticated for an unknown credential, a failed check, or a counter
  // that did not move forward (audited as a possibly cloned key).
  Status FinishLogin(const std::string& user, const webauthn::AssertionResponse& response,
                     const std::string& source, std::int64_t now);

 private:
  Status Refuse(const std::string& user, std::string_view event, const std::string& source,
                std::int64_t now, const std::string& detail, Status status);

  const webauthn::RelyingParty rp_;
  UserStore& store_;
  AuditLog& audit_;
  WebauthnChallenges& challenges_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_WEBAUTHN_SERVICE_H_
