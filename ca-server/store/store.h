// Store: everything gate-ca persists. SQL lives only in this folder; a
// PostgreSQL implementation will be a second subclass.
//
// Every mutating method is atomic: it either applies completely or changes
// nothing. Implementations are thread-safe.
#ifndef GATE_CA_STORE_STORE_H_
#define GATE_CA_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

struct UserRecord {
  std::string name;
  std::vector<std::string> logins;  // OS logins this user may use
  std::vector<std::string> roles;
  std::int64_t created_at = 0;      // unix seconds
  // Set at signup; empty before.
  std::string password_hash;        // argon2id encoded string
  SecretString totp_secret;         // raw secret bytes; empty if no OTP enrolled
  // Authentication state.
  int failed_attempts = 0;          // consecutive failures
  std::int64_t locked_until = 0;    // unix seconds; 0 = not locked out
  std::int64_t last_totp_step = -1; // highest TOTP time step ever accepted

  bool signed_up() const { return !password_hash.empty(); }
};

struct SignupToken {
  std::string token_hash;     // hex SHA-256 of the token; the token itself is never stored
  std::string user;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  SecretString totp_secret;   // offered to the user at signup start; empty until then
};

struct AuditEvent {
  std::int64_t time = 0;
  std::string event;    // "user.login", "user.signup", "user.create", ...
  std::string user;
  std::string source;   // peer address or "admin"
  bool success = false;
  std::string detail;   // never a secret
};

struct IssuedCertificate {
  std::uint64_t serial = 0;
  std::string user;
  std::string key_id;
  std::int64_t valid_after = 0;
  std::int64_t valid_before = 0;
  std::int64_t issued_at = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Users. CreateUser: AlreadyExists if the name is taken.
  virtual Status CreateUser(const UserRecord& user) = 0;
  virtual Result<UserRecord> GetUser(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;          // by name
  // Removes the user, its signup tokens. NotFound if absent.
  virtual Status DeleteUser(const std::string& name) = 0;
  // Forgets credentials and auth state (password, OTP, counters) so the user
  // must sign up again; deletes the user's outstanding signup tokens.
  virtual Status ResetUserCredentials(const std::string& name) = 0;

  // Login bookkeeping.
  // Adds one consecutive failure at `now`; when the count reaches
  // lockout_attempts, sets locked_until = now + lockout_seconds and resets the
  // count. Returns the updated record.
  virtual Result<UserRecord> RecordLoginFailure(const std::string& name, std::int64_t now,
                                                int lockout_attempts,
                                                std::int64_t lockout_seconds) = 0;
  virtual Status RecordLoginSuccess(const std::string& name) = 0;  // count -> 0
  // Atomically: if step > last_totp_step, store it and return true; else
  // return false (the code was used before, or is older than one that was).
  virtual Result<bool> ConsumeTotpStep(const std::string& name, std::int64_t step) = 0;

  // Signup tokens. Stored by hash only.
  virtual Status CreateSignupToken(const SignupToken& token) = 0;
  virtual Result<SignupToken> GetSignupToken(const std::string& token_hash) = 0;  // NotFound
  // Stores the TOTP secret offered for this token if none is stored yet and
  // returns the token as stored (so repeated starts offer the same secret).
  virtual Result<SignupToken> OfferTotpSecret(const std::string& token_hash,
                                              const SecretString& secret) = 0;
  // The whole of a signup, in one transaction: the token must exist and have
  // expires_at > now (NotFound / FailedPrecondition "signup token expired"),
  // its user must exist; sets the user's password hash, TOTP secret and
  // last_totp_step (-1 for none), resets counters, deletes the token and any
  // other outstanding signup tokens of that user.
  virtual Status CompleteSignup(const std::string& token_hash, std::int64_t now,
                                const std::string& password_hash,
                                const SecretString& totp_secret,
                                std::int64_t totp_step) = 0;
  virtual Status DeleteExpiredSignupTokens(std::int64_t now) = 0;

  // Certificates. AlreadyExists if the serial was ever used.
  virtual Status RecordCertificate(const IssuedCertificate& cert) = 0;
  virtual Result<std::vector<IssuedCertificate>> ListCertificates(const std::string& user) = 0;

  // Audit log, append-only.
  virtual Status AppendAudit(const AuditEvent& event) = 0;
  virtual Result<std::vector<AuditEvent>> ListAudit(std::size_t limit) = 0;  // newest first
};

// Opens (creating if needed, mode 0600) the SQLite database at path, in WAL
// mode, and migrates its schema. Refuses a database file that is a symlink,
// not owned by this euid, or readable by group/others.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace gate::ca

#endif  // GATE_CA_STORE_STORE_H_
