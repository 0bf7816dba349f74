// The SQLite implementation of Store (internal to ca-server/store/; callers
// use OpenSqliteStore in store.h).
//
// Concurrency: one writer connection, used by one operation at a time under
// a mutex. Every operation runs in a transaction of its own on a connection
// leased from the ConnectionPool; writes take the writer, reads a reader
// connection (see ConnectionPool). Statements are prepared per call: gate-ca's
// rate of operations is low, and every value reaches SQL as a bound
// parameter.
//
// The per-aggregate operations are defined in sqlite_<aggregate>.cc; the
// shared row helpers (ordered lists and label sets in child tables) in
// sqlite_store.cc.
#ifndef GATE_CA_STORE_SQLITE_STORE_H_
#define GATE_CA_STORE_SQLITE_STORE_H_

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ca-server/store/sqlite_stmt.h"
#include "ca-server/store/sqlite_vfs.h"
#include "ca-server/store/store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca::sqlite {

// The connections of one database file.
//
// Contract: a write lease holds the one writer connection (and its mutex)
// for the length of one transaction, so writers run one after another. A
// read lease holds one of the reader connections, each in WAL mode, so a
// read sees the last committed state and proceeds while a write transaction
// is open and beside other reads; it waits only when every reader is
// leased. With no readers (a pool built with none) reads share the writer.
// Thread-safe.
class ConnectionPool {
 public:
  // Leases one connection; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    sqlite3* db() const { return db_; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, sqlite3* db, bool writer) : pool_(pool), db_(db), writer_(writer) {}
    ConnectionPool* pool_;
    sqlite3* db_;
    bool writer_;
  };

  // vfs (may be null) is the VFS the connections were opened through; the
  // pool keeps it until every connection is closed.
  ConnectionPool(std::unique_ptr<EnvVfs> vfs, Db writer, std::vector<Db> readers);

  Lease Acquire(Transaction::Kind kind);

 private:
  void Return(sqlite3* db, bool writer);

  std::unique_ptr<EnvVfs> vfs_;  // first: destroyed after the connections
  std::mutex writer_mu_;         // held by the writer's lease
  Db writer_;
  std::mutex readers_mu_;
  std::condition_variable reader_free_;
  std::vector<Db> readers_;             // owned; never changes after construction
  std::vector<sqlite3*> idle_readers_;  // guarded by readers_mu_
};

// Whether a transaction may commit after a body returned this outcome.
inline bool Succeeded(const Status& status) { return status.ok(); }
template <typename T>
bool Succeeded(const Result<T>& result) {
  return result.has_value();
}

