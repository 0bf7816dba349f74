// Store conformance suite, policy log part (policy_log_store.h): the
// revision moves with every change a node's policy is built from, in the
// same transaction, and the log answers "what changed since N" until pruned.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_POLICY_LOG_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_POLICY_LOG_H_

#include <functional>
#include <set>
#include <utility>

#include "ca-server/store_conformance.h"
#include "ca-server/store_conformance_devices.h"

namespace gate::ca::store_conformance {

// The current revision, failing the test if it cannot be read.
inline std::int64_t RevisionOf(Store& store) {
  Result<PolicyRevision> revision = store.GetPolicyRevision();
  EXPECT_TRUE(revision.has_value()) << revision.error().ToString();
  return revision ? revision->revision : -1;
}

// (kind, name) of every entry after since.
inline std::set<std::pair<std::string, std::string>> ChangedSince(Store& store,
                                                                  std::int64_t since) {
  std::set<std::pair<std::string, std::string>> out;
  Result<std::vector<PolicyChange>> changes = store.ListPolicyChanges(since, 1000);
  EXPECT_TRUE(changes.has_value()) << changes.error().ToString();
  if (changes) {
    for (const PolicyChange& c : *changes) out.insert({c.kind, c.name});
  }
  return out;
}

TYPED_TEST_P(StoreConformanceTest, EveryPolicyChangeMovesTheRevisionAndIsLogged) {
  Store& store = *this->store_;
  const std::pair<std::string, std::string> kLocks{kPolicyChangeLocks, ""};
  ASSERT_TRUE(store.CreateRole(this->MakeRole("ops")).ok());
  const std::vector<std::pair<std::pair<std::string, std::string>, std::function<Status()>>>
      changes = {
          {{kPolicyChangeUser, "alice"},
           [&] {
             UserRecord alice;
             alice.name = "alice";
             alice.logins = {"alice"};
             return store.CreateUser(alice);
           }},
          {{kPolicyChangeUser, "alice"},
           [&] {
             auto r = store.UpdateUser("alice", Strings{"root"}, Strings{"ops"});
             return r ? Status::Ok() : r.error();
           }},
          {{kPolicyChangeRole, "dev"}, [&] { return store.CreateRole(this->MakeRole("dev")); }},
          {{kPolicyChangeRole, "dev"},
           [&] {
             policy::Role dev = this->MakeRole("dev");
             dev.logins = {"x"};
             return store.UpdateRole(dev);
           }},
          {{kPolicyChangeRole, "dev"},
           [&] {
             auto r = store.ModifyRole("dev", [](const policy::Role& role) {
               policy::Role changed = role;
               changed.record_sessions = true;
               return Result<policy::Role>(changed);
             });
             return r ? Status::Ok() : r.error();
           }},
          {{kPolicyChangeRole, "dev"}, [&] { return store.DeleteRole("dev"); }},
          {kLocks,
           [&] {
             return store.SetLock({"alice", 0, "stop", 1});
           }},
          {kLocks,
           [&] {
             return store.SetLock({"alice", 99, "stop again", 2});
           }},
          {kLocks, [&] { return store.DeleteLock("alice"); }},
          {{kPolicyChangeRevocations, ""},
           [&]() -> Status {
             GATE_RETURN_IF_ERROR(store.RecordCertificate(Cert(5, "alice", 100)));
             return store.AddRevocation({5, "alice", 101, 3700});
           }},
          {{kPolicyChangeNode, kNodeA},
           [&] {
             this->Join(kNodeA, "db-1");
             return Status::Ok();
           }},
          {{kPolicyChangeNode, kNodeA},
           [&] {
             return store.SetNodePrincipals(kNodeA, {"db-1", "db-1.example.com"});
           }},
          {{kPolicyChangeNode, kNodeA}, [&] { return store.DeleteNode(kNodeA); }},
          {{kPolicyChangeUser, "alice"}, [&] { return store.DeleteUser("alice"); }},
      };
  for (const auto& [entry, change] : changes) {
    SCOPED_TRACE(entry.first + " " + entry.second);
    const std::int64_t before = RevisionOf(*this->store_);
    Status status = change();
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_GT(RevisionOf(*this->store_), before);
    EXPECT_EQ(ChangedSince(store, before), (std::set<std::pair<std::string, std::string>>{entry}));
  }
}

TYPED_TEST_P(StoreConformanceTest, WhatNodesDoNotSeeLeavesTheRevision) {
  Store& store = *this->store_;
  this->CreateNamedUser("alice");
  this->Join(kNodeA, "db-1");
  const std::int64_t before = RevisionOf(*this->store_);
  ASSERT_TRUE(store.ConsumeTotpStep("alice", 5).has_value());
  ASSERT_TRUE(store.AddDevice(SecurityKey("alice", "key", {1}, 5)).ok());
  ASSERT_TRUE(store.ConsumeWebauthnCounter("alice", {1}, 1, 5).has_value());
  ASSERT_TRUE(store.RecordDeviceUse("alice", "key", 6).ok());
  ASSERT_TRUE(store.RemoveDevice("alice", "key").ok());
  ASSERT_TRUE(store.PutLoginFailures({"alice", "10.0.0.1", 1, 5, 0}).ok());
  ASSERT_TRUE(store.ResetUserCredentials("alice").ok());
  ASSERT_TRUE(store.RecordCertificate(Cert(9, "alice", 100)).ok());
  ASSERT_TRUE(store.RecordNodeSync(kNodeA, 500, before).ok());
  ASSERT_TRUE(store.SetNodeRecorderKey(kNodeA, "ssh-ed25519 AAAA").ok());
  ASSERT_TRUE(store.AppendAudit({1, "x", "alice", "", true, ""}).ok());
  EXPECT_EQ(RevisionOf(*this->store_), before);
  EXPECT_TRUE(ChangedSince(store, before).empty());
}

TYPED_TEST_P(StoreConformanceTest, ChangesSinceNameEachThingOnceAtItsLastChange) {
  Store& store = *this->store_;
  const std::int64_t start = RevisionOf(*this->store_);
  this->CreateNamedUser("alice");
  this->CreateNamedUser("bob");
  const std::int64_t middle = RevisionOf(*this->store_);
  ASSERT_TRUE(store.UpdateUser("alice", Strings{"root"}, std::nullopt).has_value());
  Result<std::vector<PolicyChange>> all = store.ListPolicyChanges(start, 100);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);  // one entry each, by revision: bob, then alice
  EXPECT_EQ((*all)[0].name, "bob");
  EXPECT_EQ((*all)[1].name, "alice");
  EXPECT_EQ((*all)[1].revision, RevisionOf(*this->store_));
  EXPECT_LE((*all)[0].revision, middle);
  EXPECT_EQ(ChangedSince(store, middle),
            (std::set<std::pair<std::string, std::string>>{{kPolicyChangeUser, "alice"}}));
  EXPECT_EQ(store.ListPolicyChanges(start, 1)->size(), 1u);
  EXPECT_TRUE(ChangedSince(store, RevisionOf(*this->store_)).empty());
}

