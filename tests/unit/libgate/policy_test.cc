#include "gate/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "gate/certificate.h"
#include "gate/json.h"

namespace gate::policy {
namespace {

using std::chrono::seconds;

Role MakeRole(std::string name, std::vector<std::string> logins, Labels selector = {{"*", "*"}}) {
  Role r;
  r.name = std::move(name);
  r.logins = std::move(logins);
  r.node_labels = std::move(selector);
  return r;
}

// ---- ActiveLock ----

TEST(PolicyLockTest, InForceUntilExpiry) {
  const std::vector<Lock> locks = {{"bob", 1000, "gone"}, {"carol", 0, "forever"}};
  EXPECT_EQ(ActiveLock(locks, "bob", 999), &locks[0]);
  EXPECT_EQ(ActiveLock(locks, "bob", 1000), nullptr);
  EXPECT_EQ(ActiveLock(locks, "bob", 5000), nullptr);
  EXPECT_EQ(ActiveLock(locks, "carol", 1'000'000'000), &locks[1]);
  EXPECT_EQ(ActiveLock(locks, "alice", 0), nullptr);
}

TEST(PolicyLockTest, ExpiredLockDoesNotHideALaterOne) {
  const std::vector<Lock> locks = {{"bob", 10, "old"}, {"bob", 0, "new"}};
  const Lock* lock = ActiveLock(locks, "bob", 100);
  ASSERT_NE(lock, nullptr);
  EXPECT_EQ(lock->message, "new");
}

// ---- LabelsMatch ----

TEST(PolicyLabelsTest, Match) {
  const Labels node = {{"env", "prod"}, {"team", "db"}};
  struct Case {
    Labels selector;
    bool match;
  };
  const std::vector<Case> cases = {
      {{{"*", "*"}}, true},
      {{{"env", "prod"}}, true},
      {{{"env", "prod"}, {"team", "db"}}, true},
      {{{"env", "*"}}, true},
      {{{"env", "*"}, {"team", "*"}}, true},
      {{{"env", "dev"}}, false},
      {{{"env", "prod"}, {"team", "web"}}, false},
      {{{"rack", "*"}}, false},  // "*" value: the key must exist
      {{{"rack", "r1"}}, false},
      {{}, false},                            // empty selector matches nothing
      {{{"*", "*"}, {"env", "dev"}}, false},  // other entries still apply
      {{{"*", "prod"}}, false},               // meaningless, fails closed
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LabelsMatch(c.selector, node), c.match) << FormatLabels(c.selector);
  }
  EXPECT_TRUE(LabelsMatch({{"*", "*"}}, {}));
  EXPECT_FALSE(LabelsMatch({{"env", "*"}}, {}));
}

// ---- ComputeGrant ----

TEST(PolicyGrantTest, UnionOfOwnAndRoleLoginsDeduplicatedInOrder) {
  const std::vector<Role> roles = {MakeRole("dba", {"postgres", "alice"}),
                                   MakeRole("web", {"www-data", "postgres"})};
  const User user{"alice", {"alice"}, {"dba", "web"}};
  auto grant = ComputeGrant(user, roles, {}, 100);
  ASSERT_TRUE(grant.has_value()) << grant.error().ToString();
  EXPECT_EQ(grant->logins, (std::vector<std::string>{"alice", "postgres", "www-data"}));
  EXPECT_EQ(grant->roles, (std::vector<std::string>{"dba", "web"}));
}

TEST(PolicyLoginsOnNodeTest, OwnLoginsThenMatchingRolesDeduplicated) {
  User u{"alice", {"alice", "shared"}, {"dev", "prod", "missing", "dev2"}};
  const std::vector<Role> roles = {MakeRole("dev", {"dev", "shared"}, {{"env", "dev"}}),
                                   MakeRole("prod", {"root"}, {{"env", "prod"}}),
                                   MakeRole("dev2", {"deploy"}, {{"env", "*"}})};
  EXPECT_EQ(LoginsOnNode(u, roles, {{"env", "dev"}}),
            (std::vector<std::string>{"alice", "shared", "dev", "deploy"}));
  EXPECT_EQ(LoginsOnNode(u, roles, {{"env", "prod"}}),
            (std::vector<std::string>{"alice", "shared", "root", "deploy"}));
  EXPECT_EQ(LoginsOnNode(u, roles, {}), (std::vector<std::string>{"alice", "shared"}));
  User none{"bob", {}, {"prod"}};
  EXPECT_TRUE(LoginsOnNode(none, roles, {{"env", "dev"}}).empty());
}

TEST(PolicyGrantTest, MaxTtlIsSmallestNonZero) {
  Role a = MakeRole("a", {"x"});
  a.max_ttl = seconds(3600);
  Role b = MakeRole("b", {"y"});
  b.max_ttl = seconds(0);
  Role c = MakeRole("c", {"z"});
  c.max_ttl = seconds(600);
  auto grant = ComputeGrant({"u", {}, {"a", "b", "c"}}, {a, b, c}, {}, 0);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->max_ttl, seconds(600));

  auto uncapped = ComputeGrant({"u", {}, {"b"}}, {a, b, c}, {}, 0);
  ASSERT_TRUE(uncapped.has_value());
  EXPECT_EQ(uncapped->max_ttl, seconds(0));
}

TEST(PolicyGrantTest, ExtensionsAreTheIntersectionSorted) {
  Role a = MakeRole("a", {"x"});
  a.permit_pty = true;
  a.permit_port_forwarding = false;
  Role b = MakeRole("b", {"y"});
  b.permit_agent_forwarding = false;
  auto grant = ComputeGrant({"u", {}, {"a", "b"}}, {a, b}, {}, 0);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->extensions, (std::vector<std::string>{std::string(ssh::kPermitPty)}));

