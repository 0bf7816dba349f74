// Store: everything gate-ca persists, as one interface per aggregate:
//
//   UserStore         users, credentials, login bookkeeping   user_store.h
//   RoleStore         roles and admin locks                   role_store.h
//   TokenStore        signup and node join tokens             token_store.h
//   NodeStore         joined nodes                            node_store.h
//   SessionStore      the recorded sessions' index            session_store.h
//   CertificateStore  issued certificates and revocations     certificate_store.h
//   AuditStore        the append-only audit log               audit_store.h
//   PolicyLogStore    the policy revision and change log      policy_log_store.h
//   WebSessionStore   browser sessions, stored hashed         web_session_store.h
//
// Code that needs one aggregate takes that interface; Store composes them
// all and adds transactions. SQL lives only in this folder; the SQLite
// implementation is OpenSqliteStore, and every backend must pass the
// conformance suite in tests/unit/ca-server/store_conformance_test.cc.
//
// Contract shared by every method of every aggregate:
//  - Atomic: a mutating method either applies completely or changes nothing.
//  - Thread-safe: any method may be called from any thread at any time.
//  - Failures are Status codes: NotFound, AlreadyExists, InvalidArgument and
//    FailedPrecondition as each method states; Unavailable for a busy or
//    failing database (I/O error, full disk), DataLoss for a corrupt one.
//    Messages never contain secrets (password hashes, TOTP secrets, tokens).
#ifndef GATE_CA_STORE_STORE_H_
#define GATE_CA_STORE_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "ca-server/store/audit_store.h"
#include "ca-server/store/certificate_store.h"
#include "ca-server/store/node_store.h"
#include "ca-server/store/policy_log_store.h"
#include "ca-server/store/role_store.h"
#include "ca-server/store/session_store.h"
#include "ca-server/store/token_store.h"
#include "ca-server/store/user_store.h"
#include "ca-server/store/web_session_store.h"
#include "gate/env.h"
#include "gate/status.h"

namespace gate::ca {

// Every aggregate's operations. Store offers them each in a transaction of
// its own; Store::InTransaction hands a body the same operations, all
// applied in one transaction, and Store::InReadTransaction the same
// operations over one snapshot.
class StoreOperations : public UserStore,
                        public RoleStore,
                        public TokenStore,
                        public NodeStore,
                        public SessionStore,
                        public CertificateStore,
                        public AuditStore,
                        public PolicyLogStore,
                        public WebSessionStore {
 public:
  ~StoreOperations() override = default;
};

class Store : public StoreOperations {
 public:
  using TransactionBody = std::function<Status(StoreOperations& tx)>;

  // Runs body in one write transaction and commits if it returns OK. If
  // body returns an error, everything it wrote is rolled back and that error
  // is returned; a failed commit is returned in its place. Each operation on
  // tx is itself all-or-nothing, so a body that goes on after a failed
  // operation never commits half of it. body runs with the writer held: it
  // must use only tx (calling this Store from body deadlocks), must not keep
  // tx, and should do no slow work (no password hashing, no network).
  virtual Status InTransaction(const TransactionBody& body) = 0;

  // Runs body in one read transaction and returns its Status: every read
  // through tx sees the same committed state, taken at its first read, and
  // nothing committed meanwhile (so a result built from several reads never
  // mixes two states). A write through tx fails with FailedPrecondition and
  // changes nothing. It waits for no writer, and writers do not wait for
  // it. body must use only tx, must not keep tx, and should be short: it
  // holds a read connection.
  virtual Status InReadTransaction(const TransactionBody& body) = 0;
};

// Opens (creating if needed, mode 0600) the SQLite database at path, in WAL
// mode, and migrates its schema. Refuses a database file that is a symlink,
// not owned by this euid, or readable by group/others.
//
// Concurrency: one writer connection and four read connections. Writes
// (and InTransaction bodies) run one at a time on the writer. Reads run on
// a read connection, each in a snapshot of the last committed state: they
// never wait for an open write transaction (however slow its body) nor for
// each other, only for a free read connection when four are busy. Other
// processes (gatectl, the signer) may open the same file; SQLite's own
// locks serialise their writes with ours (busy timeout 5 s, then
// Unavailable).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);
// The same, with SQLite's writes, truncates and fsyncs of the database and
// its -wal and -shm files subject to env (Env::RawFileFault), so tests can
// fail them; env must outlive the store. A failed write or fsync fails the
// operation with Unavailable naming the cause ("database or disk is full",
// "disk I/O error" with the errno), rolls its transaction back, and the
// next operation works once the fault clears.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, Env* env);

}  // namespace gate::ca

#endif  // GATE_CA_STORE_STORE_H_
