// Node credentials (auth/node_auth.h), the admin routes for roles, users,
// locks, node tokens, nodes and revocation, and the node API, driven
// through real Routers over a real SQLite store.
#include "ca-server/api/node_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "ca-server/api/admin_api.h"
#include "ca-server/api/public_api.h"
#include "ca-server/api/router.h"
#include "ca-server/api/services.h"
#include "ca-server/auth/node_auth.h"
#include "ca-server/auth/password.h"
#include "ca-server/auth/tokens.h"
#include "ca-server/auth/totp.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/signer_test_support.h"
#include "gate/bytes.h"
#include "gate/certificate.h"
#include "gate/json.h"
#include "gate/krl.h"
#include "gate/policy.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr char kPin[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// --- ParseNodeAuthorization ----------------------------------------------------------

constexpr char kUuid[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
const std::string kSecret(64, 'c');

TEST(NodeAuthTest, ParsesTheBearerForm) {
  for (const std::string scheme : {"Bearer ", "bearer ", "BEARER "}) {
    auto creds = ParseNodeAuthorization(scheme + kUuid + "." + kSecret);
    ASSERT_TRUE(creds.has_value()) << scheme;
    EXPECT_EQ(creds->host_uuid, kUuid);
    EXPECT_EQ(creds->secret.view(), kSecret);
  }
}

TEST(NodeAuthTest, RefusesEveryOtherForm) {
  const std::string good = std::string(kUuid) + "." + kSecret;
  const std::string bad[] = {
      "Basic " + good,
      "Bearer",
      "Bearer ",
      "Bearer  " + good,                            // two spaces
      "Bearer " + good + " ",                       // trailing space
      "Bearer " + good + "0",                       // secret too long
      "Bearer " + good.substr(0, good.size() - 1),  // too short
      "Bearer " + std::string(kUuid) + ":" + kSecret,
      "Bearer " + std::string(kUuid) + "." + std::string(64, 'C'),  // upper-case hex
      "Bearer " + std::string(kUuid) + "." + std::string(63, 'c') + "g",
      "Bearer 4A6F0C1E-9B2D-4C3E-8F10-0123456789AB." + kSecret,
      "Bearer 4a6f0c1e09b2d-4c3e-8f10-0123456789ab." + kSecret,
      "Bearer " + kSecret + "." + std::string(kUuid),
      "Bearer\t" + good,
  };
  for (const std::string& header : bad) {
    auto creds = ParseNodeAuthorization(header);
    ASSERT_FALSE(creds.has_value()) << header;
    EXPECT_EQ(creds.error().code(), Code::kUnauthenticated) << header;
    EXPECT_EQ(creds.error().message().find(kSecret), std::string::npos);
  }
  auto missing = ParseNodeAuthorization("");
  EXPECT_EQ(missing.error().code(), Code::kUnauthenticated);
  EXPECT_NE(missing.error().message().find("required"), std::string::npos);
}

TEST(NodeAuthTest, NewIdentitiesHaveTheRightShape) {
  auto a = NewHostUuid();
  auto b = NewHostUuid();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(LooksLikeHostUuid(*a)) << *a;
  EXPECT_EQ((*a)[14], '4');                                          // version 4
  EXPECT_NE(std::string("89ab").find((*a)[19]), std::string::npos);  // RFC 4122 variant
  auto secret = NewNodeSecret();
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(secret->size(), kNodeSecretHexChars);
  EXPECT_TRUE(
      ParseNodeAuthorization("Bearer " + *a + "." + std::string(secret->view())).has_value());
  EXPECT_EQ(HashNodeSecret("abc"), HexEncode(Sha256("abc")));
}

// --- The APIs ------------------------------------------------------------------------

class NodeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gate-node-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
    auto store = OpenSqliteStore((dir_ / "gate.db").string());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    config_.cluster_name = "grav-00";
    config_.public_addr = HostPort{"grav-00", 3080};
    audit_ = std::make_unique<AuditLog>(*store_);
    authenticator_ = std::make_unique<Authenticator>(AuthenticatorOptions{}, *store_, *audit_);
    signup_ = std::make_unique<SignupService>(SignupOptions{"grav-00", SecondFactor::kOtp, 12},
                                              *store_, *audit_);
    signer_ = testing::NewSignerService(*store_, [this] { return now_; }, &user_ca_, &host_ca_,
                                        {config_.max_cert_ttl});
    issuer_ = std::make_unique<Issuer>(
        IssuerOptions{config_.cert_ttl, config_.max_cert_ttl, std::chrono::seconds(60)}, *signer_,
        *store_);
    host_issuer_ = std::make_unique<HostIssuer>(*signer_);
    limiter_ = std::make_unique<RateLimiter>(600, 100);
    services_ = std::make_unique<Services>(Services{.config = config_,
                                                    .store = *store_,
                                                    .audit = *audit_,
                                                    .authenticator = *authenticator_,
                                                    .signup = *signup_,
                                                    .issuer = *issuer_,
                                                    .host_issuer = *host_issuer_,
                                                    .auth_limiter = *limiter_,
                                                    .user_ca = user_ca_->public_key(),
                                                    .host_ca = host_ca_->public_key(),
                                                    .now = [this] { return now_; },
                                                    .ca_pin = kPin});
    RegisterPublicApi(public_, *services_);
    RegisterNodeApi(public_, *services_);
    RegisterAdminApi(admin_, *services_);
    host_key_ = ssh::Ed25519PrivateKey::Generate()->public_key();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static HttpRequest Request(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& source) {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.source = source;
    if (method == "POST" || method == "PUT" || method == "PATCH") {
      req.content_type = "application/json";
    }
    return req;
  }

  HttpReply Admin(const std::string& method, const std::string& path,
                  const Json::Value& body = Json::Value()) {
    HttpRequest req = Request(method, path, body.isNull() ? "" : json::Write(body), "unix:0");
    req.admin = true;
    return admin_.Dispatch(req);
  }

  // GET on the admin API with a query string (the server splits it off the
  // path before routing).
  HttpReply AdminGet(const std::string& path, const std::string& query) {
    HttpRequest req = Request("GET", path, "", "unix:0");
    req.query = query;
    req.admin = true;
    return admin_.Dispatch(req);
  }

  HttpReply Public(const std::string& method, const std::string& path,
                   const Json::Value& body = Json::Value(), const std::string& authorization = "") {
    HttpRequest req = Request(method, path, body.isNull() ? "" : json::Write(body), "192.0.2.7");
    req.authorization = authorization;
    return public_.Dispatch(req);
  }

  static Json::Value Parse(const std::string& text) { return *json::Parse(text); }

  // POST /admin/v1/roles with a role document; asserts 200.
  void AddRole(const std::string& text) {
    HttpReply reply = Admin("POST", "/admin/v1/roles", Parse(text));
    ASSERT_EQ(reply.status, 200) << json::Write(reply.body);
  }

  // A node join token with labels that approves principals (by default the
  // names JoinBody asks for besides the hostname); returns the token.
  std::string NodeToken(const std::string& labels_json = "{}",
                        const std::vector<std::string>& principals = {"db-1.example.com",
                                                                      "10.0.0.5"}) {
    Json::Value body = Parse(R"({"type": "node"})");
    body["labels"] = Parse(labels_json);
    body["principals"] = json::StringArray(principals);
    HttpReply reply = Admin("POST", "/admin/v1/tokens", body);
    EXPECT_EQ(reply.status, 200) << json::Write(reply.body);
    return reply.body["token"].asString();
  }

  Json::Value JoinBody(const std::string& token) {
    Json::Value body;
    body["token"] = token;
    body["hostname"] = "db-1";
    body["host_key"] = host_key_.AuthorizedKey("root@db-1");
    body["principals"] = json::StringArray({"db-1", "db-1.example.com", "10.0.0.5"});
    body["labels"] = Parse(R"({"rack": "r1", "env": "dev"})");
    return body;
  }

  // Joins a node; returns the join reply body.
  // The first is db-1 with JoinBody's names; later ones db-2, db-3... with
  // just their hostname (a host name is one node's).
  Json::Value JoinNode(const std::string& token_labels = R"({"env": "prod", "team": "db"})") {
    Json::Value body = JoinBody(NodeToken(
        token_labels, joined_ == 0 ? std::vector<std::string>{"db-1.example.com", "10.0.0.5"}
                                   : std::vector<std::string>{}));
    if (joined_ > 0) {
      body["hostname"] = "db-" + std::to_string(joined_ + 1);
      body.removeMember("principals");
    }
    ++joined_;
    HttpReply reply = Public("POST", "/v1/nodes/join", body);
    EXPECT_EQ(reply.status, 200) << json::Write(reply.body);
    return reply.body;
  }

  static std::string Bearer(const Json::Value& join) {
    return "Bearer " + join["host_uuid"].asString() + "." + join["node_secret"].asString();
  }

  std::vector<std::string> AuditEvents() {
    std::vector<std::string> events;
    auto audit = store_->ListAudit(100);
    EXPECT_TRUE(audit.has_value());
    for (const auto& e : audit.value_or(std::vector<AuditEvent>{})) events.push_back(e.event);
    return events;
  }

  std::filesystem::path dir_;
  std::int64_t now_ = kNow;
  int joined_ = 0;  // nodes JoinNode joined
  Config config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<SignupService> signup_;
  std::unique_ptr<ssh::Signer> user_ca_;
  std::unique_ptr<ssh::Signer> host_ca_;
  std::unique_ptr<SignerService> signer_;
  std::unique_ptr<Issuer> issuer_;
  std::unique_ptr<HostIssuer> host_issuer_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<Services> services_;
  Router public_;
  Router admin_;
  ssh::Ed25519PublicKey host_key_;
};