  auto only_a = ComputeGrant({"u", {}, {"a"}}, {a, b}, {}, 0);
  ASSERT_TRUE(only_a.has_value());
  EXPECT_EQ(only_a->extensions, (std::vector<std::string>{std::string(ssh::kPermitAgentForwarding),
                                                          std::string(ssh::kPermitPty)}));
}

TEST(PolicyGrantTest, UserWithoutRolesGetsAllExtensions) {
  auto grant = ComputeGrant({"u", {"u"}, {}}, {}, {}, 0);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->extensions, (std::vector<std::string>{"permit-agent-forwarding",
                                                         "permit-port-forwarding", "permit-pty"}));
  EXPECT_TRUE(std::is_sorted(grant->extensions.begin(), grant->extensions.end()));
  EXPECT_TRUE(grant->roles.empty());
  EXPECT_EQ(grant->max_ttl, seconds(0));
}

TEST(PolicyGrantTest, MissingRoleContributesNothing) {
  Role strict = MakeRole("strict", {"x"});
  strict.permit_pty = false;
  strict.max_ttl = seconds(60);
  auto grant = ComputeGrant({"u", {"u"}, {"ghost", "dba"}}, {MakeRole("dba", {"postgres"})}, {}, 0);
  ASSERT_TRUE(grant.has_value());
  EXPECT_EQ(grant->logins, (std::vector<std::string>{"u", "postgres"}));
  EXPECT_EQ(grant->roles, (std::vector<std::string>{"dba"}));

  auto only_missing = ComputeGrant({"u", {}, {"ghost"}}, {strict}, {}, 0);
  ASSERT_FALSE(only_missing.has_value());
  EXPECT_EQ(only_missing.error().code(), Code::kFailedPrecondition);
}

