#include "ca-server/api/router.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ca-server/api/http_types.h"

namespace gate::ca {
namespace {

HttpRequest Req(std::string method, std::string path, std::string content_type = "") {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.content_type = std::move(content_type);
  req.source = "192.0.2.1";
  return req;
}

std::string ErrorCodeOf(const HttpReply& reply) { return reply.body["error"]["code"].asString(); }
std::string ErrorMessageOf(const HttpReply& reply) {
  return reply.body["error"]["message"].asString();
}

std::string HeaderOf(const HttpReply& reply, const std::string& name) {
  for (const auto& [n, v] : reply.headers) {
    if (n == name) return v;
  }
  return "";
}

// --- ToHttpStatus / ErrorReply (http_types.h) ---

TEST(HttpTypesTest, ToHttpStatusTable) {
  const std::vector<std::pair<Code, int>> table = {
      {Code::kOk, 200},
      {Code::kInvalidArgument, 400},
      {Code::kNotFound, 404},
      {Code::kAlreadyExists, 409},
      {Code::kPermissionDenied, 403},
      {Code::kUnauthenticated, 401},
      {Code::kResourceExhausted, 429},
      {Code::kFailedPrecondition, 409},
      {Code::kDataLoss, 500},
      {Code::kUnavailable, 503},
      {Code::kInternal, 500},
  };
  // Every Code is in the table: adding one without a row fails here.
  ASSERT_EQ(table.size(), static_cast<std::size_t>(Code::kInternal) + 1);
  for (const auto& [code, status] : table) {
    EXPECT_EQ(ToHttpStatus(code), status) << CodeName(code);
  }
}

TEST(HttpTypesTest, ErrorReplyCarriesCodeAndMessage) {
  HttpReply reply = ErrorReply(NotFound("no user 'bob'"));
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(ErrorCodeOf(reply), "not found");
  EXPECT_EQ(ErrorMessageOf(reply), "no user 'bob'");
}

TEST(HttpTypesTest, ServerErrorsDoNotLeakTheirMessage) {
  for (Code code : {Code::kInternal, Code::kDataLoss, Code::kUnavailable}) {
    HttpReply reply = ErrorReply(Status(code, "sqlite: /var/lib/gate/gate.db: disk I/O error"));
    EXPECT_EQ(reply.status, ToHttpStatus(code));
    EXPECT_EQ(ErrorCodeOf(reply), std::string(CodeName(code)));
    EXPECT_EQ(ErrorMessageOf(reply).find("sqlite"), std::string::npos);
    EXPECT_EQ(ErrorMessageOf(reply).find("/var/lib"), std::string::npos);
  }
  EXPECT_EQ(ErrorMessageOf(ErrorReply(Internal("secret"))), "internal error");
}

TEST(HttpTypesTest, OkStatusIsABug) {
  HttpReply reply = ErrorReply(Status::Ok());
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(ErrorCodeOf(reply), "internal");
}

TEST(HttpTypesTest, BusyReplyIs503WithRetryAfter) {
  HttpReply reply = BusyReply(TrafficClass::kLogin, 2);
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(ErrorCodeOf(reply), "unavailable");
  EXPECT_NE(reply.body["error"]["message"].asString().find("login"), std::string::npos);
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0].first, "Retry-After");
  EXPECT_EQ(reply.headers[0].second, "2");
}

TEST(HttpTypesTest, ClientTimeIsTheArrivalTime) {
  HttpRequest req;
  EXPECT_EQ(ClientTime(req, 1000), 1000);  // unknown: now
  req.arrived_at = 960;
  EXPECT_EQ(ClientTime(req, 1000), 960);
  EXPECT_EQ(ClientTime(req, 900), 900);  // never later than now
}