TYPED_TEST_P(StoreConformanceTest, RolledBackChangesLeaveNoRevision) {
  Store& store = *this->store_;
  const std::int64_t before = RevisionOf(*this->store_);
  Status status = store.InTransaction([&](StoreOperations& tx) -> Status {
    UserRecord carol;
    carol.name = "carol";
    carol.logins = {"carol"};
    GATE_RETURN_IF_ERROR(tx.CreateUser(carol));
    return Internal("changed my mind");
  });
  EXPECT_EQ(status.code(), Code::kInternal);
  EXPECT_EQ(RevisionOf(*this->store_), before);
  EXPECT_TRUE(ChangedSince(store, before).empty());
  // A failed operation moves nothing either.
  EXPECT_EQ(store.DeleteUser("nobody").code(), Code::kNotFound);
  EXPECT_EQ(RevisionOf(*this->store_), before);
  // And what moved it survives a restart.
  this->CreateNamedUser("dave");
  const std::int64_t after = RevisionOf(*this->store_);
  ASSERT_NO_FATAL_FAILURE(this->Reopen());
  EXPECT_EQ(RevisionOf(*this->store_), after);
  EXPECT_EQ(ChangedSince(*this->store_, before),
            (std::set<std::pair<std::string, std::string>>{{kPolicyChangeUser, "dave"}}));
}

TYPED_TEST_P(StoreConformanceTest, PruningKeepsTheNewestRevisions) {
  Store& store = *this->store_;
  EXPECT_EQ(store.PrunePolicyChanges(0).code(), Code::kInvalidArgument);
  for (const char* name : {"u1", "u2", "u3", "u4"}) this->CreateNamedUser(name);
  const PolicyRevision before = *store.GetPolicyRevision();
  ASSERT_TRUE(store.PrunePolicyChanges(1).ok());
  const PolicyRevision after = *store.GetPolicyRevision();
  EXPECT_EQ(after.revision, before.revision);
  EXPECT_EQ(after.oldest, before.revision - 1);
  // Complete from oldest on: only the last change (u4's last row) is left.
  EXPECT_EQ(ChangedSince(store, after.oldest),
            (std::set<std::pair<std::string, std::string>>{{kPolicyChangeUser, "u4"}}));
  EXPECT_EQ(store.ListPolicyChanges(0, 100)->size(), 1u);
  // Pruning never lowers oldest.
  ASSERT_TRUE(store.PrunePolicyChanges(1000).ok());
  EXPECT_EQ(store.GetPolicyRevision()->oldest, after.oldest);
}

TYPED_TEST_P(StoreConformanceTest, UsersAndRolesInPages) {
  Store& store = *this->store_;
  for (const char* name : {"d", "a", "c", "b", "e"}) this->CreateNamedUser(name, {"r1"});
  for (const char* name : {"r2", "r1", "r3"})
    ASSERT_TRUE(store.CreateRole(this->MakeRole(name)).ok());
  Result<std::vector<UserRecord>> first = store.ListUsersAfter("", 2);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].name, "a");
  EXPECT_EQ((*first)[1].name, "b");
  EXPECT_EQ((*first)[1].logins, Strings{"b"});
  EXPECT_EQ((*first)[1].roles, Strings{"r1"});
  Result<std::vector<UserRecord>> rest = store.ListUsersAfter("b", 10);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[2].name, "e");
  EXPECT_EQ((*rest)[2].logins, Strings{"e"});
  EXPECT_TRUE(store.ListUsersAfter("e", 10)->empty());
  Result<std::vector<policy::Role>> roles = store.ListRolesAfter("r1", 1);
  ASSERT_TRUE(roles.has_value());
  ASSERT_EQ(roles->size(), 1u);
  this->ExpectSameRole((*roles)[0], this->MakeRole("r2"));
  EXPECT_EQ(store.ListRolesAfter("", 10)->size(), 3u);
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_POLICY_LOG_H_