TEST(PolicyGrantTest, LockInForceDenies) {
  const std::vector<Lock> locks = {{"alice", 200, "incident 42"}};
  auto grant = ComputeGrant({"alice", {"alice"}, {}}, {}, locks, 100);
  ASSERT_FALSE(grant.has_value());
  EXPECT_EQ(grant.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(grant.error().message(), "user alice is locked: incident 42");
}

TEST(PolicyGrantTest, ExpiredLockIsIgnored) {
  const std::vector<Lock> locks = {{"alice", 200, "incident 42"}};
  EXPECT_TRUE(ComputeGrant({"alice", {"alice"}, {}}, {}, locks, 200).has_value());
  EXPECT_TRUE(ComputeGrant({"alice", {"alice"}, {}}, {}, locks, 300).has_value());
}

TEST(PolicyGrantTest, NoLoginsIsFailedPrecondition) {
  auto grant = ComputeGrant({"alice", {}, {"empty"}}, {MakeRole("empty", {})}, {}, 0);
  ASSERT_FALSE(grant.has_value());
  EXPECT_EQ(grant.error().code(), Code::kFailedPrecondition);
}

// ---- DecideLogin ----

Snapshot TestSnapshot() {
  Snapshot s;
  s.cluster_name = "grav-00";
  s.host_uuid = "4a6f0000-0000-0000-0000-000000000001";
  s.generated_at = 1764000000;
  s.node_labels = {{"env", "prod"}, {"team", "db"}};
  s.users = {
      {"alice", {"alice"}, {"dba"}},
      {"bob", {"bob"}, {"dba"}},
      {"carol", {"carol"}, {"web", "any-prod", "everywhere", "nowhere", "rack", "ghost"}},
      {"dave", {}, {}},
  };
  s.roles = {
      MakeRole("dba", {"postgres"}, {{"env", "prod"}, {"team", "*"}}),
      MakeRole("web", {"www-data"}, {{"team", "web"}}),
      MakeRole("any-prod", {"deploy"}, {{"env", "*"}}),
      MakeRole("everywhere", {"ops"}, {{"*", "*"}}),
      MakeRole("nowhere", {"root"}, {}),
      MakeRole("rack", {"tech"}, {{"rack", "*"}}),
  };
  s.locks = {{"bob", 0, "left the company"}, {"alice", 50, "expired lock"}};
  s.revoked_serials = {1234567890123456789ULL};
  return s;
}

TEST(PolicyDecideTest, Table) {
  const Snapshot snapshot = TestSnapshot();
  struct Case {
    std::string user;
    std::string login;
    std::uint64_t serial;
    bool allow;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"alice", "alice", 1, true, "login 'alice' is one of the user's own logins"},
      {"alice", "postgres", 1, true, "login 'postgres' granted by role 'dba'"},
      {"alice", "root", 1, false, "login 'root' not allowed on this node"},
      {"mallory", "alice", 1, false, "unknown user"},
      {"bob", "bob", 1, false, "user locked: left the company"},
      {"alice", "alice", 1234567890123456789ULL, false,
       "certificate serial 1234567890123456789 revoked"},
      {"carol", "carol", 7, true, "login 'carol' is one of the user's own logins"},
      {"carol", "www-data", 7, false, "login 'www-data' not allowed on this node"},  // team=web
      {"carol", "deploy", 7, true, "login 'deploy' granted by role 'any-prod'"},     // env=*
      {"carol", "ops", 7, true, "login 'ops' granted by role 'everywhere'"},         // *=*
      {"carol", "root", 7, false, "login 'root' not allowed on this node"},  // empty selector
      {"carol", "tech", 7, false, "login 'tech' not allowed on this node"},  // missing key
      {"dave", "dave", 7, false, "login 'dave' not allowed on this node"},
      {"ALICE", "alice", 1, false, "unknown user"},
  };
  for (const Case& c : cases) {
    const Decision d = DecideLogin(snapshot, {c.user, c.login, c.serial, 100});
    EXPECT_EQ(d.allow, c.allow) << c.user << " as " << c.login;
    EXPECT_EQ(d.reason, c.reason) << c.user << " as " << c.login;
  }
}

TEST(PolicyDecideTest, OwnLoginsAllowedOnEveryNode) {
  Snapshot snapshot = TestSnapshot();
  for (const Labels& node : {Labels{}, Labels{{"env", "dev"}}, Labels{{"x", "y"}}}) {
    snapshot.node_labels = node;
    EXPECT_TRUE(DecideLogin(snapshot, {"alice", "alice", 1, 100}).allow);
    EXPECT_FALSE(DecideLogin(snapshot, {"alice", "postgres", 1, 100}).allow);
  }
}

TEST(PolicyDecideTest, LockExpiresAndLockBeatsOwnLogin) {
  const Snapshot snapshot = TestSnapshot();
  // alice's lock expires at 50.
  const Decision locked = DecideLogin(snapshot, {"alice", "alice", 1, 49});
  EXPECT_FALSE(locked.allow);
  EXPECT_EQ(locked.reason, "user locked: expired lock");
  EXPECT_TRUE(DecideLogin(snapshot, {"alice", "alice", 1, 50}).allow);
}