TEST(HttpTypesTest, RedactPathTable) {
  const std::string token = "0123456789abcdef0123456789abcdef";  // NewToken's shape
  const struct {
    std::string path;
    std::string logged;
  } cases[] = {
      {"", "-"},
      {"/", "/"},
      {"/v1/login", "/v1/login"},
      {"/web/newuser/" + token, "/web/newuser/<redacted>"},
      {"/web/newuser/" + token + "/x", "/web/newuser/<redacted>/x"},
      {"/" + token + "/" + token, "/<redacted>/<redacted>"},
      // Percent-encoded, upper case, or inside a longer segment: still a token.
      {"/web/newuser/%30%31%32%33%34%35%36%37", "/web/newuser/<redacted>"},
      {"/x/ABCDEF0123456789ABCDEF", "/x/<redacted>"},
      {"/x/tok=" + token + ".png", "/x/<redacted>"},
      // 15 characters in a run is not enough; separators break runs.
      {"/x/0123456789abcde", "/x/0123456789abcde"},
      {"/v1/sessions/4a6f0c1e-9b2d-4c3e-8f10-0123456789ab/recording",
       "/v1/sessions/4a6f0c1e-9b2d-4c3e-8f10-0123456789ab/recording"},
      {"/v1/nodes/recorder-key", "/v1/nodes/recorder-key"},
      {"no-slash", "no-slash"},
      {"//a//", "//a//"},
  };
  for (const auto& c : cases) EXPECT_EQ(RedactPath(c.path), c.logged) << c.path;
  // Cut after redaction, so a token is never half shown.
  EXPECT_EQ(RedactPath("/abc/" + token, 8), "/abc/<re...");
  std::string long_path;
  for (int i = 0; i < 100; ++i) long_path += "/ab";
  EXPECT_EQ(RedactPath(long_path, 200), long_path.substr(0, 200) + "...");
}

// --- Router ---

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/v1/users/{name}",
                [](const HttpRequest&, const PathParams& p) -> Result<Json::Value> {
                  Json::Value v;
                  v["route"] = "user";
                  v["name"] = p.at("name");
                  return v;
                });
    router_.Add("GET", "/v1/users/me",
                [](const HttpRequest&, const PathParams& p) -> Result<Json::Value> {
                  Json::Value v;
                  v["route"] = "me";
                  v["params"] = static_cast<Json::UInt64>(p.size());
                  return v;
                });
    router_.Add("DELETE", "/v1/users/{name}",
                [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
                  return Err(PermissionDenied("only admins delete users"));
                });
    router_.Add("POST", "/v1/users",
                [](const HttpRequest& req, const PathParams&) -> Result<Json::Value> {
                  Json::Value v;
                  v["body"] = req.body;
                  return v;
                });
    router_.Add("GET", "/v1/nodes/{node}/sessions/{id}",
                [](const HttpRequest&, const PathParams& p) -> Result<Json::Value> {
                  Json::Value v;
                  v["node"] = p.at("node");
                  v["id"] = p.at("id");
                  return v;
                });
    router_.Add("GET", "/v1/throw",
                [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
                  throw std::runtime_error("secret detail from the database");
                });
    router_.Add("GET", "/v1/internal",
                [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
                  return Err(Internal("open /var/lib/gate/ca.key: EACCES"));
                });
    router_.Add("GET", "/", [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
      return Json::Value();
    });
    router_.AddRaw("GET", "/web/newuser/{token}",
                   [](const HttpRequest&, const PathParams& p) -> HttpReply {
                     HttpReply reply;
                     reply.content_type = "text/html; charset=utf-8";
                     reply.raw_body = "<p>" + p.at("token") + "</p>";
                     return reply;
                   });
  }

  Router router_;
};