// --- Roles -------------------------------------------------------------------------

TEST_F(NodeApiTest, AddRoleWithDefaultsAndList) {
  AddRole(R"({"name": "dev", "logins": ["ubuntu", "ubuntu", "deploy"]})");
  AddRole(R"({"name": "dba", "logins": ["postgres"], "node_labels": {"env": "prod", "team": "*"},
              "max_ttl_seconds": 28800, "permit_port_forwarding": false})");
  HttpReply list = Admin("GET", "/admin/v1/roles");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["roles"].size(), 2u);
  const Json::Value& dba = list.body["roles"][0];
  EXPECT_EQ(dba["name"], "dba");
  EXPECT_EQ(dba["max_ttl_seconds"].asInt64(), 28800);
  EXPECT_EQ(dba["node_labels"]["team"], "*");
  EXPECT_FALSE(dba["permit_port_forwarding"].asBool());
  EXPECT_TRUE(dba["permit_pty"].asBool());
  const Json::Value& dev = list.body["roles"][1];
  EXPECT_EQ(dev["logins"].size(), 2u);      // deduplicated
  EXPECT_EQ(dev["node_labels"]["*"], "*");  // every node by default
  EXPECT_EQ(dev["max_ttl_seconds"].asInt64(), 0);
  // Recording is off unless asked for, and the fields are always listed.
  for (const Json::Value& role : list.body["roles"]) {
    ASSERT_TRUE(role["record_sessions"].isBool()) << role["name"];
    ASSERT_TRUE(role["join_sessions"].isBool()) << role["name"];
    EXPECT_FALSE(role["record_sessions"].asBool());
    EXPECT_FALSE(role["join_sessions"].asBool());
  }
  EXPECT_EQ(Admin("POST", "/admin/v1/roles", Parse(R"({"name": "dev"})")).status, 409);
}

TEST_F(NodeApiTest, RoleRecordingFlags) {
  AddRole(R"({"name": "auditors", "logins": ["root"], "record_sessions": true})");
  AddRole(R"({"name": "watchers", "join_sessions": true})");
  auto auditors = store_->GetRole("auditors");
  ASSERT_TRUE(auditors.has_value());
  EXPECT_TRUE(auditors->record_sessions);
  EXPECT_FALSE(auditors->join_sessions);
  auto watchers = store_->GetRole("watchers");
  ASSERT_TRUE(watchers.has_value());
  EXPECT_FALSE(watchers->record_sessions);
  EXPECT_TRUE(watchers->join_sessions);
  HttpReply list = Admin("GET", "/admin/v1/roles");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.body["roles"][0]["record_sessions"].asBool());  // auditors
  EXPECT_TRUE(list.body["roles"][1]["join_sessions"].asBool());    // watchers
  // PUT replaces wholesale: a flag not given is off again.
  ASSERT_EQ(Admin("PUT", "/admin/v1/roles/auditors", Parse(R"({"logins": ["root"]})")).status, 200);
  EXPECT_FALSE(store_->GetRole("auditors")->record_sessions);
  auto audit = store_->ListAudit(10);
  ASSERT_TRUE(audit.has_value());
  bool found = false;
  for (const auto& e : *audit) {
    if (e.event == "role.create" && e.detail.find("watchers") == 0) {
      found = true;
      EXPECT_NE(e.detail.find("record sessions no, join sessions yes"), std::string::npos)
          << e.detail;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(NodeApiTest, PatchRoleChangesOnlyTheFieldsGiven) {
  AddRole(R"({"name": "dba", "logins": ["postgres"], "node_labels": {"env": "prod"},
              "max_ttl_seconds": 3600, "permit_agent_forwarding": false})");
  HttpReply patched = Admin("PATCH", "/admin/v1/roles/dba", Parse(R"({"record_sessions": true})"));
  ASSERT_EQ(patched.status, 200) << json::Write(patched.body);
  EXPECT_TRUE(patched.body["record_sessions"].asBool());
  auto dba = store_->GetRole("dba");
  ASSERT_TRUE(dba.has_value());
  EXPECT_TRUE(dba->record_sessions);
  EXPECT_FALSE(dba->join_sessions);
  EXPECT_EQ(dba->logins, (std::vector<std::string>{"postgres"}));
  EXPECT_EQ(dba->node_labels, (policy::Labels{{"env", "prod"}}));
  EXPECT_EQ(dba->max_ttl, std::chrono::seconds(3600));
  EXPECT_FALSE(dba->permit_agent_forwarding);
  EXPECT_TRUE(dba->permit_pty);

  ASSERT_EQ(Admin("PATCH", "/admin/v1/roles/dba",
                  Parse(R"({"record_sessions": false, "join_sessions": true, "logins": []})"))
                .status,
            200);
  dba = store_->GetRole("dba");
  EXPECT_FALSE(dba->record_sessions);
  EXPECT_TRUE(dba->join_sessions);
  EXPECT_TRUE(dba->logins.empty());
  EXPECT_EQ(dba->max_ttl, std::chrono::seconds(3600));

  // Refused, and nothing changes.
  const char* bad[] = {
      R"({"record_sessions": "true"})", R"({"join_sessions": 1})", R"({"record-sessions": true})",
      R"({"name": "other"})",           R"({"node_labels": {}})",  R"({"max_ttl_seconds": 5})",
  };
  for (const char* text : bad) {
    HttpReply reply = Admin("PATCH", "/admin/v1/roles/dba", Parse(text));
    EXPECT_EQ(reply.status, 400) << text << " -> " << json::Write(reply.body);
  }
  EXPECT_EQ(Admin("PATCH", "/admin/v1/roles/dba", Json::Value(Json::arrayValue)).status, 400);
  dba = store_->GetRole("dba");
  EXPECT_TRUE(dba->join_sessions);
  EXPECT_EQ(dba->node_labels, (policy::Labels{{"env", "prod"}}));
  EXPECT_EQ(Admin("PATCH", "/admin/v1/roles/nope", Parse(R"({})")).status, 404);
  EXPECT_EQ(Admin("PATCH", "/admin/v1/roles/-x", Parse(R"({})")).status, 400);
}

TEST_F(NodeApiTest, RoleValidation) {
  const char* bad[] = {
      R"({})",
      R"({"name": "-dev"})",
      R"({"name": "a b"})",
      R"({"name": "dev", "logins": ["Root"]})",
      R"({"name": "dev", "logins": "root"})",
      R"({"name": "dev", "node_labels": {}})",
      R"({"name": "dev", "node_labels": {"env": "a,b"}})",
      R"({"name": "dev", "node_labels": {"*": "prod"}})",
      R"({"name": "dev", "node_labels": ["env"]})",
      R"({"name": "dev", "max_ttl_seconds": 30})",
      R"({"name": "dev", "max_ttl_seconds": 108001})",
      R"({"name": "dev", "max_ttl_seconds": -1})",
      R"({"name": "dev", "permit_pty": "false"})",
      R"({"name": "dev", "permit-pty": false})",
      R"({"name": "dev", "record_sessions": "yes"})",
      R"({"name": "dev", "record_sessions": 1})",
      R"({"name": "dev", "join_sessions": null})",
      R"({"name": "dev", "record-sessions": true})",
  };
  for (const char* text : bad) {
    HttpReply reply = Admin("POST", "/admin/v1/roles", Parse(text));
    EXPECT_EQ(reply.status, 400) << text << " -> " << json::Write(reply.body);
  }
  EXPECT_EQ(Admin("GET", "/admin/v1/roles").body["roles"].size(), 0u);
  AddRole(R"({"name": "ok", "max_ttl_seconds": 108000})");  // exactly max_cert_ttl
}

TEST_F(NodeApiTest, ReplaceRole) {
  AddRole(R"({"name": "dev", "logins": ["ubuntu"]})");
  HttpReply replaced = Admin("PUT", "/admin/v1/roles/dev", Parse(R"({"logins": ["deploy"]})"));
  ASSERT_EQ(replaced.status, 200) << json::Write(replaced.body);
  EXPECT_EQ(store_->GetRole("dev")->logins, (std::vector<std::string>{"deploy"}));
  EXPECT_EQ(Admin("PUT", "/admin/v1/roles/dev", Parse(R"({"name": "other"})")).status, 400);
  EXPECT_EQ(Admin("PUT", "/admin/v1/roles/nope", Parse(R"({})")).status, 404);
}

TEST_F(NodeApiTest, RemoveRoleHeldByUsersIsRefused) {
  AddRole(R"({"name": "dev", "logins": ["ubuntu"]})");
  ASSERT_EQ(
      Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice", "roles": ["dev"]})")).status,
      200);
  HttpReply refused = Admin("DELETE", "/admin/v1/roles/dev");
  EXPECT_EQ(refused.status, 409);
  const std::string message = refused.body["error"]["message"].asString();
  EXPECT_NE(message.find("alice"), std::string::npos) << message;
  EXPECT_NE(message.find("gatectl users update"), std::string::npos) << message;
  ASSERT_EQ(
      Admin("PUT", "/admin/v1/users/alice", Parse(R"({"roles": [], "logins": ["alice"]})")).status,
      200);
  EXPECT_EQ(Admin("DELETE", "/admin/v1/roles/dev").status, 200);
  EXPECT_EQ(Admin("DELETE", "/admin/v1/roles/dev").status, 404);
  const auto events = AuditEvents();
  EXPECT_EQ(events.front(), "role.delete");
}