TEST(PolicyDecideTest, ReasonsDoNotEchoControlCharacters) {
  Snapshot snapshot = TestSnapshot();
  snapshot.locks.push_back({"carol", 0, "bad\nline\x1b[31m"});
  const Decision d = DecideLogin(snapshot, {"carol", "carol", 1, 100});
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason.find('\n'), std::string::npos);
  EXPECT_EQ(d.reason.find('\x1b'), std::string::npos);
  const Decision d2 = DecideLogin(TestSnapshot(), {"alice", "x\ny", 1, 100});
  EXPECT_EQ(d2.reason.find('\n'), std::string::npos);
}

// ---- MustRecord / MayJoinSessions ----

// carol holds web (team=web: not this node), any-prod (env=*), everywhere
// (*=*), nowhere (empty selector), rack (missing key) and a role that does
// not exist.
TEST(PolicyRecordTest, OnlyRolesThatSelectTheNodeCount) {
  struct Case {
    std::string role;  // the one role of carol's given record_sessions
    bool record;
  };
  const std::vector<Case> cases = {
      {"", false},        {"web", false},  {"any-prod", true}, {"everywhere", true},
      {"nowhere", false}, {"rack", false}, {"dba", false},  // dba: not carol's role
  };
  for (const Case& c : cases) {
    Snapshot snapshot = TestSnapshot();
    for (Role& r : snapshot.roles) r.record_sessions = r.name == c.role;
    EXPECT_EQ(MustRecord(snapshot, "carol"), c.record) << c.role;
    // join_sessions is independent of record_sessions.
    EXPECT_FALSE(MayJoinSessions(snapshot, "carol", 100)) << c.role;
    for (Role& r : snapshot.roles) std::swap(r.record_sessions, r.join_sessions);
    EXPECT_EQ(MayJoinSessions(snapshot, "carol", 100), c.record) << c.role;
    EXPECT_FALSE(MustRecord(snapshot, "carol")) << c.role;
  }
}

// Forwarding through the recorder: a role on this node must permit it and
// none of the user's roles may forbid it (as the certificate's extension).
TEST(PolicyForwardTest, ARoleOnTheNodeGrantsItAndNoRoleForbidsIt) {
  Snapshot snapshot = TestSnapshot();
  EXPECT_TRUE(MayForwardPorts(snapshot, "alice", 100));  // dba selects the node
  EXPECT_FALSE(MayForwardPorts(snapshot, "bob", 100));   // locked
  EXPECT_FALSE(MayForwardPorts(snapshot, "dave", 100));  // no role at all
  EXPECT_FALSE(MayForwardPorts(snapshot, "mallory", 100));
  EXPECT_TRUE(MayForwardPorts(snapshot, "carol", 100));
  // A role that forbids it, even on another node, forbids it here.
  snapshot.roles[1].permit_port_forwarding = false;  // web
  EXPECT_FALSE(MayForwardPorts(snapshot, "carol", 100));
  // Only roles that select other nodes: nothing grants it here.
  snapshot = TestSnapshot();
  snapshot.node_labels = {{"team", "db"}};
  snapshot.users[2].roles = {"web", "nowhere", "rack"};
  EXPECT_FALSE(MayForwardPorts(snapshot, "carol", 100));
  snapshot.roles[0].permit_port_forwarding = false;  // dba
  EXPECT_FALSE(MayForwardPorts(snapshot, "alice", 100));
}

// A recording role records every session of its holders on the node, also
// logins that come from the user's own list or from another role: holding a
// second role must not be a way around the recording.
TEST(PolicyRecordTest, DecisionRecordsEveryLoginOfAHolder) {
  Snapshot snapshot = TestSnapshot();
  snapshot.roles[2].record_sessions = true;  // any-prod: grants deploy
  for (const std::string login : {"carol", "deploy", "ops"}) {
    const Decision d = DecideLogin(snapshot, {"carol", login, 7, 100});
    EXPECT_TRUE(d.allow) << login;
    EXPECT_TRUE(d.record) << login;
  }
  // Denied logins never say "record" (there is no session).
  const Decision denied = DecideLogin(snapshot, {"carol", "root", 7, 100});
  EXPECT_FALSE(denied.allow);
  EXPECT_FALSE(denied.record);
  // alice does not hold any-prod.
  const Decision alice = DecideLogin(snapshot, {"alice", "postgres", 1, 100});
  EXPECT_TRUE(alice.allow);
  EXPECT_FALSE(alice.record);
  // On a node the role does not select (no env label), nothing is recorded.
  snapshot.node_labels = {{"team", "db"}};
  const Decision elsewhere = DecideLogin(snapshot, {"carol", "ops", 7, 100});
  EXPECT_TRUE(elsewhere.allow);
  EXPECT_FALSE(elsewhere.record);
}