class SqliteStore final : public Store {
 public:
  // Every operation in a transaction of its own, on a leased connection.
  explicit SqliteStore(std::shared_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {}
  // Every operation inside the caller's open transaction on db (the handle
  // InTransaction and InReadTransaction give their bodies), each in a
  // savepoint of its own. In a read transaction (kind kRead), writes fail
  // with FailedPrecondition before touching the database.
  SqliteStore(sqlite3* open_transaction, Transaction::Kind kind)
      : bound_(open_transaction), bound_kind_(kind) {}

  Status InTransaction(const TransactionBody& body) override;
  Status InReadTransaction(const TransactionBody& body) override;

  // UserStore
  Status CreateUser(const UserRecord& user) override;
  Result<UserRecord> GetUser(const std::string& name) override;
  Result<std::vector<UserRecord>> ListUsers() override;
  Result<std::vector<UserRecord>> ListUsersAfter(const std::string& after,
                                                 std::size_t limit) override;
  Status DeleteUser(const std::string& name) override;
  Status ResetUserCredentials(const std::string& name) override;
  Result<UserRecord> UpsertSsoUser(const UserRecord& user) override;
  Result<UserRecord> UpdateUser(const std::string& name,
                                const std::optional<std::vector<std::string>>& logins,
                                const std::optional<std::vector<std::string>>& roles) override;
  Result<LoginFailures> GetLoginFailures(const std::string& user,
                                         const std::string& source) override;
  Status PutLoginFailures(const LoginFailures& failures) override;
  Status ClearLoginFailures(const std::string& user, const std::string& source) override;
  Status PruneLoginFailures(std::int64_t window_before, std::int64_t blocked_before) override;
  Result<bool> ConsumeTotpStep(const std::string& name, std::int64_t step) override;
  Status AddDevice(const MfaDevice& device) override;
  Result<std::vector<MfaDevice>> ListDevices(const std::string& user) override;
  Status RemoveDevice(const std::string& user, const std::string& name) override;
  Result<bool> ConsumeWebauthnCounter(const std::string& user,
                                      const std::vector<std::uint8_t>& credential_id,
                                      std::int64_t sign_count, std::int64_t now) override;
  Status RecordDeviceUse(const std::string& user, const std::string& name,
                         std::int64_t now) override;

  // RoleStore
  Status CreateRole(const policy::Role& role) override;
  Status UpdateRole(const policy::Role& role) override;
  Result<policy::Role> ModifyRole(const std::string& name, const RoleChange& change) override;
  Result<policy::Role> GetRole(const std::string& name) override;
  Result<std::vector<policy::Role>> ListRoles() override;
  Result<std::vector<policy::Role>> ListRolesAfter(const std::string& after,
                                                   std::size_t limit) override;
  Status DeleteRole(const std::string& name) override;
  Status SetLock(const LockRecord& lock) override;
  Status DeleteLock(const std::string& user) override;
  Result<std::vector<LockRecord>> ListLocks() override;

  // TokenStore
  Status CreateSignupToken(const SignupToken& token) override;
  Result<SignupToken> GetSignupToken(const std::string& token_hash) override;
  Result<SignupToken> OfferTotpSecret(const std::string& token_hash,
                                      const SecretString& secret) override;
  Status CompleteSignup(const std::string& token_hash, const SignupTokenCheck& check,
                        const std::string& password_hash, const SecretString& totp_secret,
                        std::int64_t totp_step, std::int64_t used_at) override;
  Status DeleteExpiredSignupTokens(std::int64_t before) override;
  Status CreateNodeToken(const NodeToken& token) override;
  Result<NodeToken> GetNodeToken(const std::string& token_hash) override;
  Result<NodeToken> ConsumeNodeToken(const std::string& token_hash) override;
  Status DeleteExpiredNodeTokens(std::int64_t now) override;

  // NodeStore
  Status CreateNode(const NodeRecord& node) override;
  Result<NodeRecord> GetNode(const std::string& host_uuid) override;
  Result<std::vector<NodeRecord>> ListNodes() override;
  Status DeleteNode(const std::string& host_uuid) override;
  Status RecordNodeSync(const std::string& host_uuid, std::int64_t now,
                        std::int64_t revision) override;
  Status SetNodePrincipals(const std::string& host_uuid,
                           const std::vector<std::string>& principals) override;
  Status SetNodeRecorderKey(const std::string& host_uuid, const std::string& key) override;
  Status SetNodeSshAddress(const std::string& host_uuid, const std::string& address) override;

  // SessionStore
  Status CreateSession(const SessionRecord& session) override;
  Result<SessionRecord> GetSession(const std::string& id) override;
  Status SetSessionSize(const std::string& id, std::int64_t size) override;
  Status CompleteSession(const SessionRecord& session) override;
  Result<std::vector<SessionRecord>> ListSessions(const SessionFilter& filter) override;
  Result<std::int64_t> CountLiveSessions(const std::string& host_uuid) override;
  Result<std::vector<SessionRecord>> ListSessionsCompletedBefore(std::int64_t before,
                                                                 std::size_t limit) override;
  Status DeleteSession(const std::string& id) override;

  // CertificateStore
  Status RecordCertificate(const IssuedCertificate& cert) override;
  Result<std::vector<IssuedCertificate>> ListCertificates(const std::string& user) override;
  Result<IssuedCertificate> GetCertificate(std::uint64_t serial) override;
  Result<Revocation> GetRevocation(std::uint64_t serial) override;
  Status AddRevocation(const Revocation& revocation) override;
  Result<std::uint64_t> BumpRevocationVersion() override;
  Result<RevocationList> ListRevocations(std::int64_t now) override;

  // AuditStore
  Status AppendAudit(const AuditEvent& event) override;
  using AuditStore::ListAudit;
  Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query) override;

  // PolicyLogStore
  Result<PolicyRevision> GetPolicyRevision() override;
  Result<std::vector<PolicyChange>> ListPolicyChanges(std::int64_t since,
                                                      std::size_t limit) override;
  Status PrunePolicyChanges(std::int64_t keep) override;

  // WebSessionStore
  Status CreateWebSession(const WebSessionRecord& session) override;
  Result<WebSessionRecord> GetWebSession(const std::string& id_hash) override;
  Result<std::vector<WebSessionRecord>> ListUserWebSessions(const std::string& user) override;
  Status TouchWebSession(const std::string& id_hash, std::int64_t last_seen_at) override;
  Status DeleteWebSession(const std::string& id_hash) override;
  Status DeleteUserWebSessions(const std::string& user) override;
  Result<int> DeleteStaleWebSessions(std::int64_t expired_by, std::int64_t idle_since) override;

 private:
  // Runs body(db) as one all-or-nothing unit and returns its outcome (a
  // Status or a Result<T>): in a transaction of the given kind on a leased
  // connection, or in a savepoint of the bound transaction. Commits only if
  // body succeeded; otherwise everything body wrote is rolled back. A failed
  // BEGIN or COMMIT is returned in place of the outcome.
  template <typename Body>
  std::invoke_result_t<Body&, sqlite3*> Run(Transaction::Kind kind, Body&& body);

  std::shared_ptr<ConnectionPool> pool_;  // null when bound_
  sqlite3* bound_ = nullptr;
  Transaction::Kind bound_kind_ = Transaction::Kind::kWrite;
};

