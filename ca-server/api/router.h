// Router: gate-ca's table of API routes, and the one dispatcher that applies
// the policy common to all of them (path hygiene, 404/405/415, error bodies,
// exceptions). Handlers register as entries; they never see a request the
// table did not match.
//
//   Router r;
//   r.Add("GET", "/v1/users/{name}", [&](const HttpRequest& req, const PathParams& p)
//         -> Result<Json::Value> { return store.GetUser(p.at("name")) ...; });
//   r.Add("POST", "/v1/login", Login, TrafficClass::kLogin);
//   TrafficClass c = r.Classify(req.method, req.path);  // which queue serves it
//   HttpReply reply = r.Dispatch(req);
//
// Each route declares its traffic class (which of the server's worker
// queues runs it); routes that do not take the router's default class.
//
// Thread safety: Add() only before the server starts; Dispatch() is const and
// may run on many threads at once (handlers must be thread-safe themselves).
#ifndef GATE_CA_API_ROUTER_H_
#define GATE_CA_API_ROUTER_H_

#include <json/json.h>

#include <functional>
#include <map>
#include <optional>
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

struct RouterOptions {
  // The class of routes registered without one, and of requests that match
  // no route (their 400/404/405 replies cost nothing).
  TrafficClass default_class = TrafficClass::kApi;
  // Send the real message of 5xx errors instead of a generic one. Only for
  // the admin socket, whose peers are admins on this host and read the same
  // text in gate-ca's log ("database or disk is full" beats "internal
  // error" when gatectl reports it).
  bool detailed_server_errors = false;
};

class Router {
 public:
  explicit Router(RouterOptions options = {}) : options_(options) {}

  // Registers a route. `pattern` is an absolute path whose segments are
  // either literal ("users") or a parameter ("{name}", name [a-z0-9_]+).
  // When several patterns match a path, the one with a literal segment
  // where another has a parameter wins, leftmost difference first
  // ("/v1/users/me" beats "/v1/users/{name}").
  // Throws std::invalid_argument for a malformed pattern or a duplicate
  // (method, pattern): both are programming errors, found at start-up.
  // traffic_class: the worker queue that serves the route; unset, the
  // router's default_class.
  void Add(std::string method, std::string pattern, RouteHandler handler,
           std::optional<TrafficClass> traffic_class = std::nullopt);
  void AddRaw(std::string method, std::string pattern, RawRouteHandler handler,
              std::optional<TrafficClass> traffic_class = std::nullopt);
  // A raw route whose POST/PUT/PATCH body is bytes: it requires
  // "Content-Type: application/octet-stream" where other routes require
  // JSON (recording chunks). That type is not CORS-safelisted either, so
  // the CSRF barrier below holds for it too.
  void AddBinary(std::string method, std::string pattern, RawRouteHandler handler,
                 std::optional<TrafficClass> traffic_class = std::nullopt);
  // A handler for `method` requests under `prefix` (ending in '/', e.g.
  // "/web/") that no pattern matches: the prefix itself ("/web/", which a
  // pattern cannot spell) and paths that would otherwise be 404 (a page
  // of its own, not JSON). Paths that match a pattern for another method
  // still get 405. The reply's route is left empty, so the server logs
  // the redacted path. Throws std::invalid_argument for a prefix that does
  // not start and end with '/', a method that takes a body (POST, PUT,
  // PATCH: the fallback skips the Content-Type check), or a duplicate
  // (method, prefix).
  void AddPrefixFallback(std::string method, std::string prefix, RawRouteHandler handler,
                         std::optional<TrafficClass> traffic_class = std::nullopt);

  // The traffic class of the route Dispatch would run for (method, path),
  // or default_class when there is none (a malformed path, 404, 405). Cheap
  // and pure: the server calls it on its I/O threads once the headers are in.
  // Never throws.
  TrafficClass Classify(std::string_view method, std::string_view path) const;

  // Answers one request. In order:
  //   400  the path is not absolute, or contains "..", "//", a backslash, a
  //        NUL, a control character, bad percent-encoding, or an encoded
  //        '/', '\' or NUL;
  //   404  no pattern matches the path (unless a prefix fallback takes
  //        it: AddPrefixFallback);
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
    TrafficClass traffic_class = TrafficClass::kApi;
  };

  struct Fallback {
    std::string method;
    std::string prefix;
    RawRouteHandler handler;
    TrafficClass traffic_class = TrafficClass::kApi;
  };

  // The fallback for method on path (the longest prefix), or null.
  const Fallback* FindFallback(std::string_view method, std::string_view path) const;
  void AddRoute(std::string method, std::string pattern, RawRouteHandler handler,
                std::optional<TrafficClass> traffic_class, bool binary_body = false);
  // The route for method on segments (best match), or null; the methods of
  // routes that match the path but not the method go to *allowed if given.
  const Route* Find(std::string_view method, const std::vector<std::string>& segments,
                    std::vector<std::string_view>* allowed) const;
  static bool Matches(const Route& route, const std::vector<std::string>& segments);
  // True if a is preferred over b (both match the same path).
  static bool MoreSpecific(const Route& a, const Route& b);

  RouterOptions options_;
  std::vector<Route> routes_;
  std::vector<Fallback> fallbacks_;
};

}  // namespace gate::ca

#endif  // GATE_CA_API_ROUTER_H_
