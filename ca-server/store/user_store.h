// UserStore: users, their credentials and their login bookkeeping. One of
// the aggregates Store (store.h) composes; store.h states the contract all
// of them share (atomicity, thread safety).
#ifndef GATE_CA_STORE_USER_STORE_H_
#define GATE_CA_STORE_USER_STORE_H_

#include <cstddef>
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
  // The user's first TOTP device (oldest), as the OTP paths use it: CreateUser
  // with a secret adds it as the device "otp"; reads fill these from it. Empty
  // secret and -1 when the user has no TOTP device. Every device, TOTP or
  // security key, is in ListDevices.
  SecretString totp_secret;          // raw secret bytes
  std::int64_t last_totp_step = -1;  // highest TOTP time step ever accepted
  // Users of a single sign-on connector (docs/connectors.md) have no
  // password and no signup: the connector's name and the identity
  // provider's subject they belong to. Empty for local users.
  std::string connector;
  std::string idp_subject;

  bool sso() const { return !connector.empty(); }
  // A user who can hold sessions and certificates: signed up with a
  // password, or created by a connector.
  bool signed_up() const { return !password_hash.empty() || sso(); }
};

// Failed logins counted for one user name and one source (a peer address,
// a node, or kEverySource for the name's total). The name is as it was
// typed: unknown names are counted like known ones, so the answers cannot
// tell them apart.
// A second-factor device of a user: a TOTP app or a WebAuthn security key.
enum class DeviceKind { kTotp, kWebauthn };

// "totp" or "webauthn": the names the store, the API and the audit use.
const char* DeviceKindName(DeviceKind kind);

struct MfaDevice {
  std::string user;
  std::string name;  // unique per user; chosen by the user ("otp" for signup's)
  DeviceKind kind = DeviceKind::kTotp;
  std::int64_t created_at = 0;    // unix seconds
  std::int64_t last_used_at = 0;  // unix seconds; 0 = never used
  // kTotp only.
  SecretString totp_secret;
  std::int64_t last_totp_step = -1;
  // kWebauthn only. The credential id is unique across every user (an RP
  // must not register one credential to two accounts).
  std::vector<std::uint8_t> credential_id;
  std::vector<std::uint8_t> public_key;  // the COSE_Key the key registered
  std::int64_t cose_alg = 0;             // COSE algorithm: -7 ES256, -8 EdDSA
  std::int64_t sign_count = 0;           // last signature counter seen
  int flags = 0;                         // authenticator data flags at registration (UV, BE, BS)
};

struct LoginFailures {
  std::string user;
  std::string source;
  int count = 0;                   // failures since window_start
  std::int64_t window_start = 0;   // unix seconds of the first counted failure
  std::int64_t blocked_until = 0;  // unix seconds; 0 = not blocked
};

inline constexpr char kEverySource[] = "*";

class UserStore {
 public:
  virtual ~UserStore() = default;

  // CreateUser: AlreadyExists if the name is taken.
  virtual Status CreateUser(const UserRecord& user) = 0;
  virtual Result<UserRecord> GetUser(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;          // by name
  // One page of ListUsers: at most limit users whose names sort after
  // `after` ("" = from the first), by name.
  virtual Result<std::vector<UserRecord>> ListUsersAfter(const std::string& after,
                                                         std::size_t limit) = 0;
  // Removes the user, its signup tokens, browser sessions and lock.
  // NotFound if absent.
  virtual Status DeleteUser(const std::string& name) = 0;
  // Forgets credentials and auth state (password, OTP, the name's login
  // failure counters, browser sessions) so the user must sign up again;
  // deletes the user's unused signup tokens.
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

  // A connector's user after a verified login: creates user (created_at,
  // logins, roles, connector, idp_subject as given) or, for a user of the
  // same connector and subject, replaces its logins and roles, in one
  // transaction; returns the stored record. AlreadyExists, changing
  // nothing, when the name belongs to a local user or to another connector
  // or subject (an identity provider must never take over a name it did not
  // create). InvalidArgument when connector or idp_subject is empty. Roles
  // need not exist (one that does not grants nothing).
  virtual Result<UserRecord> UpsertSsoUser(const UserRecord& user) = 0;

  // Login bookkeeping: primitives only. What counts as a failure, and when
  // a source or user is throttled, is decided in auth/ (LoginThrottle),
  // which reads and writes these counters in one Store::InTransaction.
  // GetLoginFailures returns a record with count 0 when none is stored;
  // PutLoginFailures creates or replaces the record of (user, source);
  // ClearLoginFailures removes it (OK if absent); PruneLoginFailures removes
  // every record whose window started before window_before and whose block
  // ended by blocked_before. None of them needs the user to exist.
  virtual Result<LoginFailures> GetLoginFailures(const std::string& user,
                                                 const std::string& source) = 0;
  virtual Status PutLoginFailures(const LoginFailures& failures) = 0;
  virtual Status ClearLoginFailures(const std::string& user, const std::string& source) = 0;
  virtual Status PruneLoginFailures(std::int64_t window_before, std::int64_t blocked_before) = 0;
  // Atomically: if step > last_totp_step, store it and return true; else
  // return false (the code was used before, or is older than one that was).
  // Applies to the user's first TOTP device (UserRecord::totp_secret's);
  // false when the user has none. NotFound if the user does not exist.
  virtual Result<bool> ConsumeTotpStep(const std::string& name, std::int64_t step) = 0;

  // Second-factor devices. Whether a removal may leave a user without a
  // factor is decided by the caller (in a transaction with ListDevices).
  // AddDevice: InvalidArgument for an empty or over-long (> 64 bytes) name,
  // a TOTP device without a secret, or a WebAuthn device without a
  // credential id or public key; NotFound if the user does not exist;
  // AlreadyExists if the user has a device of that name or the credential
  // id is registered to anyone.
  virtual Status AddDevice(const MfaDevice& device) = 0;
  // The user's devices, oldest first. NotFound if the user does not exist.
  virtual Result<std::vector<MfaDevice>> ListDevices(const std::string& user) = 0;
  // NotFound if the user has no device of that name.
  virtual Status RemoveDevice(const std::string& user, const std::string& name) = 0;
  // Atomically, for the user's WebAuthn device with this credential id: if
  // sign_count is greater than the stored counter, or both are 0 (a key
  // without a counter), store sign_count and last_used_at = now and return
  // true; otherwise return false and change nothing (a counter that did not
  // move forward: a replayed assertion or a cloned key). NotFound if the
  // user has no such credential.
  virtual Result<bool> ConsumeWebauthnCounter(const std::string& user,
                                              const std::vector<std::uint8_t>& credential_id,
                                              std::int64_t sign_count, std::int64_t now) = 0;
  // Sets the device's last_used_at. NotFound if the user has no such device.
  virtual Status RecordDeviceUse(const std::string& user, const std::string& name,
                                 std::int64_t now) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_USER_STORE_H_