// --- Users with roles, updates, locks --------------------------------------------------

TEST_F(NodeApiTest, AddUserWithRolesHasNoDefaultLogin) {
  AddRole(R"({"name": "dev", "logins": ["ubuntu"]})");
  ASSERT_EQ(
      Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice", "roles": ["dev"]})")).status,
      200);
  auto alice = store_->GetUser("alice");
  EXPECT_TRUE(alice->logins.empty());
  EXPECT_EQ(alice->roles, (std::vector<std::string>{"dev"}));
  ASSERT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "bob"})")).status, 200);
  EXPECT_EQ(store_->GetUser("bob")->logins, (std::vector<std::string>{"bob"}));
}

// Regression: users created over the admin API had created_at = 0.
TEST_F(NodeApiTest, AddUserRecordsWhenTheUserWasCreated) {
  now_ = kNow + 42;
  ASSERT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice"})")).status, 200);
  EXPECT_EQ(store_->GetUser("alice")->created_at, kNow + 42);
  HttpReply list = Admin("GET", "/admin/v1/users");
  EXPECT_EQ(list.body["users"][0]["created_at"].asInt64(), kNow + 42);
}

TEST_F(NodeApiTest, AddUserRefusesUnknownOrMalformedRolesAndCreatesNothing) {
  HttpReply missing =
      Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice", "roles": ["ghost"]})"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice", "roles": ["-x"]})")).status,
            400);
  EXPECT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice", "roles": "dev"})")).status,
            400);
  EXPECT_EQ(store_->GetUser("alice").error().code(), Code::kNotFound);
}

TEST_F(NodeApiTest, UpdateUser) {
  AddRole(R"({"name": "dev", "logins": ["ubuntu"]})");
  ASSERT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice"})")).status, 200);
  HttpReply updated = Admin("PUT", "/admin/v1/users/alice", Parse(R"({"roles": ["dev"]})"));
  ASSERT_EQ(updated.status, 200) << json::Write(updated.body);
  EXPECT_EQ(updated.body["name"], "alice");
  EXPECT_EQ(updated.body["logins"][0], "alice");
  EXPECT_EQ(updated.body["roles"][0], "dev");
  EXPECT_EQ(updated.body["status"], "pending signup");

  EXPECT_EQ(Admin("PUT", "/admin/v1/users/alice", Parse(R"({})")).status, 400);
  EXPECT_EQ(Admin("PUT", "/admin/v1/users/alice", Parse(R"({"roles": ["ghost"]})")).status, 404);
  EXPECT_EQ(Admin("PUT", "/admin/v1/users/alice", Parse(R"({"logins": ["Root"]})")).status, 400);
  // Neither logins nor roles left: refused.
  EXPECT_EQ(Admin("PUT", "/admin/v1/users/alice", Parse(R"({"logins": [], "roles": []})")).status,
            400);
  EXPECT_EQ(Admin("PUT", "/admin/v1/users/nobody", Parse(R"({"logins": ["x"]})")).status, 404);
  EXPECT_EQ(store_->GetUser("alice")->roles, (std::vector<std::string>{"dev"}));
}

TEST_F(NodeApiTest, LockAndUnlock) {
  ASSERT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice"})")).status, 200);
  HttpReply locked = Admin("POST", "/admin/v1/users/alice/lock",
                           Parse(R"({"ttl_seconds": 3600, "message": "laptop stolen"})"));
  ASSERT_EQ(locked.status, 200) << json::Write(locked.body);
  EXPECT_EQ(locked.body["expires_at"].asInt64(), kNow + 3600);
  EXPECT_EQ(locked.body["message"], "laptop stolen");

  HttpReply list = Admin("GET", "/admin/v1/users");
  EXPECT_EQ(list.body["users"][0]["status"], "locked");
  EXPECT_EQ(list.body["users"][0]["lock"]["message"], "laptop stolen");
  now_ = kNow + 3600;  // expired by itself
  EXPECT_EQ(Admin("GET", "/admin/v1/users").body["users"][0]["status"], "pending signup");

  // No body: until unlocked, with the default message.
  HttpReply forever = Admin("POST", "/admin/v1/users/alice/lock");
  ASSERT_EQ(forever.status, 200) << json::Write(forever.body);
  EXPECT_EQ(forever.body["expires_at"].asInt64(), 0);
  EXPECT_EQ(forever.body["message"], "locked by an administrator");

  EXPECT_EQ(Admin("DELETE", "/admin/v1/users/alice/lock").status, 200);
  EXPECT_EQ(Admin("DELETE", "/admin/v1/users/alice/lock").status, 404);
  const auto events = AuditEvents();
  EXPECT_EQ(events[0], "user.unlock");
  EXPECT_EQ(events[1], "user.lock");
}