TEST(PolicyRecordTest, UnknownAndLockedUsers) {
  Snapshot snapshot = TestSnapshot();
  for (Role& r : snapshot.roles) r.record_sessions = r.join_sessions = true;
  EXPECT_FALSE(MustRecord(snapshot, "mallory"));
  EXPECT_FALSE(MayJoinSessions(snapshot, "mallory", 100));
  EXPECT_FALSE(MayJoinSessions(snapshot, "bob", 100));   // locked for good
  EXPECT_FALSE(MayJoinSessions(snapshot, "alice", 49));  // locked until 50
  EXPECT_TRUE(MayJoinSessions(snapshot, "alice", 50));
  EXPECT_TRUE(MustRecord(snapshot, "alice"));
}

// ---- JSON ----

TEST(PolicyJsonTest, RoundTrip) {
  Snapshot s = TestSnapshot();
  s.roles[0].max_ttl = seconds(28800);
  s.roles[0].permit_port_forwarding = false;
  s.revoked_serials.push_back(0xffffffffffffffffULL);
  const Json::Value json = SnapshotToJson(s);
  EXPECT_EQ(json["revoked_serials"][0].asString(), "1234567890123456789");
  EXPECT_EQ(json["revoked_serials"][1].asString(), "18446744073709551615");
  EXPECT_EQ(json["roles"][0]["max_ttl_seconds"].asInt64(), 28800);

  // Through text, as the cache file travels.
  auto reparsed = json::Parse(json::Write(json));
  ASSERT_TRUE(reparsed.has_value()) << reparsed.error().ToString();
  auto back = SnapshotFromJson(*reparsed);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(json::Write(SnapshotToJson(*back)), json::Write(json));
  EXPECT_EQ(back->users.size(), s.users.size());
  EXPECT_EQ(back->roles[0].max_ttl, seconds(28800));
  EXPECT_FALSE(back->roles[0].permit_port_forwarding);
  EXPECT_TRUE(back->roles[4].node_labels.empty());
  EXPECT_EQ(back->revoked_serials, s.revoked_serials);
  EXPECT_EQ(back->locks[0].message, "left the company");
}

TEST(PolicyJsonTest, ParsesTheDocumentedExample) {
  // docs/node-protocol.md, "The snapshot document".
  const std::string doc = R"({"version": 1, "cluster_name": "grav-00", "host_uuid": "4a6f...",
 "generated_at": 1764000000, "node_labels": {"env": "prod", "team": "db"},
 "users": [{"name": "alice", "logins": ["alice"], "roles": ["dba"]}],
 "roles": [{"name": "dba", "logins": ["postgres"], "node_labels": {"env": "prod", "team": "*"},
            "max_ttl_seconds": 28800, "permit_pty": true, "permit_port_forwarding": false,
            "permit_agent_forwarding": true}],
 "locks": [{"user": "bob", "expires_at": 0, "message": "left the company"}],
 "revoked_serials": ["1234567890123456789"]})";
  auto json = json::Parse(doc);
  ASSERT_TRUE(json.has_value()) << json.error().ToString();
  auto s = SnapshotFromJson(*json);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->cluster_name, "grav-00");
  EXPECT_EQ(s->node_labels, (Labels{{"env", "prod"}, {"team", "db"}}));
  ASSERT_EQ(s->roles.size(), 1u);
  EXPECT_EQ(s->roles[0].node_labels, (Labels{{"env", "prod"}, {"team", "*"}}));
  // A cache from before recording existed has no record_sessions or
  // join_sessions: they read as false.
  EXPECT_FALSE(s->roles[0].record_sessions);
  EXPECT_FALSE(s->roles[0].join_sessions);
  EXPECT_EQ(s->revoked_serials, (std::vector<std::uint64_t>{1234567890123456789ULL}));
  EXPECT_TRUE(DecideLogin(*s, {"alice", "alice", 1, 0}).allow);
  EXPECT_TRUE(DecideLogin(*s, {"alice", "postgres", 1, 0}).allow);
  // dba's selector asks for team=* (the key must exist): without it, dba's
  // login does not reach the node.
  s->node_labels.erase("team");
  EXPECT_FALSE(DecideLogin(*s, {"alice", "postgres", 1, 0}).allow);
  EXPECT_FALSE(DecideLogin(*s, {"bob", "bob", 1, 0}).allow);
}