TEST_F(RouterTest, MatchesAndExtractsParams) {
  HttpReply reply = router_.Dispatch(Req("GET", "/v1/users/alice"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["route"].asString(), "user");
  EXPECT_EQ(reply.body["name"].asString(), "alice");

  reply = router_.Dispatch(Req("GET", "/v1/nodes/db-1/sessions/42"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["node"].asString(), "db-1");
  EXPECT_EQ(reply.body["id"].asString(), "42");
}

TEST_F(RouterTest, RepliesNameTheirRoute) {
  EXPECT_EQ(router_.Dispatch(Req("GET", "/v1/users/alice")).route, "/v1/users/{name}");
  EXPECT_EQ(router_.Dispatch(Req("GET", "/web/newuser/abc")).route, "/web/newuser/{token}");
  EXPECT_EQ(router_.Dispatch(Req("DELETE", "/v1/users/alice")).route, "/v1/users/{name}");
  EXPECT_EQ(router_.Dispatch(Req("GET", "/v1/throw")).route, "/v1/throw");
  EXPECT_EQ(router_.Dispatch(Req("GET", "/v1/nope")).route, "");
}

TEST_F(RouterTest, LiteralSegmentBeatsParameter) {
  HttpReply reply = router_.Dispatch(Req("GET", "/v1/users/me"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["route"].asString(), "me");
  EXPECT_EQ(reply.body["params"].asUInt64(), 0u);
}

TEST_F(RouterTest, ParamsArePercentDecoded) {
  HttpReply reply = router_.Dispatch(Req("GET", "/v1/users/al%40ice%20b"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["name"].asString(), "al@ice b");
}

TEST_F(RouterTest, UnknownPathIs404) {
  for (const char* path :
       {"/v1/nope", "/v1/user", "/v1/users/alice/extra", "/v1/users/", "/v1/nodes/a/sessions"}) {
    HttpReply reply = router_.Dispatch(Req("GET", path));
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_EQ(ErrorCodeOf(reply), "not found") << path;
  }
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  HttpReply reply = router_.Dispatch(Req("PUT", "/v1/users/alice", "application/json"));
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(HeaderOf(reply, "Allow"), "DELETE, GET");
  reply = router_.Dispatch(Req("GET", "/v1/users"));
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(HeaderOf(reply, "Allow"), "POST");
}

TEST_F(RouterTest, PostNeedsJsonContentType) {
  EXPECT_EQ(router_.Dispatch(Req("POST", "/v1/users")).status, 415);
  EXPECT_EQ(router_.Dispatch(Req("POST", "/v1/users", "text/plain")).status, 415);
  EXPECT_EQ(router_.Dispatch(Req("POST", "/v1/users", "application/x-www-form-urlencoded")).status,
            415);
  EXPECT_EQ(router_.Dispatch(Req("POST", "/v1/users", "application/jsonp")).status, 415);
  HttpRequest req = Req("POST", "/v1/users", "Application/JSON; charset=utf-8");
  req.body = R"({"name":"bob"})";
  HttpReply reply = router_.Dispatch(req);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["body"].asString(), req.body);
}

TEST_F(RouterTest, BinaryRoutesNeedOctetStream) {
  router_.AddBinary("PUT", "/v1/blobs/{id}", [](const HttpRequest& req, const PathParams& p) {
    HttpReply reply;
    reply.body["id"] = p.at("id");
    reply.body["size"] = static_cast<Json::UInt64>(req.body.size());
    return reply;
  });
  EXPECT_EQ(router_.Dispatch(Req("PUT", "/v1/blobs/a")).status, 415);
  EXPECT_EQ(router_.Dispatch(Req("PUT", "/v1/blobs/a", "application/json")).status, 415);
  EXPECT_EQ(router_.Dispatch(Req("PUT", "/v1/blobs/a", "text/plain")).status, 415);
  HttpRequest req = Req("PUT", "/v1/blobs/a", "Application/Octet-Stream");
  req.body = std::string("\0\x01\xff", 3);
  HttpReply reply = router_.Dispatch(req);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["size"].asUInt64(), 3u);
  EXPECT_EQ(reply.route, "/v1/blobs/{id}");
  // JSON routes still refuse it.
  EXPECT_EQ(router_.Dispatch(Req("POST", "/v1/users", "application/octet-stream")).status, 415);
}

TEST_F(RouterTest, HandlerErrorsBecomeErrorReplies) {
  HttpReply reply = router_.Dispatch(Req("DELETE", "/v1/users/alice"));
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(ErrorCodeOf(reply), "permission denied");
  EXPECT_EQ(ErrorMessageOf(reply), "only admins delete users");
}

TEST_F(RouterTest, InternalErrorsDoNotLeak) {
  HttpReply reply = router_.Dispatch(Req("GET", "/v1/internal"));
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(ErrorMessageOf(reply), "internal error");
  reply = router_.Dispatch(Req("GET", "/v1/throw"));
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(ErrorCodeOf(reply), "internal");
  EXPECT_EQ(ErrorMessageOf(reply), "internal error");
}

TEST_F(RouterTest, RawRoute) {
  HttpReply reply = router_.Dispatch(Req("GET", "/web/newuser/abc123"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(reply.raw_body, "<p>abc123</p>");
}

TEST_F(RouterTest, Root) {
  HttpReply reply = router_.Dispatch(Req("GET", "/"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.body.isNull());
}

TEST_F(RouterTest, SuspiciousPathsAre400) {
  for (const char* path : {
           "",                          // not absolute
           "v1/users/alice",            // not absolute
           "/v1/users/../users/alice",  // traversal
           "/v1/users/..",              //
           "/v1/users/a..b",            // ".." anywhere
           "/v1/users/%2e%2e",          // encoded traversal
           "/v1/users/%2E%2e",          //
           "/v1//users/alice",          // empty segment
           "/v1/users/al%2Fice",        // encoded slash
           "/v1/users/al%2fice",        //
           "/v1/users/al%5cice",        // encoded backslash
           "/v1/users/al\\ice",         // backslash
           "/v1/users/al%00ice",        // encoded NUL
           "/v1/users/al%0aice",        // encoded newline
           "/v1/users/al%zzice",        // bad escape
           "/v1/users/alice%2",         // truncated escape
           "/v1/users/alice%",          //
       }) {
    HttpReply reply = router_.Dispatch(Req("GET", path));
    EXPECT_EQ(reply.status, 400) << path;
    EXPECT_EQ(ErrorCodeOf(reply), "invalid argument") << path;
  }
  HttpRequest nul = Req("GET", std::string("/v1/users/al\0ice", 16));
  EXPECT_EQ(router_.Dispatch(nul).status, 400);
}

TEST(RouterClassTest, RoutesDeclareTheirTrafficClass) {
  auto ok = [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
    return Json::Value();
  };
  Router r;
  r.Add("POST", "/v1/login", ok, TrafficClass::kLogin);
  r.Add("GET", "/v1/nodes/policy", ok, TrafficClass::kNode);
  r.AddBinary(
      "PUT", "/v1/nodes/sessions/{id}",
      [](const HttpRequest&, const PathParams&) { return HttpReply(); }, TrafficClass::kUpload);
  r.Add("GET", "/v1/ping", ok);
  EXPECT_EQ(r.Classify("POST", "/v1/login"), TrafficClass::kLogin);
  EXPECT_EQ(r.Classify("GET", "/v1/nodes/policy"), TrafficClass::kNode);
  EXPECT_EQ(r.Classify("PUT", "/v1/nodes/sessions/abc"), TrafficClass::kUpload);
  EXPECT_EQ(r.Classify("GET", "/v1/ping"), TrafficClass::kApi);  // the default
  // What Dispatch would refuse cheaply goes to the default class.
  EXPECT_EQ(r.Classify("GET", "/v1/login"), TrafficClass::kApi);  // 405
  EXPECT_EQ(r.Classify("GET", "/v1/nope"), TrafficClass::kApi);   // 404
  EXPECT_EQ(r.Classify("POST", "/v1/../login"), TrafficClass::kApi);
  EXPECT_EQ(r.Classify("POST", ""), TrafficClass::kApi);

  Router admin(RouterOptions{.default_class = TrafficClass::kAdmin});
  admin.Add("GET", "/admin/v1/users", ok);
  EXPECT_EQ(admin.Classify("GET", "/admin/v1/users"), TrafficClass::kAdmin);
  EXPECT_EQ(admin.Classify("GET", "/nope"), TrafficClass::kAdmin);
}

TEST(RouterClassTest, DetailedServerErrorsOnlyWhenAsked) {
  auto full = [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
    return Err(Unavailable("database or disk is full"));
  };
  Router plain;
  plain.Add("POST", "/x", full);
  Router detailed(RouterOptions{.detailed_server_errors = true});
  detailed.Add("POST", "/x", full);
  HttpRequest req = Req("POST", "/x");
  req.content_type = "application/json";
  HttpReply reply = plain.Dispatch(req);
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body["error"]["message"].asString(), "service unavailable, try again later");
  reply = detailed.Dispatch(req);
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body["error"]["code"].asString(), "unavailable");
  EXPECT_EQ(reply.body["error"]["message"].asString(), "database or disk is full");
}

TEST(RouterPatternTest, MalformedPatternsThrow) {
  Router r;
  auto ok = [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
    return Json::Value();
  };
  EXPECT_THROW(r.Add("GET", "v1/users", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1//users", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/users/", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/{Name}", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/{}", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/{a}/{a}", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/x{a}", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/%41", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("", "/v1/x", ok), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/x", nullptr), std::invalid_argument);
  r.Add("GET", "/v1/users/{name}", ok);
  EXPECT_THROW(r.Add("GET", "/v1/users/{other}", ok), std::invalid_argument);
  r.Add("POST", "/v1/users/{name}", ok);  // another method is fine
}

}  // namespace
// --- AddPrefixFallback ---

HttpReply TextReply(std::string text, int status = 200) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = "text/html; charset=utf-8";
  reply.raw_body = std::move(text);
  return reply;
}

class RouterFallbackTest : public ::testing::Test {
 protected:
  RouterFallbackTest() {
    router_.AddRaw("GET", "/web/login",
                   [](const HttpRequest&, const PathParams&) { return TextReply("login"); });
    router_.Add("POST", "/web/form", [](const HttpRequest&, const PathParams&) {
      return Result<Json::Value>(Json::Value());
    });
    router_.AddPrefixFallback(
        "GET", "/web/",
        [](const HttpRequest& req, const PathParams&) {
          return TextReply("fallback " + req.path, req.path == "/web/" ? 200 : 404);
        },
        TrafficClass::kUpload);
    router_.AddPrefixFallback("GET", "/web/deep/", [](const HttpRequest&, const PathParams&) {
      return TextReply("deep");
    });
  }
  Router router_;
};

TEST_F(RouterFallbackTest, ServesThePrefixItselfAndUnmatchedPaths) {
  HttpReply reply = router_.Dispatch(Req("GET", "/web/"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.raw_body, "fallback /web/");
  reply = router_.Dispatch(Req("GET", "/web/no/such/page"));
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.raw_body, "fallback /web/no/such/page");
  // The path is logged redacted by the server, never as a route.
  EXPECT_EQ(reply.route, "");
}

TEST_F(RouterFallbackTest, PatternsWinAndTheLongestPrefixIsChosen) {
  EXPECT_EQ(router_.Dispatch(Req("GET", "/web/login")).raw_body, "login");
  EXPECT_EQ(router_.Dispatch(Req("GET", "/web/deep/x")).raw_body, "deep");
}

TEST_F(RouterFallbackTest, OtherMethodsAndPathsAreNotTaken) {
  // A pattern for another method still answers 405, not the fallback.
  HttpReply reply = router_.Dispatch(Req("GET", "/web/form"));
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(HeaderOf(reply, "Allow"), "POST");
  reply = router_.Dispatch(Req("DELETE", "/web/other"));
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(ErrorMessageOf(reply), "no such API path");
  EXPECT_EQ(router_.Dispatch(Req("GET", "/web")).status, 404);
  EXPECT_EQ(router_.Dispatch(Req("GET", "/v1/x")).status, 404);
  // Path hygiene comes first.
  EXPECT_EQ(router_.Dispatch(Req("GET", "/web/%2e%2e/x")).status, 400);
}

TEST_F(RouterFallbackTest, ClassifiesByTheFallback) {
  EXPECT_EQ(router_.Classify("GET", "/web/"), TrafficClass::kUpload);
  EXPECT_EQ(router_.Classify("GET", "/web/x/y"), TrafficClass::kUpload);
  EXPECT_EQ(router_.Classify("GET", "/web/deep/x"), TrafficClass::kApi);
  EXPECT_EQ(router_.Classify("GET", "/web/form"), TrafficClass::kApi);
  EXPECT_EQ(router_.Classify("HEAD", "/web/"), TrafficClass::kApi);
}

TEST_F(RouterFallbackTest, AThrowingFallbackIs500) {
  Router router;
  router.AddPrefixFallback("GET", "/web/", [](const HttpRequest&, const PathParams&) -> HttpReply {
    throw std::runtime_error("secret detail");
  });
  HttpReply reply = router.Dispatch(Req("GET", "/web/x"));
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(ErrorMessageOf(reply), "internal error");
}

TEST(RouterFallbackSetupTest, RejectsBadPrefixesMethodsAndDuplicates) {
  Router router;
  auto handler = [](const HttpRequest&, const PathParams&) { return HttpReply(); };
  EXPECT_THROW(router.AddPrefixFallback("GET", "/web", handler), std::invalid_argument);
  EXPECT_THROW(router.AddPrefixFallback("GET", "web/", handler), std::invalid_argument);
  EXPECT_THROW(router.AddPrefixFallback("GET", "/", handler), std::invalid_argument);
  EXPECT_THROW(router.AddPrefixFallback("POST", "/web/", handler), std::invalid_argument);
  EXPECT_THROW(router.AddPrefixFallback("", "/web/", handler), std::invalid_argument);
  EXPECT_THROW(router.AddPrefixFallback("GET", "/web/", nullptr), std::invalid_argument);
  router.AddPrefixFallback("GET", "/web/", handler);
  EXPECT_THROW(router.AddPrefixFallback("GET", "/web/", handler), std::invalid_argument);
}

}  // namespace gate::ca