TEST_F(NodeApiTest, LockValidation) {
  ASSERT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice"})")).status, 200);
  const char* bad[] = {
      R"({"ttl_seconds": -1})",
      R"({"ttl_seconds": 99999999999})",
      R"({"message": "line\nbreak"})",
      R"({"message": 5})",
  };
  for (const char* text : bad) {
    EXPECT_EQ(Admin("POST", "/admin/v1/users/alice/lock", Parse(text)).status, 400) << text;
  }
  Json::Value long_message;
  long_message["message"] = std::string(257, 'x');
  EXPECT_EQ(Admin("POST", "/admin/v1/users/alice/lock", long_message).status, 400);
  EXPECT_EQ(Admin("POST", "/admin/v1/users/ghost/lock").status, 404);
  EXPECT_TRUE(store_->ListLocks()->empty());
}

// --- Node tokens and join -------------------------------------------------------------

TEST_F(NodeApiTest, NodeTokenReply) {
  HttpReply reply =
      Admin("POST", "/admin/v1/tokens", Parse(R"({"type": "node", "labels": {"env": "prod"}})"));
  ASSERT_EQ(reply.status, 200) << json::Write(reply.body);
  EXPECT_TRUE(LooksLikeToken(reply.body["token"].asString()));
  EXPECT_EQ(reply.body["type"], "node");
  EXPECT_EQ(reply.body["ttl_seconds"].asInt64(), 1800);
  EXPECT_EQ(reply.body["expires_at"].asInt64(), kNow + 1800);
  EXPECT_EQ(reply.body["labels"]["env"], "prod");
  EXPECT_EQ(reply.body["proxy"], "grav-00:3080");
  EXPECT_EQ(reply.body["ca_pin"], kPin);
  // Stored by hash only.
  EXPECT_EQ(store_->GetNodeToken(reply.body["token"].asString()).error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetNodeToken(HashToken(reply.body["token"].asString())).has_value());
}

TEST_F(NodeApiTest, NodeTokenValidation) {
  const char* bad[] = {
      R"({})",
      R"({"type": "user"})",
      R"({"type": "node", "ttl_seconds": 0})",
      R"({"type": "node", "ttl_seconds": 86401})",
      R"({"type": "node", "labels": {"env": "*"}})",
      R"({"type": "node", "labels": {"*": "*"}})",
      R"({"type": "node", "labels": {"env": "a b"}})",
      R"({"type": "node", "labels": {"env": 1}})",
  };
  for (const char* text : bad) {
    EXPECT_EQ(Admin("POST", "/admin/v1/tokens", Parse(text)).status, 400) << text;
  }
}

TEST_F(NodeApiTest, JoinIssuesHostCertificateAndCredentials) {
  Json::Value join = JoinNode();
  const std::string uuid = join["host_uuid"].asString();
  EXPECT_TRUE(LooksLikeHostUuid(uuid));
  EXPECT_EQ(join["node_secret"].asString().size(), 64u);
  EXPECT_EQ(join["cluster_name"], "grav-00");
  // The token's labels win over the node's.
  EXPECT_EQ(join["labels"]["env"], "prod");
  EXPECT_EQ(join["labels"]["team"], "db");
  EXPECT_EQ(join["labels"]["rack"], "r1");
  EXPECT_EQ(join["user_ca"][0], user_ca_->public_key().AuthorizedKey());
  EXPECT_EQ(join["host_ca"][0], host_ca_->public_key().AuthorizedKey());

  auto cert = ssh::ParseCertificateLine(join["host_certificate"].asString());
  ASSERT_TRUE(cert.has_value()) << cert.error().ToString();
  EXPECT_EQ(cert->spec.type, ssh::CertType::kHost);
  EXPECT_EQ(cert->spec.key_id, uuid);
  EXPECT_EQ(cert->spec.principals,
            (std::vector<std::string>{"db-1", "db-1.example.com", "10.0.0.5"}));
  EXPECT_EQ(cert->spec.public_key, host_key_);
  EXPECT_EQ(cert->signature_key, host_ca_->public_key());
  EXPECT_EQ(cert->spec.valid_before, static_cast<std::uint64_t>(kNow + 30 * 24 * 3600));

  auto node = store_->GetNode(uuid);
  ASSERT_TRUE(node.has_value());
  EXPECT_EQ(node->hostname, "db-1");
  EXPECT_EQ(node->host_key, host_key_.AuthorizedKey());
  EXPECT_EQ(node->secret_hash, HashNodeSecret(join["node_secret"].asString()));
  EXPECT_EQ(AuditEvents().front(), "node.join");

  HttpReply list = Admin("GET", "/admin/v1/nodes");
  ASSERT_EQ(list.body["nodes"].size(), 1u);
  EXPECT_EQ(list.body["nodes"][0]["host_uuid"], uuid);
  EXPECT_EQ(list.body["nodes"][0]["labels"]["env"], "prod");
  EXPECT_EQ(list.body["nodes"][0]["joined_at"].asInt64(), kNow);
  EXPECT_EQ(list.body["nodes"][0]["last_sync"].asInt64(), 0);
}

TEST_F(NodeApiTest, JoinWithoutPrincipalsUsesTheHostname) {
  Json::Value body = JoinBody(NodeToken("{}", {}));
  body.removeMember("principals");
  body.removeMember("labels");
  HttpReply reply = Public("POST", "/v1/nodes/join", body);
  ASSERT_EQ(reply.status, 200) << json::Write(reply.body);
  auto cert = ssh::ParseCertificateLine(reply.body["host_certificate"].asString());
  EXPECT_EQ(cert->spec.principals, (std::vector<std::string>{"db-1"}));
  EXPECT_TRUE(reply.body["labels"].empty());
}

TEST_F(NodeApiTest, JoinTokenIsSingleUseAndExpires) {
  const std::string token = NodeToken();
  ASSERT_EQ(Public("POST", "/v1/nodes/join", JoinBody(token)).status, 200);
  HttpReply again = Public("POST", "/v1/nodes/join", JoinBody(token));
  EXPECT_EQ(again.status, 401);
  EXPECT_NE(again.body["error"]["message"].asString().find("token"), std::string::npos);

  const std::string late = NodeToken();
  now_ = kNow + 1800;
  HttpReply expired = Public("POST", "/v1/nodes/join", JoinBody(late));
  EXPECT_EQ(expired.status, 409);
  EXPECT_NE(expired.body["error"]["message"].asString().find("expired"), std::string::npos);
  for (const char* bad : {"", "nothex", "ffffffffffffffffffffffffffffffff"}) {
    EXPECT_EQ(Public("POST", "/v1/nodes/join", JoinBody(bad)).status, 401) << bad;
  }
  EXPECT_EQ(store_->ListNodes()->size(), 1u);
}

TEST_F(NodeApiTest, JoinValidationKeepsTheToken) {
  const std::string token = NodeToken();
  std::vector<std::pair<std::string, Json::Value>> edits = {
      {"hostname", Json::Value("db 1")},
      {"hostname", Json::Value("")},
      {"host_key", Json::Value("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ")},
      {"host_key", Json::Value("garbage")},
      {"principals", json::StringArray({})},
      {"principals", json::StringArray({"ok", "not ok"})},
      {"principals", Json::Value("db-1")},
      {"labels", Parse(R"({"env": "*"})")},
      {"labels", Parse(R"({"a=b": "c"})")},
  };
  for (const auto& [field, value] : edits) {
    Json::Value body = JoinBody(token);
    body[field] = value;
    HttpReply reply = Public("POST", "/v1/nodes/join", body);
    EXPECT_EQ(reply.status, 400) << field << " " << json::Write(value);
  }
  EXPECT_TRUE(store_->GetNodeToken(HashToken(token)).has_value());
  EXPECT_EQ(Public("POST", "/v1/nodes/join", JoinBody(token)).status, 200);
}