template <typename Body>
std::invoke_result_t<Body&, sqlite3*> SqliteStore::Run(Transaction::Kind kind, Body&& body) {
  if (bound_ != nullptr) {
    if (kind == Transaction::Kind::kWrite && bound_kind_ == Transaction::Kind::kRead) {
      return ErrorReturn{FailedPrecondition("store: a write inside a read transaction")};
    }
    Result<Savepoint> savepoint = Savepoint::Begin(bound_);
    if (!savepoint) return ErrorReturn{savepoint.error()};
    std::invoke_result_t<Body&, sqlite3*> outcome = body(bound_);
    if (!Succeeded(outcome)) return outcome;
    GATE_RETURN_IF_ERROR(savepoint->Release());
    return outcome;
  }
  ConnectionPool::Lease lease = pool_->Acquire(kind);
  Result<Transaction> txn = Transaction::Begin(lease.db(), kind);
  if (!txn) return ErrorReturn{txn.error()};
  std::invoke_result_t<Body&, sqlite3*> outcome = body(lease.db());
  if (!Succeeded(outcome)) return outcome;
  GATE_RETURN_IF_ERROR(txn->Commit());
  return outcome;
}

// --- Shared row helpers (sqlite_store.cc) -----------------------------------
// All expect to run inside Run's transaction.

// An ordered string list owned by one row of another table (a user's logins
// and roles, a role's logins).
struct ListTable {
  const char* insert;      // ?1 owner, ?2 position, ?3 value
  const char* select_one;  // ?1 owner -> value, in order
  const char* select_all;  // -> owner, value, in owner then list order
  const char* remove;      // ?1 owner
};
extern const ListTable kUserLogins;
extern const ListTable kUserRoles;
extern const ListTable kRoleLogins;
extern const ListTable kNodePrincipals;
extern const ListTable kTokenPrincipals;

Result<std::vector<std::string>> LoadList(sqlite3* db, const ListTable& table,
                                          const std::string& owner);
// Every row of table, grouped by owner.
Result<std::map<std::string, std::vector<std::string>, std::less<>>> LoadAllLists(
    sqlite3* db, const ListTable& table);
// Replaces owner's list.
Status StoreList(sqlite3* db, const ListTable& table, const std::string& owner,
                 const std::vector<std::string>& values);

// A label set (policy::Labels) owned by one row of another table.
struct LabelTable {
  const char* insert;      // ?1 owner, ?2 name, ?3 value
  const char* select_one;  // ?1 owner -> name, value
  const char* select_all;  // -> owner, name, value
  const char* remove;      // ?1 owner
};
extern const LabelTable kRoleLabels;
extern const LabelTable kNodeLabels;
extern const LabelTable kTokenLabels;

Result<policy::Labels> LoadLabels(sqlite3* db, const LabelTable& table, const std::string& owner);
// Every row of table, grouped by owner.
Result<std::map<std::string, policy::Labels, std::less<>>> LoadAllLabels(sqlite3* db,
                                                                         const LabelTable& table);
// Replaces owner's labels.
Status StoreLabels(sqlite3* db, const LabelTable& table, const std::string& owner,
                   const policy::Labels& labels);

// Runs an UPDATE or DELETE that must change one row; `missing` if it changed
// none.
Status ChangeOne(Stmt& stmt, Status missing);

// Loaders shared between aggregates (a signup touches the user).
Result<UserRecord> LoadUser(sqlite3* db, const std::string& name);

Status UserNotFound(const std::string& name);

// The fields of a user's first TOTP device that UserRecord carries.
struct TotpDevice {
  SecretString secret;  // empty: the user has no TOTP device
  std::int64_t last_step = -1;
};
// -> user_name, totp_secret, last_totp_step of every TOTP device; callers
// add " AND ..." and an order (the first per user is the oldest: created_at,
// rowid).
inline constexpr char kSelectTotpDevices[] =
    "SELECT user_name, totp_secret, last_totp_step FROM mfa_devices WHERE kind = 'totp'";
Result<TotpDevice> LoadFirstTotpDevice(sqlite3* db, const std::string& user);

// Inserts device (checked as UserStore::AddDevice states).
Status InsertDevice(sqlite3* db, const MfaDevice& device);
// ?1 = user name: removes every device of the user.
inline constexpr char kDeleteUserDevices[] = "DELETE FROM mfa_devices WHERE user_name = ?1";

// ?1 = user name: forgets every login failure counter of that name.
inline constexpr char kClearUserLoginFailures[] = "DELETE FROM login_failures WHERE user_name = ?1";
// ?1 = user name: deletes the user's unused signup tokens (used ones stay,
// so their links still answer "already used").
inline constexpr char kDeleteUnusedSignupTokens[] =
    "DELETE FROM signup_tokens WHERE user_name = ?1 AND used_at = 0";
Status RoleNotFound(const std::string& name);

}  // namespace gate::ca::sqlite

#endif  // GATE_CA_STORE_SQLITE_STORE_H_
