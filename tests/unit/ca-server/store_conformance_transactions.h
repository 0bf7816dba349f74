// Store conformance: transactions (commit, rollback, savepoints), reads
// beside an open write, the single-use and lockout races, and migration
// from the previous schema version. Part of the typed suite in
// store_conformance.h; every backend must pass it.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_TRANSACTIONS_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_TRANSACTIONS_H_

#include "ca-server/store_conformance.h"

namespace gate::ca::store_conformance {

TYPED_TEST_P(StoreConformanceTest, TransactionCommitsEveryOperationTogether) {
  Status status = this->store_->InTransaction([&](StoreOperations& tx) -> Status {
    GATE_RETURN_IF_ERROR(tx.CreateRole(TestFixture::MakeRole("ops")));
    GATE_RETURN_IF_ERROR(tx.CreateUser(TestFixture::MakeUser("alice")));
    GATE_RETURN_IF_ERROR(tx.SetLock({"alice", 0, "held", 5}));
    // The body sees its own writes.
    Result<UserRecord> alice = tx.GetUser("alice");
    if (!alice) return alice.error();
    return tx.AppendAudit({1, "user.create", "alice", "admin", true, ""});
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(this->store_->GetRole("ops").has_value());
  EXPECT_TRUE(this->store_->GetUser("alice").has_value());
  EXPECT_EQ(this->store_->ListLocks()->size(), 1u);
  EXPECT_EQ(this->store_->ListAudit(10)->size(), 1u);
}

TYPED_TEST_P(StoreConformanceTest, TransactionRollsBackEverythingOnError) {
  this->CreateUser("bob");
  Status status = this->store_->InTransaction([&](StoreOperations& tx) -> Status {
    GATE_RETURN_IF_ERROR(tx.CreateUser(TestFixture::MakeUser("alice")));
    GATE_RETURN_IF_ERROR(tx.DeleteUser("bob"));
    GATE_RETURN_IF_ERROR(tx.RecordCertificate(Cert(9, "alice", 100)));
    GATE_RETURN_IF_ERROR(tx.PutLoginFailures({"alice", "10.0.0.1", 2, 100, 0}));
    return FailedPrecondition("changed my mind");
  });
  EXPECT_EQ(status, FailedPrecondition("changed my mind"));
  EXPECT_EQ(this->store_->GetUser("alice").error().code(), Code::kNotFound);
  EXPECT_TRUE(this->store_->GetUser("bob").has_value());
  EXPECT_TRUE(this->store_->ListCertificates("alice")->empty());
  EXPECT_EQ(this->store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);
  // The serial was never used: it can be recorded now.
  EXPECT_TRUE(this->store_->RecordCertificate(Cert(9, "alice", 100)).ok());
}

// An operation that fails inside a transaction leaves nothing of itself,
// even when the body goes on and commits the rest.
TYPED_TEST_P(StoreConformanceTest, FailedOperationInsideATransactionWritesNothingOfItself) {
  this->CreateNamedUser("alice");
  ASSERT_NO_FATAL_FAILURE(this->Join(kNodeA, "taken"));
  const policy::Labels labels = this->store_->GetNode(kNodeA)->labels;
  Status status = this->store_->InTransaction([&](StoreOperations& tx) -> Status {
    // Fails on the taken host UUID: neither the row nor its labels may
    // change.
    NodeRecord dup = TestFixture::MakeNode(kNodeA, "dup");
    dup.labels = {{"other", "labels"}};
    EXPECT_EQ(tx.CreateNode(dup).code(), Code::kAlreadyExists);
    return tx.SetLock({"alice", 0, "kept", 5});
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(this->store_->GetNode(kNodeA)->hostname, "taken");
  EXPECT_EQ(this->store_->GetNode(kNodeA)->labels, labels);
  EXPECT_EQ(this->store_->ListLocks()->size(), 1u);
}

// Every read of a read transaction sees one committed state: writes
// committed by another thread between its reads are not seen (here: a user
// added, a role deleted, a lock set and a certificate revoked after the
// first read), and are seen once it ends. The other thread is joined before
// the next read, so nothing depends on timing.
TYPED_TEST_P(StoreConformanceTest, ReadTransactionReadsOneSnapshot) {
  this->CreateRole("dev");
  this->CreateNamedUser("alice");
  this->RecordCert(7, "alice", 9'000);
  std::size_t users = 0;
  std::size_t roles = 0;
  std::size_t locks = 0;
  std::size_t revocations = 0;
  std::uint64_t version = 0;
  Status status = this->store_->InReadTransaction([&](StoreOperations& tx) -> Status {
    Result<std::vector<UserRecord>> first = tx.ListUsers();
    if (!first) return first.error();
    users = first->size();
    std::thread writer([&] {
      EXPECT_TRUE(this->store_->DeleteRole("dev").ok());
      EXPECT_TRUE(this->store_->CreateUser(TestFixture::MakeUser("bob")).ok());
      EXPECT_TRUE(this->store_->SetLock({"alice", 0, "held", 5}).ok());
      EXPECT_TRUE(RevocationService(*this->store_).RevokeCertificate(7, 100).has_value());
    });
    writer.join();
    Result<std::vector<UserRecord>> again = tx.ListUsers();
    if (!again) return again.error();
    EXPECT_EQ(again->size(), users);
    Result<std::vector<policy::Role>> r = tx.ListRoles();
    if (!r) return r.error();
    roles = r->size();
    Result<std::vector<LockRecord>> l = tx.ListLocks();
    if (!l) return l.error();
    locks = l->size();
    Result<RevocationList> v = tx.ListRevocations(100);
    if (!v) return v.error();
    revocations = v->revocations.size();
    version = v->version;
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(users, 1u);
  EXPECT_EQ(roles, 1u);
  EXPECT_EQ(locks, 0u);
  EXPECT_EQ(revocations, 0u);
  EXPECT_EQ(version, 0u);
  // The writes were committed all along.
  EXPECT_EQ(this->store_->ListUsers()->size(), 2u);
  EXPECT_TRUE(this->store_->ListRoles()->empty());
  EXPECT_EQ(this->store_->ListLocks()->size(), 1u);
  EXPECT_EQ(this->store_->ListRevocations(100)->revocations.size(), 1u);
}

// A read transaction writes nothing: a write through its handle fails with
// FailedPrecondition, and the body's own error is returned as it is.
TYPED_TEST_P(StoreConformanceTest, WriteInAReadTransactionFailsAndChangesNothing) {
  this->CreateUser("alice");
  Status status = this->store_->InReadTransaction([&](StoreOperations& tx) -> Status {
    EXPECT_EQ(tx.CreateRole(TestFixture::MakeRole("ops")).code(), Code::kFailedPrecondition);
    EXPECT_EQ(tx.DeleteUser("alice").code(), Code::kFailedPrecondition);
    EXPECT_EQ(tx.ConsumeTotpStep("alice", 5).error().code(), Code::kFailedPrecondition);
    EXPECT_TRUE(tx.GetUser("alice").has_value());
    return NotFound("the body's own");
  });
  EXPECT_EQ(status, NotFound("the body's own"));
  EXPECT_EQ(this->store_->GetRole("ops").error().code(), Code::kNotFound);
  EXPECT_TRUE(this->store_->GetUser("alice").has_value());
  EXPECT_EQ(this->store_->GetUser("alice")->last_totp_step, -1);
}

// A read needs neither the writer nor a finished write: it completes while
// another thread holds a write transaction open, and sees only what was
// committed before it. Nothing here waits on the clock to pass; the bound
// only turns a reader that blocks (the bug) into a failure instead of a
// hang.
TYPED_TEST_P(StoreConformanceTest, ReadProceedsWhileAWriteTransactionIsOpen) {
  this->CreateUser("alice");
  std::promise<void> writing;
  std::promise<void> read_done;
  std::shared_future<void> read_done_future = read_done.get_future().share();
  std::once_flag released;
  auto release_writer = [&] { std::call_once(released, [&] { read_done.set_value(); }); };
  std::thread writer([&] {
    Status status = this->store_->InTransaction([&](StoreOperations& tx) -> Status {
      GATE_RETURN_IF_ERROR(tx.CreateUser(TestFixture::MakeUser("bob")));
      writing.set_value();
      read_done_future.wait();
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
  });
  writing.get_future().wait();
  auto read = std::async(std::launch::async, [&] {
    Result<std::vector<UserRecord>> users = this->store_->ListUsers();
    Result<UserRecord> bob = this->store_->GetUser("bob");
    release_writer();
    return std::make_pair(users, bob);
  });
  const bool finished = read.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  if (!finished) release_writer();  // so the test ends instead of hanging
  writer.join();
  ASSERT_TRUE(finished) << "the read waited for the open write transaction";
  auto [users, bob] = read.get();
  ASSERT_TRUE(users.has_value()) << users.error().ToString();
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ(bob.error().code(), Code::kNotFound);
  EXPECT_TRUE(this->store_->GetUser("bob").has_value());  // committed now
}

// N threads racing to complete one signup: exactly one sets the credentials.
TYPED_TEST_P(StoreConformanceTest, OneSignupTokenSignsUpOnceAcrossThreads) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  constexpr int kThreads = 8;
  std::atomic<int> won{0};
  std::atomic<int> not_found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Status s = this->store_->CompleteSignup(
          "hash-a", AcceptAnySignupToken, "$argon2id$" + std::to_string(t), SecretString(), -1, 1);
      if (s.ok()) ++won;
      if (s.code() == Code::kNotFound) ++not_found;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(not_found.load(), kThreads - 1);
}

// N threads presenting the same TOTP step: exactly one is accepted.
TYPED_TEST_P(StoreConformanceTest, OneTotpStepIsAcceptedOnceAcrossThreads) {
  this->CreateOtpUser("alice");
  constexpr int kThreads = 8;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Result<bool> fresh = this->store_->ConsumeTotpStep("alice", 1000);
      EXPECT_TRUE(fresh.has_value());
      if (fresh.value_or(false)) ++accepted;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 1);
}

// The lockout counters' read-modify-write in one transaction loses no
// failure however many threads count at once.
TYPED_TEST_P(StoreConformanceTest, LoginFailureCountsInTransactionsAreNotLost) {
  constexpr int kThreads = 8;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        Status s = this->store_->InTransaction([](StoreOperations& tx) -> Status {
          Result<LoginFailures> f = tx.GetLoginFailures("nobody", kEverySource);
          if (!f) return f.error();
          ++f->count;
          return tx.PutLoginFailures(*f);
        });
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(this->store_->GetLoginFailures("nobody", kEverySource)->count, kThreads * kEach);
}

// A database an older gate-ca wrote (the previous schema version, written
// with that version's own schema) opens with its data intact and gains what
// the new version added.
TYPED_TEST_P(StoreConformanceTest, MigratesFromThePreviousSchemaVersion) {
  this->store_.reset();
  ASSERT_NO_FATAL_FAILURE(this->backend_.WritePreviousVersion());
  ASSERT_NO_FATAL_FAILURE(this->Reopen());

  Result<UserRecord> user = this->store_->GetUser(kPreviousUser);
  ASSERT_TRUE(user.has_value()) << user.error().ToString();
  EXPECT_EQ(user->logins, (Strings{"ubuntu", "root"}));
  EXPECT_EQ(user->roles, (Strings{kPreviousRole}));
  EXPECT_EQ(user->password_hash, kPreviousPasswordHash);
  EXPECT_EQ(user->totp_secret.view(), "old-secret");
  EXPECT_EQ(user->last_totp_step, kPreviousTotpStep);
  // The OTP secret moved into the user's device "otp", with its last step.
  Result<std::vector<MfaDevice>> devices = this->store_->ListDevices(kPreviousUser);
  ASSERT_TRUE(devices.has_value()) << devices.error().ToString();
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].name, "otp");
  EXPECT_EQ((*devices)[0].kind, DeviceKind::kTotp);
  EXPECT_EQ((*devices)[0].totp_secret.view(), "old-secret");
  EXPECT_EQ((*devices)[0].last_totp_step, kPreviousTotpStep);
  EXPECT_EQ(this->store_->ConsumeTotpStep(kPreviousUser, kPreviousTotpStep), Result<bool>(false));
  EXPECT_EQ(this->store_->ConsumeTotpStep(kPreviousUser, kPreviousTotpStep + 1),
            Result<bool>(true));

  Result<policy::Role> role = this->store_->GetRole(kPreviousRole);
  ASSERT_TRUE(role.has_value()) << role.error().ToString();
  EXPECT_EQ(role->logins, (Strings{"deploy"}));
  EXPECT_EQ(role->node_labels, (policy::Labels{{"env", "prod"}}));
  EXPECT_EQ(role->max_ttl, std::chrono::hours(1));
  EXPECT_TRUE(role->record_sessions);
  EXPECT_FALSE(role->join_sessions);

  Result<std::vector<LockRecord>> locks = this->store_->ListLocks();
  ASSERT_TRUE(locks.has_value());
  ASSERT_EQ(locks->size(), 1u);
  EXPECT_EQ((*locks)[0].user, kPreviousUser);
  EXPECT_EQ((*locks)[0].message, "old lock");

  Result<NodeRecord> node = this->store_->GetNode(kPreviousNode);
  ASSERT_TRUE(node.has_value()) << node.error().ToString();
  EXPECT_EQ(node->hostname, "old-node");
  EXPECT_EQ(node->labels, (policy::Labels{{"env", "prod"}}));
  EXPECT_EQ(node->recorder_key, "ssh-ed25519 AAAAold");
  // A node joined before gate-ca decided host names keeps its hostname.
  EXPECT_EQ(node->principals, (Strings{"old-node"}));

  Result<SessionRecord> session = this->store_->GetSession(kPreviousSession);
  ASSERT_TRUE(session.has_value()) << session.error().ToString();
  EXPECT_EQ(session->user, kPreviousUser);
  EXPECT_FALSE(session->live);
  EXPECT_EQ(session->sha256, std::string(64, 'c'));

  Result<RevocationList> revocations = this->store_->ListRevocations(0);
  ASSERT_TRUE(revocations.has_value());
  EXPECT_EQ(revocations->version, 1u);
  ASSERT_EQ(revocations->revocations.size(), 1u);
  EXPECT_EQ(revocations->revocations[0].serial, kPreviousSerial);
  EXPECT_EQ(this->store_->ListCertificates(kPreviousUser)->size(), 1u);
  // Serials stay used across the upgrade.
  EXPECT_EQ(this->store_->RecordCertificate(Cert(kPreviousSerial, "x", 1)).code(),
            Code::kAlreadyExists);

  Result<std::vector<AuditEvent>> audit = this->store_->ListAudit(10);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].event, "user.create");

  // The policy revision starts on the migrated database; nothing before it
  // is in the log, so every node (revision 0) is sent a full snapshot.
  Result<PolicyRevision> revision = this->store_->GetPolicyRevision();
  ASSERT_TRUE(revision.has_value()) << revision.error().ToString();
  EXPECT_GE(revision->revision, 1);
  EXPECT_GE(revision->oldest, 1);
  EXPECT_EQ(node->policy_revision, 0);
  ASSERT_TRUE(this->store_->DeleteLock(kPreviousUser).ok());
  EXPECT_GT(this->store_->GetPolicyRevision()->revision, revision->revision);

  // What this version added works on the migrated database.
  EXPECT_EQ(this->store_->GetLoginFailures(kPreviousUser, kEverySource)->count, 0);
  ASSERT_TRUE(this->store_->PutLoginFailures({kPreviousUser, "10.0.0.1", 1, 5, 0}).ok());
  EXPECT_EQ(this->store_->GetLoginFailures(kPreviousUser, "10.0.0.1")->count, 1);
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_TRANSACTIONS_H_