TEST_F(NodeApiTest, JoinIsRateLimitedPerSource) {
  limiter_ = std::make_unique<RateLimiter>(0, 2);
  services_ = std::make_unique<Services>(Services{.config = config_,
                                                  .store = *store_,
                                                  .audit = *audit_,
                                                  .authenticator = *authenticator_,
                                                  .signup = *signup_,
                                                  .issuer = *issuer_,
                                                  .host_issuer = *host_issuer_,
                                                  .auth_limiter = *limiter_,
                                                  .user_ca = user_ca_->public_key(),
                                                  .host_ca = host_ca_->public_key(),
                                                  .now = [this] { return now_; },
                                                  .ca_pin = kPin});
  Router router;
  RegisterNodeApi(router, *services_);
  HttpRequest req = Request("POST", "/v1/nodes/join", json::Write(JoinBody("x")), "198.51.100.1");
  EXPECT_EQ(router.Dispatch(req).status, 401);
  EXPECT_EQ(router.Dispatch(req).status, 401);
  EXPECT_EQ(router.Dispatch(req).status, 429);
}

// --- Node credentials on the node API ------------------------------------------------

TEST_F(NodeApiTest, BadCredentialsAre401) {
  Json::Value join = JoinNode();
  const std::string uuid = join["host_uuid"].asString();
  const std::string wrong_secret = "Bearer " + uuid + "." + std::string(64, '0');
  const std::string unknown_node =
      "Bearer 00000000-0000-4000-8000-000000000000." + join["node_secret"].asString();
  for (const std::string& header : {std::string(), std::string("Bearer nonsense"), wrong_secret,
                                    unknown_node, "Basic " + Bearer(join).substr(7)}) {
    HttpReply reply = Public("GET", "/v1/nodes/policy", Json::Value(), header);
    EXPECT_EQ(reply.status, 401) << header;
    EXPECT_EQ(Public("DELETE", "/v1/nodes/self", Json::Value(), header).status, 401) << header;
  }
  // Unknown node and wrong secret look the same.
  EXPECT_EQ(Public("GET", "/v1/nodes/policy", Json::Value(), wrong_secret).body,
            Public("GET", "/v1/nodes/policy", Json::Value(), unknown_node).body);
  EXPECT_TRUE(store_->GetNode(uuid).has_value());
  EXPECT_EQ(store_->GetNode(uuid)->last_sync, 0);
}

// --- OTP verification for pam_gate.so (source=central) -----------------------------

class NodeOtpTest : public NodeApiTest {
 protected:
  // Creates and signs up user with an OTP device; returns its secret.
  SecretString SignedUpUser(const std::string& name) {
    HttpReply added = Admin("POST", "/admin/v1/users", Parse(R"({"name": ")" + name + R"("})"));
    EXPECT_EQ(added.status, 200) << json::Write(added.body);
    auto token = signup_->CreateToken(name, std::chrono::hours(1), now_);
    EXPECT_TRUE(token.has_value());
    EXPECT_TRUE(signup_->Start(*token, now_).has_value());
    SecretString secret = store_->GetSignupToken(HashToken(*token))->totp_secret;
    auto done = signup_->Finish(*token, SecretString("correct horse battery"),
                                SecretString(*TotpCode(secret, now_)), "t", now_);
    EXPECT_TRUE(done.has_value()) << done.error().ToString();
    return secret;
  }

  HttpReply Verify(const std::string& authorization, const std::string& user,
                   const std::string& code) {
    Json::Value body;
    body["user"] = user;
    body["code"] = code;
    return Public("POST", "/v1/nodes/otp/verify", body, authorization);
  }
};

TEST_F(NodeOtpTest, FreshCodeOnceThenReplayRefused) {
  SecretString secret = SignedUpUser("alice");
  Json::Value join = JoinNode();
  now_ += 30;
  const std::string code = *TotpCode(secret, now_);
  HttpReply ok = Verify(Bearer(join), "alice", code);
  ASSERT_EQ(ok.status, 200) << json::Write(ok.body);
  EXPECT_EQ(ok.body["user"].asString(), "alice");
  EXPECT_TRUE(ok.body["ok"].asBool());
  HttpReply replay = Verify(Bearer(join), "alice", code);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(json::Write(replay.body).find(code), std::string::npos);

  auto audit = store_->ListAudit(2);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 2u);
  for (const auto& e : *audit) {
    EXPECT_EQ(e.event, "user.otp");
    EXPECT_EQ(e.source, join["host_uuid"].asString());
    EXPECT_EQ(e.detail.find(code), std::string::npos);
  }
  EXPECT_TRUE((*audit)[1].success);
  EXPECT_FALSE((*audit)[0].success);
}

TEST_F(NodeOtpTest, UnknownUserLooksLikeAWrongCode) {
  SignedUpUser("alice");
  Json::Value join = JoinNode();
  HttpReply wrong = Verify(Bearer(join), "alice", "000000");
  HttpReply unknown = Verify(Bearer(join), "nobody", "000000");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(json::Write(wrong.body), json::Write(unknown.body));
}

TEST_F(NodeOtpTest, LockoutIs429) {
  SecretString secret = SignedUpUser("alice");
  Json::Value join = JoinNode();
  // AuthenticatorOptions{} locks out after 5 failures.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Verify(Bearer(join), "alice", "000000").status, 401);
  HttpReply locked = Verify(Bearer(join), "alice", *TotpCode(secret, now_ + 30));
  EXPECT_EQ(locked.status, 429);
  // The block is this node's, not the user's: a login from an address that
  // has not failed still gets in (one node cannot lock a user out).
  Json::Value login;
  login["user"] = "alice";
  login["password"] = "correct horse battery";
  login["otp_code"] = *TotpCode(secret, now_ + 30);
  login["public_key"] = host_key_.AuthorizedKey();
  EXPECT_EQ(Public("POST", "/v1/login", login).status, 200);
  // And another node is not blocked either, while this one still is.
  Json::Value other = JoinNode();
  now_ += 60;
  EXPECT_EQ(Verify(Bearer(other), "alice", *TotpCode(secret, now_)).status, 200);
  EXPECT_EQ(Verify(Bearer(join), "alice", *TotpCode(secret, now_ + 30)).status, 429);
}

TEST_F(NodeOtpTest, NeedsNodeCredentialsAndAWellFormedBody) {
  SignedUpUser("alice");
  Json::Value join = JoinNode();
  EXPECT_EQ(Verify("", "alice", "000000").status, 401);
  EXPECT_EQ(Verify("Bearer " + join["host_uuid"].asString() + "." + std::string(64, '0'), "alice",
                   "000000")
                .status,
            401);
  EXPECT_EQ(Verify(Bearer(join), "-alice", "000000").status, 400);
  EXPECT_EQ(
      Public("POST", "/v1/nodes/otp/verify", Parse(R"({"user": "alice"})"), Bearer(join)).status,
      400);
  EXPECT_EQ(Public("GET", "/v1/nodes/otp/verify", Json::Value(), Bearer(join)).status, 405);
  // None of these counted towards alice's lockout.
  EXPECT_EQ(*authenticator_->throttle().RecentFailures("alice", kEverySource, now_), 0);
}