// Each mutation of a valid document must be refused with InvalidArgument
// whose message names the offending field.
TEST(PolicyJsonTest, StrictParsingRejectsMalformedVariants) {
  const Json::Value good = SnapshotToJson(TestSnapshot());
  ASSERT_TRUE(SnapshotFromJson(good).has_value());
  struct Case {
    std::string name;
    std::function<void(Json::Value*)> mutate;
    std::string expect_in_message;
  };
  const std::vector<Case> cases = {
      {"wrong version", [](Json::Value* v) { (*v)["version"] = 2; }, "version"},
      {"version as string", [](Json::Value* v) { (*v)["version"] = "1"; }, "version"},
      {"missing version", [](Json::Value* v) { v->removeMember("version"); }, "version"},
      {"missing cluster_name", [](Json::Value* v) { v->removeMember("cluster_name"); },
       "cluster_name"},
      {"missing users", [](Json::Value* v) { v->removeMember("users"); }, "users"},
      {"missing roles", [](Json::Value* v) { v->removeMember("roles"); }, "roles"},
      {"missing locks", [](Json::Value* v) { v->removeMember("locks"); }, "locks"},
      {"missing node_labels", [](Json::Value* v) { v->removeMember("node_labels"); },
       "node_labels"},
      {"missing revoked_serials", [](Json::Value* v) { v->removeMember("revoked_serials"); },
       "revoked_serials"},
      {"generated_at as string", [](Json::Value* v) { (*v)["generated_at"] = "1764000000"; },
       "generated_at"},
      {"negative generated_at", [](Json::Value* v) { (*v)["generated_at"] = -1; }, "generated_at"},
      {"users not an array", [](Json::Value* v) { (*v)["users"] = Json::objectValue; }, "users"},
      {"serial as number",
       [](Json::Value* v) { (*v)["revoked_serials"][0] = Json::UInt64{1234567890123456789ULL}; },
       "revoked_serials[0]"},
      {"serial with sign", [](Json::Value* v) { (*v)["revoked_serials"][0] = "+5"; },
       "revoked_serials[0]"},
      {"serial with leading zero", [](Json::Value* v) { (*v)["revoked_serials"][0] = "05"; },
       "revoked_serials[0]"},
      {"serial too large",
       [](Json::Value* v) { (*v)["revoked_serials"][0] = "18446744073709551616"; },
       "revoked_serials[0]"},
      {"serial empty", [](Json::Value* v) { (*v)["revoked_serials"][0] = ""; },
       "revoked_serials[0]"},
      {"bad login name Root", [](Json::Value* v) { (*v)["users"][0]["logins"][0] = "Root"; },
       "users[0]: logins[0]"},
      {"bad role login", [](Json::Value* v) { (*v)["roles"][0]["logins"][0] = "ro ot"; },
       "roles[0]: logins[0]"},
      {"bad user name", [](Json::Value* v) { (*v)["users"][1]["name"] = "-rf"; }, "users[1]: name"},
      {"bad lock user", [](Json::Value* v) { (*v)["locks"][0]["user"] = "a b"; }, "locks[0]: user"},
      {"lock message with newline",
       [](Json::Value* v) { (*v)["locks"][0]["message"] = "a\nfake log line"; },
       "locks[0]: field 'message'"},
      {"extra top-level field", [](Json::Value* v) { (*v)["allow_all"] = true; }, "allow_all"},
      {"extra user field", [](Json::Value* v) { (*v)["users"][0]["admin"] = true; }, "admin"},
      {"extra role field", [](Json::Value* v) { (*v)["roles"][0]["deny"] = "x"; }, "deny"},
      {"extra lock field", [](Json::Value* v) { (*v)["locks"][0]["scope"] = "x"; }, "scope"},
      {"missing user logins", [](Json::Value* v) { (*v)["users"][0].removeMember("logins"); },
       "users[0]: missing field 'logins'"},
      {"missing role permit_pty",
       [](Json::Value* v) { (*v)["roles"][0].removeMember("permit_pty"); },
       "roles[0]: missing field 'permit_pty'"},
      {"permit_pty as number", [](Json::Value* v) { (*v)["roles"][0]["permit_pty"] = 1; },
       "permit_pty"},
      {"record_sessions as number", [](Json::Value* v) { (*v)["roles"][0]["record_sessions"] = 1; },
       "roles[0]: field 'record_sessions'"},
      {"join_sessions as string", [](Json::Value* v) { (*v)["roles"][0]["join_sessions"] = "yes"; },
       "roles[0]: field 'join_sessions'"},
      {"join_sessions null",
       [](Json::Value* v) { (*v)["roles"][0]["join_sessions"] = Json::nullValue; },
       "join_sessions"},
      {"max_ttl as string", [](Json::Value* v) { (*v)["roles"][0]["max_ttl_seconds"] = "60"; },
       "max_ttl_seconds"},
      {"selector value not a string",
       [](Json::Value* v) { (*v)["roles"][0]["node_labels"]["env"] = 1; }, "node_labels"},
      {"bad selector key", [](Json::Value* v) { (*v)["roles"][0]["node_labels"]["e nv"] = "x"; },
       "node_labels"},
      {"bad node label", [](Json::Value* v) { (*v)["node_labels"]["env"] = "pr=od"; },
       "node_labels"},
      {"bad role name", [](Json::Value* v) { (*v)["roles"][0]["name"] = "a/b"; }, "roles[0]: name"},
      {"bad role reference", [](Json::Value* v) { (*v)["users"][0]["roles"][0] = "a b"; },
       "users[0]: roles[0]"},
      {"duplicate user", [](Json::Value* v) { (*v)["users"][1]["name"] = "alice"; }, "users[1]"},
      {"duplicate role", [](Json::Value* v) { (*v)["roles"][1]["name"] = "dba"; }, "roles[1]"},
      {"not an object", [](Json::Value* v) { *v = Json::arrayValue; }, ""},
  };
  for (const Case& c : cases) {
    Json::Value v = good;
    c.mutate(&v);
    auto parsed = SnapshotFromJson(v);
    ASSERT_FALSE(parsed.has_value()) << c.name;
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(parsed.error().message().find(c.expect_in_message), std::string::npos)
        << c.name << ": " << parsed.error().message();
  }
}

