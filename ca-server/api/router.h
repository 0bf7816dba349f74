// Router: gate-ca's table of API routes, and the one dispatcher that applies
// the policy common to all of them (path hygiene, 404/405/415, error bodies,
// exceptions). Handlers register as entries; they never see a request the
// table did not match.
//
//   Router r;
//   r.Add("GET", "/v1/users/{name}", [&](const HttpRequest& req, const PathParams& p)
//         -> Result<Json::Value> { return store.GetUser(p.at("name")) ...; });
//   HttpReply reply = r.Dispatch(req);
//
// Thread safety: Add() only before the server starts; Dispatch() is const and
// may run on many threads at once (handlers must be thread-safe themselves).
#ifndef GATE_CA_API_ROUTER_H_
#define GATE_CA_API_ROUTER_H_

#include <json/json.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/api/http_types.h"
#include "gate/status.h"

namespace gate::ca {

// The `{name}` segments of the matched pattern, percent-decoded
// ("/v1/users/{name}" on "/v1/users/al%40ice" -> {"name": "al@ice"}).
// A decoded value is never empty and never contains '/', NUL, or "..".
using PathParams = std::map<std::string, std::string, std::less<>>;

// A JSON route: an OK result is sent as 200 with that body; an error as
// ErrorReply(status). Body parsing is the handler's job (gate::json::Parse).
using RouteHandler = std::function<Result<Json::Value>(const HttpRequest&, const PathParams&)>;

// A route that builds its whole reply (HTML under /web/, 201s, redirects).
using RawRouteHandler = std::function<HttpReply(const HttpRequest&, const PathParams&)>;

class Router {
 public:
  // Registers a route. `pattern` is an absolute path whose segments are
  // either literal ("users") or a parameter ("{name}", name [a-z0-9_]+).
  // When several patterns match a path, the one with a literal segment
  // where another has a parameter wins, leftmost difference first
  // ("/v1/users/me" beats "/v1/users/{name}").
  // Throws std::invalid_argument for a malformed pattern or a duplicate
  // (method, pattern): both are programming errors, found at start-up.
  void Add(std::string method, std::string pattern, RouteHandler handler);
  void AddRaw(std::string method, std::string pattern, RawRouteHandler handler);
  // A raw route whose POST/PUT/PATCH body is bytes: it requires
  // "Content-Type: application/octet-stream" where other routes require
  // JSON (recording chunks). That type is not CORS-safelisted either, so
  // the CSRF barrier below holds for it too.
  void AddBinary(std::string method, std::string pattern, RawRouteHandler handler);

  // Answers one request. In order:
  //   400  the path is not absolute, or contains "..", "//", a backslash, a
  //        NUL, a control character, bad percent-encoding, or an encoded
  //        '/', '\' or NUL;
  //   404  no pattern matches the path;
  //   405  some pattern matches but not for this method (Allow header set);
  //   415  POST, PUT or PATCH without "Content-Type: application/json"
  //        (application/octet-stream for AddBinary routes; parameters such
  //        as charset allowed). Required even for an empty
  //        body: a browser cannot send that type cross-site without a CORS
  //        preflight, so this check is also gate's CSRF barrier;
  //   then the handler. A handler that throws gives 500 "internal error";
  //   the exception text is logged, not sent. Replies from a handler carry
  //   the matched pattern in HttpReply::route.
  // Never throws.
  HttpReply Dispatch(const HttpRequest& req) const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter name
    bool param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    RawRouteHandler handler;
    bool binary_body = false;
  };

  void AddRoute(std::string method, std::string pattern, RawRouteHandler handler,
                bool binary_body = false);
  static bool Matches(const Route& route, const std::vector<std::string>& segments);
  // True if a is preferred over b (both match the same path).
  static bool MoreSpecific(const Route& a, const Route& b);

  std::vector<Route> routes_;
};

}  // namespace gate::ca

#endif  // GATE_CA_API_ROUTER_H_