TEST_F(NodeOtpTest, RateLimitedPerNode) {
  SignedUpUser("alice");
  Json::Value first = JoinNode();
  Json::Value second = JoinNode();
  limiter_ = std::make_unique<RateLimiter>(0, 2);
  services_ = std::make_unique<Services>(Services{.config = config_,
                                                  .store = *store_,
                                                  .audit = *audit_,
                                                  .authenticator = *authenticator_,
                                                  .signup = *signup_,
                                                  .issuer = *issuer_,
                                                  .host_issuer = *host_issuer_,
                                                  .auth_limiter = *limiter_,
                                                  .user_ca = user_ca_->public_key(),
                                                  .host_ca = host_ca_->public_key(),
                                                  .now = [this] { return now_; },
                                                  .ca_pin = kPin});
  Router router;
  RegisterNodeApi(router, *services_);
  auto verify = [&](const Json::Value& join, const std::string& user) {
    Json::Value body;
    body["user"] = user;
    body["code"] = "000000";
    HttpRequest req = Request("POST", "/v1/nodes/otp/verify", json::Write(body), "192.0.2.7");
    req.authorization = Bearer(join);
    return router.Dispatch(req).status;
  };
  EXPECT_EQ(verify(first, "alice"), 401);
  EXPECT_EQ(verify(first, "nobody"), 401);
  EXPECT_EQ(verify(first, "other"), 429);   // per node, across users
  EXPECT_EQ(verify(second, "alice"), 401);  // another node has its own budget
}

TEST_F(NodeApiTest, PolicySnapshotKrlAndLastSync) {
  AddRole(R"({"name": "dev", "logins": ["ubuntu"], "node_labels": {"env": "dev"},
              "record_sessions": true})");
  ASSERT_EQ(
      Admin("POST", "/admin/v1/users", Parse(R"({"name": "alice", "roles": ["dev"]})")).status,
      200);
  ASSERT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "bob"})")).status, 200);
  ASSERT_EQ(Admin("POST", "/admin/v1/users", Parse(R"({"name": "carl"})")).status, 200);
  ASSERT_EQ(Admin("POST", "/admin/v1/users/bob/lock", Parse(R"({"message": "left"})")).status, 200);
  ASSERT_EQ(Admin("POST", "/admin/v1/users/carl/lock", Parse(R"({"ttl_seconds": 10})")).status,
            200);
  // Certificates: one live and revoked, one revoked but expired by the sync.
  IssuedCertificate live{111, "alice", "alice", kNow - 60, kNow + 3600, kNow};
  IssuedCertificate dead{222, "alice", "alice", kNow - 60, kNow + 30, kNow};
  ASSERT_TRUE(store_->RecordCertificate(live).ok());
  ASSERT_TRUE(store_->RecordCertificate(dead).ok());
  ASSERT_EQ(Admin("POST", "/admin/v1/certs/revoke", Parse(R"({"user": "alice"})")).status, 200);

  Json::Value join = JoinNode(R"({"env": "dev"})");
  now_ = kNow + 60;
  HttpReply reply = Public("GET", "/v1/nodes/policy", Json::Value(), Bearer(join));
  ASSERT_EQ(reply.status, 200) << json::Write(reply.body);

  auto snapshot = policy::SnapshotFromJson(reply.body["snapshot"]);
  ASSERT_TRUE(snapshot.has_value()) << snapshot.error().ToString();
  EXPECT_EQ(snapshot->cluster_name, "grav-00");
  EXPECT_EQ(snapshot->host_uuid, join["host_uuid"].asString());
  EXPECT_EQ(snapshot->generated_at, kNow + 60);
  EXPECT_EQ(snapshot->node_labels.at("env"), "dev");
  ASSERT_EQ(snapshot->users.size(), 3u);
  EXPECT_EQ(snapshot->users[0].name, "alice");
  EXPECT_EQ(snapshot->users[0].roles, (std::vector<std::string>{"dev"}));
  ASSERT_EQ(snapshot->roles.size(), 1u);
  EXPECT_EQ(snapshot->roles[0].logins, (std::vector<std::string>{"ubuntu"}));
  EXPECT_TRUE(snapshot->roles[0].record_sessions);  // reaches the node
  EXPECT_FALSE(snapshot->roles[0].join_sessions);
  ASSERT_EQ(snapshot->locks.size(), 1u);  // carl's lock expired
  EXPECT_EQ(snapshot->locks[0].user, "bob");
  EXPECT_EQ(snapshot->revoked_serials, (std::vector<std::uint64_t>{111}));
  EXPECT_EQ(reply.body["user_ca"][0], user_ca_->public_key().AuthorizedKey());

  // The policy decides as expected on that snapshot.
  policy::LoginRequest login{"alice", "ubuntu", 333, kNow + 60};
  EXPECT_TRUE(policy::DecideLogin(*snapshot, login).allow);
  login.serial = 111;
  EXPECT_FALSE(policy::DecideLogin(*snapshot, login).allow);

  auto krl_bytes = Base64Decode(reply.body["krl"].asString());
  ASSERT_TRUE(krl_bytes.has_value());
  auto krl = ssh::ParseKrl(*krl_bytes);
  ASSERT_TRUE(krl.has_value()) << krl.error().ToString();
  EXPECT_EQ(krl->version, 1u);
  EXPECT_TRUE(ssh::KrlRevokes(*krl, user_ca_->public_key(), 111));
  EXPECT_FALSE(ssh::KrlRevokes(*krl, user_ca_->public_key(), 222));
  EXPECT_FALSE(ssh::KrlRevokes(*krl, host_ca_->public_key(), 111));

  EXPECT_EQ(store_->GetNode(join["host_uuid"].asString())->last_sync, kNow + 60);
}

