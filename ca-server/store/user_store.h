// UserStore: users, their credentials and their login bookkeeping. One of
// the aggregates Store (store.h) composes; store.h states the contract all
// of them share (atomicity, thread safety).
#ifndef GATE_CA_STORE_USER_STORE_H_
#define GATE_CA_STORE_USER_STORE_H_

#include <cstdint>
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
  std::int64_t created_at = 0;  // unix seconds
  // Set at signup; empty before.
  std::string password_hash;  // argon2id encoded string
  SecretString totp_secret;   // raw secret bytes; empty if no OTP enrolled
  // Authentication state.
  int failed_attempts = 0;           // consecutive failures
  std::int64_t locked_until = 0;     // unix seconds; 0 = not locked out
  std::int64_t last_totp_step = -1;  // highest TOTP time step ever accepted

  bool signed_up() const { return !password_hash.empty(); }
};

class UserStore {
 public:
  virtual ~UserStore() = default;

  // CreateUser: AlreadyExists if the name is taken.
  virtual Status CreateUser(const UserRecord& user) = 0;
  virtual Result<UserRecord> GetUser(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;          // by name
  // Removes the user, its signup tokens and its lock. NotFound if absent.
  virtual Status DeleteUser(const std::string& name) = 0;
  // Forgets credentials and auth state (password, OTP, counters) so the user
  // must sign up again; deletes the user's outstanding signup tokens.
  virtual Status ResetUserCredentials(const std::string& name) = 0;
  // Replaces the user's logins and/or roles (nullopt keeps that list) and
  // returns the updated record. NotFound if the user does not exist or a
  // named role does not exist (checked in the same transaction, so a role
  // removed concurrently cannot be attached). CreateUser does not check
  // roles; the admin API does before calling it, and a role that does not
  // exist grants nothing (policy::ComputeGrant).
  virtual Result<UserRecord> UpdateUser(const std::string& name,
                                        const std::optional<std::vector<std::string>>& logins,
                                        const std::optional<std::vector<std::string>>& roles) = 0;

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
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_USER_STORE_H_
