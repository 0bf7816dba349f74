// Signup: one-time tokens that let a new (or reset) user choose a password
// and enroll a second factor.
//
// Tokens are 128 random bits shown once to the admin and stored only as a
// SHA-256 hash; a token is single use and expires. The whole signup commits in
// one store transaction, so a rejected attempt (bad password, wrong code,
// expired token) changes nothing and the token stays usable until expiry.
#ifndef GATE_CA_AUTH_SIGNUP_H_
#define GATE_CA_AUTH_SIGNUP_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "ca-server/audit/audit.h"
#include "ca-server/store/store.h"
#include "gate/config.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

struct SignupOptions {
  std::string cluster_name;  // issuer shown in authenticator apps
  SecondFactor second_factor = SecondFactor::kOtp;
  int password_min_length = 12;
};

// What a signup link's token is, for a page that must say which ("this
// link was already used", ...).
enum class SignupTokenState { kLive, kUnknown, kUsed, kExpired };

// Used and expired tokens are kept this long past their expiry (pruned at
// start-up), so a late visit to their link says what happened to it.
inline constexpr std::chrono::hours kSpentSignupTokenMemory{7 * 24};

struct SignupOffer {
  std::string user;
  std::string totp_uri;  // otpauth:// URI; empty when second_factor is off
  std::int64_t expires_at = 0;
};

class SignupService {
 public:
  SignupService(SignupOptions options, Store& store, AuditLog& audit)
      : options_(std::move(options)), store_(store), audit_(audit) {}

  // Creates a token for an existing user, valid for ttl. Returns the token
  // itself; only its hash is stored.
  Result<std::string> CreateToken(const std::string& user, std::chrono::seconds ttl,
                                  std::int64_t now);

  // Which state token is in at now: kUnknown for junk and tokens never
  // issued (or long pruned). Store errors as they are. Reads only.
  Result<SignupTokenState> TokenState(const std::string& token, std::int64_t now);

  // Deletes tokens that expired more than kSpentSignupTokenMemory before now.
  Status PruneTokens(std::int64_t now);

  // Looks the token up and offers the TOTP secret to enroll (the same one on
  // every call for the same token). NotFound for an unknown or used token,
  // FailedPrecondition for an expired one.
  Result<SignupOffer> Start(const std::string& token, std::int64_t now);

  // Completes the signup: password policy, then the OTP code for the offered
  // secret, then one transaction. Returns the user name.
  Result<std::string> Finish(const std::string& token, const SecretString& password,
                             const SecretString& otp_code, const std::string& source,
                             std::int64_t now);

  const SignupOptions& options() const { return options_; }

 private:
  Result<SignupToken> FindLiveToken(const std::string& token, std::int64_t now);

  SignupOptions options_;
  Store& store_;
  AuditLog& audit_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_SIGNUP_H_