// GET /v1/nodes/policy?since=R: the three shapes on the wire, and a
// malformed query refused before anything is served or recorded.
TEST_F(NodeApiTest, PolicyBySinceAnswersInThreeShapes) {
  Json::Value join = JoinNode();
  auto get = [&](const std::string& query) {
    HttpRequest req = Request("GET", "/v1/nodes/policy", "", "192.0.2.7");
    req.query = query;
    req.authorization = Bearer(join);
    return public_.Dispatch(req);
  };
  for (const char* bad : {"since=-1", "since=x", "since=1&other=2", "since=0&cursor=nonsense"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(get(bad).status, 400);
  }
  EXPECT_EQ(store_->GetNode(join["host_uuid"].asString())->last_sync, 0);

  HttpReply full = get("since=0");
  ASSERT_EQ(full.status, 200) << json::Write(full.body);
  EXPECT_EQ(full.body["shape"].asString(), "full");
  EXPECT_FALSE(full.body.isMember("next"));
  EXPECT_TRUE(full.body.isMember("krl"));
  EXPECT_EQ(full.body["host_principals"],
            json::StringArray(store_->GetNode(join["host_uuid"].asString())->principals));
  EXPECT_EQ(full.body["user_ca"].size(), 1u);
  const std::int64_t revision = full.body["revision"].asInt64();
  EXPECT_EQ(full.body["snapshot"]["revision"].asInt64(), revision);
  EXPECT_EQ(store_->GetNode(join["host_uuid"].asString())->policy_revision, revision);

  HttpReply unchanged = get("since=" + std::to_string(revision));
  ASSERT_EQ(unchanged.status, 200);
  EXPECT_EQ(unchanged.body["shape"].asString(), "unchanged");
  EXPECT_FALSE(unchanged.body.isMember("snapshot"));
  EXPECT_FALSE(unchanged.body.isMember("krl"));

  AddRole(R"({"name": "ops", "logins": ["ops"], "node_labels": {"env": "*"}})");
  HttpReply delta = get("since=" + std::to_string(revision));
  ASSERT_EQ(delta.status, 200);
  EXPECT_EQ(delta.body["shape"].asString(), "delta");
  EXPECT_EQ(delta.body["base"].asInt64(), revision);
  ASSERT_EQ(delta.body["snapshot"]["roles"].size(), 1u);
  EXPECT_EQ(delta.body["snapshot"]["roles"][0]["name"].asString(), "ops");
  EXPECT_TRUE(delta.body["removed_users"].isArray());
  EXPECT_TRUE(delta.body.isMember("krl"));
}

TEST_F(NodeApiTest, EmptyKrlIsValid) {
  Json::Value join = JoinNode();
  HttpReply reply = Public("GET", "/v1/nodes/policy", Json::Value(), Bearer(join));
  ASSERT_EQ(reply.status, 200);
  auto krl = ssh::ParseKrl(*Base64Decode(reply.body["krl"].asString()));
  ASSERT_TRUE(krl.has_value()) << krl.error().ToString();
  EXPECT_TRUE(krl->sections.empty());
}

TEST_F(NodeApiTest, HostCertRenewalNeedsTheRegisteredKey) {
  Json::Value join = JoinNode();
  now_ = kNow + 86400;
  Json::Value body;
  body["host_key"] = host_key_.AuthorizedKey();
  HttpReply renewed = Public("POST", "/v1/nodes/host-cert", body, Bearer(join));
  ASSERT_EQ(renewed.status, 200) << json::Write(renewed.body);
  auto cert = ssh::ParseCertificateLine(renewed.body["host_certificate"].asString());
  ASSERT_TRUE(cert.has_value());
  EXPECT_EQ(cert->spec.principals,
            (std::vector<std::string>{"db-1", "db-1.example.com", "10.0.0.5"}));
  EXPECT_EQ(cert->spec.valid_before, static_cast<std::uint64_t>(now_ + 30 * 24 * 3600));
  EXPECT_EQ(cert->spec.key_id, join["host_uuid"].asString());

  // Whatever subset the node asks for, the certificate names what gate-ca
  // approved; a name it did not approve is refused and audited.
  body["principals"] = json::StringArray({"db-1"});
  renewed = Public("POST", "/v1/nodes/host-cert", body, Bearer(join));
  ASSERT_EQ(renewed.status, 200);
  cert = ssh::ParseCertificateLine(renewed.body["host_certificate"].asString());
  EXPECT_EQ(cert->spec.principals,
            (std::vector<std::string>{"db-1", "db-1.example.com", "10.0.0.5"}));
  body["principals"] = json::StringArray({"db-1", "db-prod-1"});
  renewed = Public("POST", "/v1/nodes/host-cert", body, Bearer(join));
  EXPECT_EQ(renewed.status, 403);
  EXPECT_NE(json::Write(renewed.body).find("db-prod-1"), std::string::npos);
  EXPECT_EQ(AuditEvents().front(), "node.host_cert");
  body["principals"] = json::StringArray({"db-1"});

  body["host_key"] = ssh::Ed25519PrivateKey::Generate()->public_key().AuthorizedKey();
  EXPECT_EQ(Public("POST", "/v1/nodes/host-cert", body, Bearer(join)).status, 403);
  EXPECT_EQ(Public("POST", "/v1/nodes/host-cert", body).status, 401);
}

TEST_F(NodeApiTest, JoinRefusesNamesTheTokenDoesNotApproveAndKeepsTheToken) {
  const std::string token = NodeToken("{}", {"db-1.example.com"});
  HttpReply refused = Public("POST", "/v1/nodes/join", JoinBody(token));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(json::Write(refused.body).find("10.0.0.5"), std::string::npos);
  EXPECT_EQ(AuditEvents().front(), "node.join");
  EXPECT_TRUE(store_->ListNodes()->empty());
  Json::Value body = JoinBody(token);
  body["principals"] = json::StringArray({"db-1"});
  HttpReply joined = Public("POST", "/v1/nodes/join", body);
  ASSERT_EQ(joined.status, 200) << json::Write(joined.body);
  auto cert = ssh::ParseCertificateLine(joined.body["host_certificate"].asString());
  EXPECT_EQ(cert->spec.principals, (std::vector<std::string>{"db-1", "db-1.example.com"}));
}

TEST_F(NodeApiTest, AHostNameIsOneNodesAndAJoinThatWantsItKeepsItsToken) {
  JoinNode();
  const std::string token = NodeToken("{}", {});
  Json::Value body = JoinBody(token);
  body.removeMember("principals");
  HttpReply taken = Public("POST", "/v1/nodes/join", body);
  EXPECT_EQ(taken.status, 409);
  EXPECT_NE(json::Write(taken.body).find("already another node's"), std::string::npos);
  EXPECT_EQ(AuditEvents().front(), "node.join");
  body["hostname"] = "db-2";
  EXPECT_EQ(Public("POST", "/v1/nodes/join", body).status, 200);
}

TEST_F(NodeApiTest, AdminSetsHostNamesAndThePolicyTellsTheNode) {
  Json::Value join = JoinNode();
  const std::string uuid = join["host_uuid"].asString();
  HttpReply updated = Admin("POST", "/admin/v1/nodes/" + uuid,
                            Parse(R"({"principals": ["db-1.prod.example.com"]})"));
  ASSERT_EQ(updated.status, 200) << json::Write(updated.body);
  EXPECT_EQ(updated.body["principals"], json::StringArray({"db-1", "db-1.prod.example.com"}));
  EXPECT_EQ(AuditEvents().front(), "node.update");
  HttpReply policy = Public("GET", "/v1/nodes/policy", Json::Value(), Bearer(join));
  ASSERT_EQ(policy.status, 200);
  EXPECT_EQ(policy.body["host_principals"], json::StringArray({"db-1", "db-1.prod.example.com"}));
  Json::Value body;
  body["host_key"] = host_key_.AuthorizedKey();
  HttpReply renewed = Public("POST", "/v1/nodes/host-cert", body, Bearer(join));
  ASSERT_EQ(renewed.status, 200);
  auto cert = ssh::ParseCertificateLine(renewed.body["host_certificate"].asString());
  EXPECT_EQ(cert->spec.principals, (std::vector<std::string>{"db-1", "db-1.prod.example.com"}));

  EXPECT_EQ(Admin("POST", "/admin/v1/nodes/" + uuid, Parse(R"({"principals": ["not ok"]})")).status,
            400);
  EXPECT_EQ(Admin("POST", "/admin/v1/nodes/" + uuid, Parse("{}")).status, 400);
  EXPECT_EQ(Admin("POST", "/admin/v1/nodes/00000000-0000-4000-8000-000000000000",
                  Parse(R"({"principals": []})"))
                .status,
            404);
  Json::Value other = JoinBody(NodeToken("{}", {}));
  other["hostname"] = "db-2";
  other.removeMember("principals");
  ASSERT_EQ(Public("POST", "/v1/nodes/join", other).status, 200);
  HttpReply taken = Admin("POST", "/admin/v1/nodes/" + uuid, Parse(R"({"principals": ["db-2"]})"));
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(store_->GetNode(uuid)->principals,
            (std::vector<std::string>{"db-1", "db-1.prod.example.com"}));
}

TEST_F(NodeApiTest, RefusedLoginsReportedByANodeAreAuditedUnderItsName) {
  Json::Value join = JoinNode();
  const std::size_t audit_before = store_->ListAudit(1000)->size();
  Json::Value body = Parse(R"({"refusals": [
      {"time": 1699999000, "user": "alice", "login": "root", "serial": "42",
       "reason": "login root is not granted on this node"},
      {"time": 9999999999, "user": "bad user", "login": "x y", "serial": "7",
       "reason": "no\u0007bell"},
      {"time": 1, "user": "", "login": "bob", "serial": "0", "reason": "bad certificate"}]})");
  HttpReply reply = Public("POST", "/v1/nodes/refusals", body, Bearer(join));
  ASSERT_EQ(reply.status, 200) << json::Write(reply.body);
  EXPECT_EQ(reply.body["recorded"].asUInt(), 3u);
  auto audit = store_->ListAudit(3);
  ASSERT_TRUE(audit.has_value());
  std::vector<AuditEvent> events(audit->rbegin(), audit->rend());
  ASSERT_EQ(events.size(), 3u);
  for (const AuditEvent& e : events) {
    EXPECT_EQ(e.event, "node.login");
    EXPECT_EQ(e.source, "db-1");
    EXPECT_FALSE(e.success);
  }
  EXPECT_EQ(events[0].user, "alice");
  EXPECT_EQ(events[0].time, 1699999000);
  EXPECT_NE(events[0].detail.find("login root refused on db-1, serial 42: login root is not"),
            std::string::npos)
      << events[0].detail;
  EXPECT_EQ(events[1].time, now_);  // never in the future
  EXPECT_EQ(events[1].user, "");
  EXPECT_NE(events[1].detail.find("login ? refused"), std::string::npos) << events[1].detail;
  EXPECT_NE(events[1].detail.find("no?bell"), std::string::npos) << events[1].detail;
  EXPECT_EQ(events[2].time, now_ - 7 * 24 * 3600);  // not older than a week

  Json::Value many(Json::objectValue);
  many["refusals"] = Json::Value(Json::arrayValue);
  for (int i = 0; i < 201; ++i) many["refusals"].append(body["refusals"][0]);
  EXPECT_EQ(Public("POST", "/v1/nodes/refusals", many, Bearer(join)).status, 400);
  EXPECT_EQ(
      Public("POST", "/v1/nodes/refusals", Parse(R"({"refusals": [{"time": 1}]})"), Bearer(join))
          .status,
      400);
  EXPECT_EQ(Public("POST", "/v1/nodes/refusals", body).status, 401);
  EXPECT_EQ(store_->ListAudit(1000)->size(), audit_before + 3);
}