TEST(PolicyJsonTest, RoleRoundTripAndStrictness) {
  Role r = MakeRole("dba", {"postgres"}, {{"env", "prod"}});
  r.max_ttl = seconds(3600);
  r.permit_agent_forwarding = false;
  auto back = RoleFromJson(RoleToJson(r));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->name, "dba");
  EXPECT_EQ(back->logins, r.logins);
  EXPECT_EQ(back->node_labels, r.node_labels);
  EXPECT_EQ(back->max_ttl, seconds(3600));
  EXPECT_TRUE(back->permit_pty);
  EXPECT_FALSE(back->permit_agent_forwarding);

  EXPECT_FALSE(back->record_sessions);
  EXPECT_FALSE(back->join_sessions);

  // The recording flags are always written and survive the round trip.
  Json::Value off = RoleToJson(r);
  ASSERT_TRUE(off.isMember("record_sessions"));
  ASSERT_TRUE(off.isMember("join_sessions"));
  EXPECT_FALSE(off["record_sessions"].asBool());
  r.record_sessions = true;
  auto recorded = RoleFromJson(RoleToJson(r));
  ASSERT_TRUE(recorded.has_value()) << recorded.error().ToString();
  EXPECT_TRUE(recorded->record_sessions);
  EXPECT_FALSE(recorded->join_sessions);
  r.record_sessions = false;
  r.join_sessions = true;
  auto joiner = RoleFromJson(RoleToJson(r));
  ASSERT_TRUE(joiner.has_value()) << joiner.error().ToString();
  EXPECT_FALSE(joiner->record_sessions);
  EXPECT_TRUE(joiner->join_sessions);

  for (const char* field : {"record_sessions", "join_sessions"}) {
    Json::Value mistyped = RoleToJson(r);
    mistyped[field] = 1;
    auto parsed = RoleFromJson(mistyped);
    ASSERT_FALSE(parsed.has_value()) << field;
    EXPECT_NE(parsed.error().message().find(field), std::string::npos) << parsed.error().message();
    mistyped[field] = "true";
    EXPECT_FALSE(RoleFromJson(mistyped).has_value()) << field;
  }

  Json::Value negative = RoleToJson(r);
  negative["max_ttl_seconds"] = -5;
  EXPECT_FALSE(RoleFromJson(negative).has_value());
  Json::Value star_key = RoleToJson(r);
  star_key["node_labels"] = Json::objectValue;
  star_key["node_labels"]["*"] = "prod";
  EXPECT_FALSE(RoleFromJson(star_key).has_value());
}

