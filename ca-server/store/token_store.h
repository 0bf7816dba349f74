// TokenStore: single-use tokens, for user signup and for node join. Stored
// by hash only. One of the aggregates Store (store.h) composes.
#ifndef GATE_CA_STORE_TOKEN_STORE_H_
#define GATE_CA_STORE_TOKEN_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gate/policy.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

struct SignupToken {
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::string user;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  SecretString totp_secret;  // offered to the user at signup start; empty until then
  // Unix seconds the token was used to sign up; 0 while unused. A used
  // token keeps its hash (and loses its TOTP secret) until it is pruned,
  // so a second visit can be told "already used" rather than "unknown".
  std::int64_t used_at = 0;
};

// A single-use token that lets one node join (docs/node-protocol.md).
struct NodeToken {
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  policy::Labels labels;  // given to the node that joins with it
  // Host names, beyond its hostname, the node joining with it may have on
  // its host certificate (approved by the admin who made the token).
  std::vector<std::string> principals;
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;

  // Signup tokens.
  virtual Status CreateSignupToken(const SignupToken& token) = 0;
  virtual Result<SignupToken> GetSignupToken(const std::string& token_hash) = 0;  // NotFound
  // Stores the TOTP secret offered for this token if none is stored yet and
  // it is unused, and returns the token as stored (so repeated starts offer
  // the same secret).
  virtual Result<SignupToken> OfferTotpSecret(const std::string& token_hash,
                                              const SecretString& secret) = 0;
  // The whole of a signup, in one transaction: the token must exist
  // (NotFound), be unused (NotFound, "signup token already used") and pass
  // check, which decides whether it may still be used (expiry is the
  // caller's rule, SignupService's); if check fails, its Status is returned
  // and nothing is written. Then its user must exist; sets the user's
  // password hash, TOTP secret and last_totp_step (-1 for none), clears the
  // name's login failure counters, marks the token used at used_at (and
  // forgets its TOTP secret) and deletes any other unused signup tokens of
  // that user. So a token signs up once however many signups race for it.
  // check runs with the store locked: it must not call the store.
  using SignupTokenCheck = std::function<Status(const SignupToken&)>;
  virtual Status CompleteSignup(const std::string& token_hash, const SignupTokenCheck& check,
                                const std::string& password_hash, const SecretString& totp_secret,
                                std::int64_t totp_step, std::int64_t used_at) = 0;
  // Deletes every signup token, used or not, with expires_at <= before.
  virtual Status DeleteExpiredSignupTokens(std::int64_t before) = 0;

  // Node join tokens. Whether a token still admits a node (expiry) is the
  // caller's rule (NodeEnrollment, nodes/node_enrollment.h).
  virtual Status CreateNodeToken(const NodeToken& token) = 0;                 // AlreadyExists
  virtual Result<NodeToken> GetNodeToken(const std::string& token_hash) = 0;  // NotFound
  // Atomically deletes the token (with its labels) and returns it as it was
  // stored; NotFound if there is none. So of any number of consumers racing
  // for one token, exactly one gets it; in a transaction that rolls back,
  // the token is back.
  virtual Result<NodeToken> ConsumeNodeToken(const std::string& token_hash) = 0;
  virtual Status DeleteExpiredNodeTokens(std::int64_t now) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_TOKEN_STORE_H_
