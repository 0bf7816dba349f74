// Store: everything gate-ca persists. SQL lives only in this folder; a
// PostgreSQL implementation will be a second subclass.
//
// Every mutating method is atomic: it either applies completely or changes
// nothing. Implementations are thread-safe.
#ifndef GATE_CA_STORE_STORE_H_
#define GATE_CA_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gate/policy.h"
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

struct SignupToken {
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::string user;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  SecretString totp_secret;  // offered to the user at signup start; empty until then
};

struct AuditEvent {
  std::int64_t time = 0;
  std::string event;  // "user.login", "user.signup", "user.create", ...
  std::string user;
  std::string source;  // peer address or "admin"
  bool success = false;
  std::string detail;  // never a secret
};

// What `gatectl audit` asks for (GET /admin/v1/audit). Empty strings and
// since == 0 select everything.
struct AuditQuery {
  std::size_t limit = 50;    // the newest `limit` events that match
  std::string user;          // exactly this user
  std::string event_prefix;  // "user.login", or "session." for a family
  std::int64_t since = 0;    // time >= since (Unix seconds)
  std::optional<bool> success;
};

struct IssuedCertificate {
  std::uint64_t serial = 0;
  std::string user;
  std::string key_id;
  std::int64_t valid_after = 0;
  std::int64_t valid_before = 0;
  std::int64_t issued_at = 0;
};

// An admin's lock on a user: no certificate is issued and nodes refuse the
// user's logins while it is in force. At most one per user.
struct LockRecord {
  std::string user;
  std::int64_t expires_at = 0;  // unix seconds; 0 = until unlocked
  std::string message;          // shown to the user and in logs; never a secret
  std::int64_t created_at = 0;
};

// A single-use token that lets one node join (docs/node-protocol.md).
struct NodeToken {
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  policy::Labels labels;  // given to the node that joins with it
};

// A joined node.
struct NodeRecord {
  std::string host_uuid;  // the node's identity and its host certificate's key id
  std::string hostname;
  std::string host_key;  // "ssh-ed25519 AAAA..." (no comment), as registered at join
  policy::Labels labels;
  std::string secret_hash;  // hex SHA-256 of the node secret
  std::int64_t joined_at = 0;
  std::int64_t last_sync = 0;  // unix seconds of the last policy fetch; 0 = never
  // "ssh-ed25519 AAAA..." that signs the node's recordings' checkpoints
  // (PUT /v1/nodes/recorder-key); empty until the node registers one.
  std::string recorder_key;
};

// A recorded session in gate-ca's index (docs/recording.md, "Central
// collection"). The recording itself is a file beside the database; the
// index holds what listing and access decisions need.
struct SessionRecord {
  std::string id;         // session UUID (canonical lower case)
  std::string user;       // Gate user (the certificate's key id)
  std::string login;      // OS account
  std::string host_uuid;  // the node that recorded it (no foreign key: sessions outlive nodes)
  std::string node_name;  // the node's hostname when the session arrived
  std::string mode;       // "interactive", "exec" or "exec-pty"
  std::int64_t started_at = 0;  // unix seconds, from the recording's header
  std::int64_t ended_at = 0;    // unix seconds; 0 while live
  bool live = true;             // until the node completes the upload
  std::int64_t size = 0;        // bytes gate-ca holds
  std::int64_t created_at = 0;  // first chunk received
  // Set when completed.
  std::int64_t completed_at = 0;
  std::string sha256;         // lower-case hex of the whole file
  bool verified = false;      // every byte covered by a good signed checkpoint
  std::string verify_detail;  // "complete", or why not verified; never a secret
  std::string exit;           // the "x" event's data (JSON text), or empty
};

// Which sessions ListSessions returns. Empty strings and nullopt filter
// nothing.
struct SessionFilter {
  std::optional<bool> live;
  std::string user;          // exact Gate user
  std::string node;          // exact host UUID or node name
  std::int64_t since = 0;    // started_at >= since, or still live
  std::size_t limit = 1000;  // newest first
  // Access: when set, only sessions of `owner` or on one of `nodes` (host
  // UUIDs) are returned.
  struct Visibility {
    std::string owner;
    std::vector<std::string> nodes;
  };
  std::optional<Visibility> visible_to;
};

// A revoked user certificate. valid_before is the certificate's own, so a
// revocation can leave the KRL once the certificate has expired anyway.
struct Revocation {
  std::uint64_t serial = 0;
  std::string user;
  std::int64_t revoked_at = 0;
  std::int64_t valid_before = 0;
};

// What the KRL is built from.
struct RevocationList {
  std::uint64_t version = 0;            // increases with every revocation; never reused
  std::vector<Revocation> revocations;  // of certificates not yet expired, by serial
};

class Store {
 public:
  virtual ~Store() = default;

  // Users. CreateUser: AlreadyExists if the name is taken.
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