TEST_F(NodeApiTest, LeaveForgetsTheNode) {
  Json::Value join = JoinNode();
  HttpReply left = Public("DELETE", "/v1/nodes/self", Json::Value(), Bearer(join));
  ASSERT_EQ(left.status, 200);
  EXPECT_EQ(left.body["host_uuid"], join["host_uuid"]);
  EXPECT_EQ(Public("GET", "/v1/nodes/policy", Json::Value(), Bearer(join)).status, 401);
  EXPECT_TRUE(store_->ListNodes()->empty());
  EXPECT_EQ(AuditEvents().front(), "node.leave");
}

TEST_F(NodeApiTest, AdminRemovesANode) {
  Json::Value join = JoinNode();
  const std::string uuid = join["host_uuid"].asString();
  EXPECT_EQ(Admin("DELETE", "/admin/v1/nodes/not-a-uuid").status, 400);
  EXPECT_EQ(Admin("DELETE", "/admin/v1/nodes/00000000-0000-4000-8000-000000000000").status, 404);
  ASSERT_EQ(Admin("DELETE", "/admin/v1/nodes/" + uuid).status, 200);
  EXPECT_EQ(Public("GET", "/v1/nodes/policy", Json::Value(), Bearer(join)).status, 401);
  EXPECT_EQ(AuditEvents().front(), "node.delete");
}

// --- Revocation ------------------------------------------------------------------------

TEST_F(NodeApiTest, RevokeBySerialOrUser) {
  const std::uint64_t kBig = 18'000'000'000'000'000'123u;
  ASSERT_TRUE(store_->RecordCertificate({kBig, "alice", "alice", kNow, kNow + 3600, kNow}).ok());
  ASSERT_TRUE(store_->RecordCertificate({5, "alice", "alice", kNow, kNow + 3600, kNow}).ok());
  HttpReply one =
      Admin("POST", "/admin/v1/certs/revoke", Parse(R"({"serial": "18000000000000000123"})"));
  ASSERT_EQ(one.status, 200) << json::Write(one.body);
  EXPECT_EQ(one.body["revoked"][0], "18000000000000000123");
  HttpReply rest = Admin("POST", "/admin/v1/certs/revoke", Parse(R"({"user": "alice"})"));
  ASSERT_EQ(rest.status, 200);
  ASSERT_EQ(rest.body["revoked"].size(), 1u);
  EXPECT_EQ(rest.body["revoked"][0], "5");
  EXPECT_EQ(
      Admin("POST", "/admin/v1/certs/revoke", Parse(R"({"user": "alice"})")).body["revoked"].size(),
      0u);
  EXPECT_EQ(AuditEvents().front(), "cert.revoke");
}

TEST_F(NodeApiTest, RevokeValidation) {
  const char* bad[] = {
      R"({})",
      R"({"serial": "1", "user": "alice"})",
      R"({"serial": 5})",
      R"({"serial": ""})",
      R"({"serial": "0"})",
      R"({"serial": "-5"})",
      R"({"serial": "12a"})",
      R"({"serial": "18446744073709551616"})",
      R"({"serial": "123456789012345678901"})",
      R"({"user": "-rf"})",
  };
  for (const char* text : bad) {
    EXPECT_EQ(Admin("POST", "/admin/v1/certs/revoke", Parse(text)).status, 400) << text;
  }
  EXPECT_EQ(Admin("POST", "/admin/v1/certs/revoke", Parse(R"({"serial": "18446744073709551615"})"))
                .status,
            404);
}

// --- The audit log (GET /admin/v1/audit, gatectl audit) ------------------------------

TEST_F(NodeApiTest, AuditLogFiltersAndNewestFirst) {
  auto add = [&](std::int64_t time, const std::string& event, const std::string& user,
                 bool success) {
    ASSERT_TRUE(store_->AppendAudit({time, event, user, "192.0.2.9", success, "d"}).ok());
  };
  add(100, "user.login", "alice", false);
  add(200, "user.login", "alice", true);
  add(300, "user.login", "bob", true);
  add(400, "session.start", "alice", true);
  add(500, "user.login_otp", "alice", false);

  auto events = [&](const std::string& query) {
    HttpReply reply = AdminGet("/admin/v1/audit", query);
    EXPECT_EQ(reply.status, 200) << json::Write(reply.body);
    std::vector<std::string> out;
    for (const auto& e : reply.body["events"]) {
      out.push_back(std::to_string(e["time"].asInt64()) + " " + e["event"].asString() + " " +
                    e["user"].asString() + (e["success"].asBool() ? " ok" : " denied"));
    }
    return out;
  };
  // Newest first; the fixture's own setup may have audited events before these.
  auto all = events("limit=5");
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.front(), "500 user.login_otp alice denied");
  EXPECT_EQ(all.back(), "100 user.login alice denied");
  EXPECT_EQ(events("user=bob"), std::vector<std::string>{"300 user.login bob ok"});
  EXPECT_EQ(events("event=session."), std::vector<std::string>{"400 session.start alice ok"});
  // A prefix: user.login also matches user.login_otp.
  EXPECT_EQ(
      events("event=user.login&user=alice&result=denied"),
      (std::vector<std::string>{"500 user.login_otp alice denied", "100 user.login alice denied"}));
  EXPECT_EQ(events("event=user.login&user=alice&result=ok&since=150"),
            std::vector<std::string>{"200 user.login alice ok"});
  EXPECT_EQ(events("event=user.login&limit=1"),
            std::vector<std::string>{"500 user.login_otp alice denied"});
}

TEST_F(NodeApiTest, AuditLogRefusesBadQueries) {
  for (const char* query :
       {"limit=0", "limit=10001", "limit=-1", "limit=x", "user=-bad", "user=a%20b", "event=USER",
        "event=user%25", "result=maybe", "since=-5", "bogus=1", "limit=1&limit=2"}) {
    HttpReply reply = AdminGet("/admin/v1/audit", query);
    EXPECT_EQ(reply.status, 400) << query << " -> " << json::Write(reply.body);
  }
  // Only on the admin socket.
  EXPECT_NE(Public("GET", "/admin/v1/audit").status, 200);
}

}  // namespace
}  // namespace gate::ca