// ---- ParseLabels / FormatLabels ----

TEST(LabelsTest, ParseGood) {
  EXPECT_EQ(ParseLabels("env=prod,team=*").value(), (Labels{{"env", "prod"}, {"team", "*"}}));
  EXPECT_EQ(ParseLabels("*=*").value(), (Labels{{"*", "*"}}));
  EXPECT_EQ(ParseLabels("k8s.io/zone=eu-west_1").value(), (Labels{{"k8s.io/zone", "eu-west_1"}}));
  EXPECT_EQ(ParseLabels(" env=prod , team=db ").value(), (Labels{{"env", "prod"}, {"team", "db"}}));
  EXPECT_TRUE(ParseLabels("").value().empty());
}

TEST(LabelsTest, ParseBad) {
  for (const char* bad :
       {"env", "env=prod,team", "=prod", "env=", "a,,b=c", "env=prod,", ",env=prod",
        "env=prod,env=dev", "env=pr od", "env=prod=x", "e$=x", "*=prod", "env=**", "env=\n"}) {
    auto labels = ParseLabels(bad);
    ASSERT_FALSE(labels.has_value()) << bad;
    EXPECT_EQ(labels.error().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ParseLabels("k=" + std::string(kMaxLabelLength + 1, 'v')).has_value());
  EXPECT_TRUE(ParseLabels("k=" + std::string(kMaxLabelLength, 'v')).has_value());
}

TEST(LabelsTest, FormatRoundTrip) {
  const Labels labels = {{"team", "*"}, {"env", "prod"}};
  EXPECT_EQ(FormatLabels(labels), "env=prod,team=*");
  EXPECT_EQ(ParseLabels(FormatLabels(labels)).value(), labels);
  EXPECT_EQ(FormatLabels({}), "");
}

TEST(LabelsTest, JsonForm) {
  Json::Value v(Json::objectValue);
  v["env"] = "prod";
  EXPECT_EQ(LabelsFromJson(v).value(), (Labels{{"env", "prod"}}));
  EXPECT_EQ(LabelsToJson({{"env", "prod"}}), v);
  v["bad"] = Json::arrayValue;
  EXPECT_FALSE(LabelsFromJson(v).has_value());
  EXPECT_FALSE(LabelsFromJson(Json::Value("env=prod")).has_value());
  EXPECT_TRUE(ValidateLabels({{"env", "*"}}).ok());
  EXPECT_FALSE(ValidateLabels({{"", "x"}}).ok());
}

TEST(LabelsTest, RoleNames) {
  for (const char* ok : {"dba", "web-admins", "team.db", "a_b", "ops@eu"}) {
    EXPECT_TRUE(ValidateRoleName(ok).ok()) << ok;
  }
  for (const char* bad : {"", "-x", ".x", "a b", "a/b", "a\nb"}) {
    EXPECT_FALSE(ValidateRoleName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateRoleName(std::string(65, 'r')).ok());
}

}  // namespace
}  // namespace gate::policy