  // Roles, stored as policy::Role. CreateRole: AlreadyExists if the name is
  // taken. UpdateRole replaces a role wholesale (NotFound if absent).
  // ModifyRole is a read-modify-write in one transaction, so concurrent
  // changes to one role cannot overwrite each other: it loads the role
  // (NotFound if absent), passes it to change and stores the role change
  // returns, which it also returns. If change fails, its Status is returned
  // and nothing is written; the changed role must keep its name and pass the
  // checks of UpdateRole (InvalidArgument otherwise). change runs with the
  // store locked: it must not call the store.
  // DeleteRole: NotFound if absent; FailedPrecondition, naming the users,
  // while any user holds the role (checked in the same transaction).
  using RoleChange = std::function<Result<policy::Role>(const policy::Role&)>;
  virtual Status CreateRole(const policy::Role& role) = 0;
  virtual Status UpdateRole(const policy::Role& role) = 0;
  virtual Result<policy::Role> ModifyRole(const std::string& name, const RoleChange& change) = 0;
  virtual Result<policy::Role> GetRole(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<policy::Role>> ListRoles() = 0;          // by name
  virtual Status DeleteRole(const std::string& name) = 0;

  // Locks. SetLock creates or replaces the user's lock (NotFound if the user
  // does not exist); a user's lock goes with the user. DeleteLock: NotFound
  // if the user has no lock. ListLocks returns expired locks too (by user);
  // policy::ActiveLock decides which are in force.
  virtual Status SetLock(const LockRecord& lock) = 0;
  virtual Status DeleteLock(const std::string& user) = 0;
  virtual Result<std::vector<LockRecord>> ListLocks() = 0;

  // Node join tokens. Stored by hash only.
  virtual Status CreateNodeToken(const NodeToken& token) = 0;                 // AlreadyExists
  virtual Result<NodeToken> GetNodeToken(const std::string& token_hash) = 0;  // NotFound
  virtual Status DeleteExpiredNodeTokens(std::int64_t now) = 0;

  // Nodes.
  // The whole of a join, in one transaction: the token must exist (NotFound
  // "node join token not found") and have expires_at > now
  // (FailedPrecondition "node join token expired"); deletes it and inserts
  // node (AlreadyExists if the host UUID is taken). So a token admits one
  // node however many joins race for it.
  virtual Status CompleteNodeJoin(const std::string& token_hash, std::int64_t now,
                                  const NodeRecord& node) = 0;
  virtual Result<NodeRecord> GetNode(const std::string& host_uuid) = 0;  // NotFound
  virtual Result<std::vector<NodeRecord>> ListNodes() = 0;      // by hostname, then host UUID
  virtual Status DeleteNode(const std::string& host_uuid) = 0;  // NotFound
  virtual Status RecordNodeSync(const std::string& host_uuid, std::int64_t now) = 0;  // NotFound
  // Replaces the node's recorder key (may be empty). NotFound.
  virtual Status SetNodeRecorderKey(const std::string& host_uuid, const std::string& key) = 0;

  // Recorded sessions. CreateSession: AlreadyExists if the id is taken.
  virtual Status CreateSession(const SessionRecord& session) = 0;
  virtual Result<SessionRecord> GetSession(const std::string& id) = 0;  // NotFound
  // Sets the size gate-ca holds (chunks, truncation). NotFound.
  virtual Status SetSessionSize(const std::string& id, std::int64_t size) = 0;
  // Stores the completion fields of session (live = 0, ended_at, size,
  // completed_at, sha256, verified, verify_detail, exit) for session.id.
  // NotFound.
  virtual Status CompleteSession(const SessionRecord& session) = 0;
  // Newest first (started_at, then id), at most filter.limit.
  virtual Result<std::vector<SessionRecord>> ListSessions(const SessionFilter& filter) = 0;
  virtual Result<std::int64_t> CountLiveSessions(const std::string& host_uuid) = 0;
  // Completed sessions gate-ca finished receiving before `before`
  // (completed_at, gate-ca's own clock), oldest first, at most limit.
  virtual Result<std::vector<SessionRecord>> ListSessionsCompletedBefore(std::int64_t before,
                                                                         std::size_t limit) = 0;
  // Removes a session's index row (retention). NotFound.
  virtual Status DeleteSession(const std::string& id) = 0;

  // Revocations. Only certificates this CA issued (the certificates table)
  // can be revoked; each revocation that changes anything increments the
  // revocation list version in the same transaction.
  // RevokeCertificate: NotFound for a serial never issued; revoking a
  // revoked serial again returns the first revocation and changes nothing.
  virtual Result<Revocation> RevokeCertificate(std::uint64_t serial, std::int64_t now) = 0;
  // Revokes every certificate issued to user with valid_before > now that is
  // not revoked yet, and returns those (by serial; empty if none). The user
  // need not exist any more: a deleted user's certificates stay revocable.
  virtual Result<std::vector<Revocation>> RevokeUserCertificates(const std::string& user,
                                                                 std::int64_t now) = 0;
  // The version and the revocations with valid_before > now, in one read.
  virtual Result<RevocationList> ListRevocations(std::int64_t now) = 0;

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
                                const std::string& password_hash, const SecretString& totp_secret,
                                std::int64_t totp_step) = 0;
  virtual Status DeleteExpiredSignupTokens(std::int64_t now) = 0;

  // Certificates. AlreadyExists if the serial was ever used.
  virtual Status RecordCertificate(const IssuedCertificate& cert) = 0;
  virtual Result<std::vector<IssuedCertificate>> ListCertificates(const std::string& user) = 0;

  // Audit log, append-only.
  virtual Status AppendAudit(const AuditEvent& event) = 0;
  // The events query selects, newest first (by order of appending).
  virtual Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query) = 0;
  Result<std::vector<AuditEvent>> ListAudit(std::size_t limit) {
    AuditQuery query;
    query.limit = limit;
    return ListAudit(query);
  }
};

// Opens (creating if needed, mode 0600) the SQLite database at path, in WAL
// mode, and migrates its schema. Refuses a database file that is a symlink,
// not owned by this euid, or readable by group/others.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace gate::ca

#endif  // GATE_CA_STORE_STORE_H_
