#include "ca-server/api/router.h"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gate/log.h"

namespace gate::ca {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits an absolute request path into percent-decoded segments ("/" -> {}).
// Every rejection is a 400: these are the shapes path traversal and
// request-smuggling tricks take, and no gate route needs any of them.
Result<std::vector<std::string>> SplitPath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return Err(InvalidArgument("request path must start with '/'"));
  }
  if (path.find("..") != std::string_view::npos || path.find("//") != std::string_view::npos) {
    return Err(InvalidArgument("request path must not contain '..' or '//'"));
  }
  std::vector<std::string> segments;
  if (path.size() == 1) return segments;
  std::string current;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      // A decoded segment could still spell a traversal ("%2e%2e").
      if (current.find("..") != std::string::npos) {
        return Err(InvalidArgument("request path must not contain '..'"));
      }
      segments.push_back(std::move(current));
      current.clear();
      continue;
    }
    const char c = path[i];
    const auto uc = static_cast<unsigned char>(c);
    if (uc < 0x20 || uc == 0x7f || c == '\\') {
      return Err(InvalidArgument("request path contains a forbidden character"));
    }
    if (c != '%') {
      current.push_back(c);
      continue;
    }
    if (i + 2 >= path.size()) {
      return Err(InvalidArgument("request path has a truncated percent-escape"));
    }
    const int hi = HexValue(path[i + 1]);
    const int lo = HexValue(path[i + 2]);
    if (hi < 0 || lo < 0) {
      return Err(InvalidArgument("request path has a malformed percent-escape"));
    }
    const int decoded = hi * 16 + lo;
    if (decoded < 0x20 || decoded == 0x7f || decoded == '/' || decoded == '\\') {
      return Err(InvalidArgument("request path has a forbidden percent-escape"));
    }
    current.push_back(static_cast<char>(decoded));
    i += 2;
  }
  return segments;
}

// True if content_type names the media type `want` (lower case), with or
// without parameters.
bool HasMediaType(std::string_view content_type, std::string_view want) {
  const std::size_t semi = content_type.find(';');
  std::string_view media = content_type.substr(0, semi);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  if (media.size() != want.size()) return false;
  for (std::size_t i = 0; i < media.size(); ++i) {
    char c = media[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != want[i]) return false;
  }
  return true;
}

bool NeedsJsonBody(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

bool IsParamName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// The handler's reply, or a 500 when it throws (the exception text is
// logged under `what`, "GET /v1/users/{name}", never sent).
HttpReply RunHandler(const RawRouteHandler& handler, const HttpRequest& req,
                     const PathParams& params, const std::string& what) {
  try {
    return handler(req, params);
  } catch (const std::exception& e) {
    log::Error("api: handler for " + what + " threw: " + e.what());
  } catch (...) {
    log::Error("api: handler for " + what + " threw a non-standard exception");
  }
  return ErrorReply(500, Code::kInternal, "internal error");
}

}  // namespace

void Router::Add(std::string method, std::string pattern, RouteHandler handler,
                 std::optional<TrafficClass> traffic_class) {
  if (!handler) throw std::invalid_argument("route " + pattern + ": empty handler");
  const bool detailed = options_.detailed_server_errors;
  AddRoute(
      std::move(method), std::move(pattern),
      [handler = std::move(handler), detailed](const HttpRequest& req,
                                               const PathParams& params) -> HttpReply {
        Result<Json::Value> result = handler(req, params);
        if (!result) {
          const Status& error = result.error();
          if (detailed && ToHttpStatus(error.code()) >= 500) {
            log::Error("api: request failed: " + error.ToString());
            return ErrorReply(ToHttpStatus(error.code()), error.code(), error.message());
          }
          return ErrorReply(error);
        }
        HttpReply reply;
        reply.body = std::move(*result);
        return reply;
      },
      traffic_class);
}

void Router::AddRaw(std::string method, std::string pattern, RawRouteHandler handler,
                    std::optional<TrafficClass> traffic_class) {
  if (!handler) throw std::invalid_argument("route " + pattern + ": empty handler");
  AddRoute(std::move(method), std::move(pattern), std::move(handler), traffic_class);
}

void Router::AddBinary(std::string method, std::string pattern, RawRouteHandler handler,
                       std::optional<TrafficClass> traffic_class) {
  if (!handler) throw std::invalid_argument("route " + pattern + ": empty handler");
  AddRoute(std::move(method), std::move(pattern), std::move(handler), traffic_class,
           /*binary_body=*/true);
}

void Router::AddPrefixFallback(std::string method, std::string prefix, RawRouteHandler handler,
                               std::optional<TrafficClass> traffic_class) {
  if (!handler) throw std::invalid_argument("fallback " + prefix + ": empty handler");
  // A fallback skips the Content-Type check (the CSRF barrier), so it
  // serves only methods without a body.
  if (method.empty() || NeedsJsonBody(method)) {
    throw std::invalid_argument("fallback " + prefix + ": method must not take a body");
  }
  if (prefix.size() < 2 || prefix.front() != '/' || prefix.back() != '/') {
    throw std::invalid_argument("fallback prefix must start and end with '/': " + prefix);
  }
  for (const Fallback& f : fallbacks_) {
    if (f.method == method && f.prefix == prefix) {
      throw std::invalid_argument("duplicate fallback " + method + " " + prefix);
    }
  }
  fallbacks_.push_back({std::move(method), std::move(prefix), std::move(handler),
                        traffic_class.value_or(options_.default_class)});
}

const Router::Fallback* Router::FindFallback(std::string_view method, std::string_view path) const {
  const Fallback* best = nullptr;
  for (const Fallback& f : fallbacks_) {
    if (f.method != method || !path.starts_with(f.prefix)) continue;
    if (best == nullptr || f.prefix.size() > best->prefix.size()) best = &f;
  }
  return best;
}

void Router::AddRoute(std::string method, std::string pattern, RawRouteHandler handler,
                      std::optional<TrafficClass> traffic_class, bool binary_body) {
  if (method.empty()) throw std::invalid_argument("route " + pattern + ": empty method");
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  Route route;
  route.method = std::move(method);
  route.pattern = pattern;
  route.handler = std::move(handler);
  route.binary_body = binary_body;
  route.traffic_class = traffic_class.value_or(options_.default_class);
  std::string_view rest(pattern);
  rest.remove_prefix(1);
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg.find_first_of("%\\") != std::string_view::npos ||
        seg.find("..") != std::string_view::npos) {
      throw std::invalid_argument("malformed route pattern: " + pattern);
    }
    Segment segment;
    if (seg.front() == '{') {
      if (seg.size() < 3 || seg.back() != '}' || !IsParamName(seg.substr(1, seg.size() - 2))) {
        throw std::invalid_argument("malformed route parameter in: " + pattern);
      }
      segment.param = true;
      segment.text = std::string(seg.substr(1, seg.size() - 2));
      for (const Segment& other : route.segments) {
        if (other.param && other.text == segment.text) {
          throw std::invalid_argument("duplicate route parameter in: " + pattern);
        }
      }
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("malformed route pattern: " + pattern);
      }
      segment.text = std::string(seg);
    }
    route.segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) throw std::invalid_argument("route pattern has a trailing '/': " + pattern);
  }
  for (const Route& other : routes_) {
    if (other.method != route.method || other.segments.size() != route.segments.size()) continue;
    bool same = true;
    for (std::size_t i = 0; same && i < other.segments.size(); ++i) {
      same = other.segments[i].param == route.segments[i].param &&
             (route.segments[i].param || other.segments[i].text == route.segments[i].text);
    }
    if (same) {
      throw std::invalid_argument("duplicate route: " + route.method + " " + pattern);
    }
  }
  routes_.push_back(std::move(route));
}

bool Router::Matches(const Route& route, const std::vector<std::string>& segments) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = route.segments[i];
    if (s.param ? segments[i].empty() : s.text != segments[i]) return false;
  }
  return true;
}

bool Router::MoreSpecific(const Route& a, const Route& b) {
  for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].param != b.segments[i].param) return !a.segments[i].param;
  }
  return false;
}

const Router::Route* Router::Find(std::string_view method, const std::vector<std::string>& segments,
                                  std::vector<std::string_view>* allowed) const {
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (!Matches(route, segments)) continue;
    if (route.method != method) {
      if (allowed != nullptr) allowed->push_back(route.method);
      continue;
    }
    if (best == nullptr || MoreSpecific(route, *best)) best = &route;
  }
  return best;
}

TrafficClass Router::Classify(std::string_view method, std::string_view path) const {
  try {
    Result<std::vector<std::string>> segments = SplitPath(path);
    if (!segments) return options_.default_class;
    std::vector<std::string_view> allowed;
    const Route* route = Find(method, *segments, &allowed);
    if (route != nullptr) return route->traffic_class;
    const Fallback* fallback = allowed.empty() ? FindFallback(method, path) : nullptr;
    return fallback == nullptr ? options_.default_class : fallback->traffic_class;
  } catch (...) {
    // Only allocation failure: the cheapest queue is as good as any.
    return options_.default_class;
  }
}

HttpReply Router::Dispatch(const HttpRequest& req) const {
  try {
    Result<std::vector<std::string>> segments = SplitPath(req.path);
    if (!segments) return ErrorReply(segments.error());

    std::vector<std::string_view> allowed;
    const Route* best = Find(req.method, *segments, &allowed);
    if (best == nullptr && allowed.empty()) {
      if (const Fallback* fallback = FindFallback(req.method, req.path); fallback != nullptr) {
        return RunHandler(fallback->handler, req, {}, req.method + " " + fallback->prefix);
      }
    }
    if (best == nullptr) {
      if (allowed.empty()) return ErrorReply(404, Code::kNotFound, "no such API path");
      std::sort(allowed.begin(), allowed.end());
      allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
      std::string allow;
      for (std::string_view m : allowed) {
        if (!allow.empty()) allow += ", ";
        allow += m;
      }
      HttpReply reply =
          ErrorReply(405, Code::kInvalidArgument, "method " + req.method + " not allowed here");
      reply.headers.emplace_back("Allow", allow);
      return reply;
    }
    if (NeedsJsonBody(req.method)) {
      const std::string_view want =
          best->binary_body ? "application/octet-stream" : "application/json";
      if (!HasMediaType(req.content_type, want)) {
        return ErrorReply(415, Code::kInvalidArgument,
                          "request body must be sent as Content-Type: " + std::string(want));
      }
    }

    PathParams params;
    for (std::size_t i = 0; i < best->segments.size(); ++i) {
      if (best->segments[i].param) params.emplace(best->segments[i].text, (*segments)[i]);
    }
    HttpReply reply = RunHandler(best->handler, req, params, best->method + " " + best->pattern);
    reply.route = best->pattern;
    return reply;
  } catch (...) {
    // Only allocation failure can land here; the reply below may fail too,
    // which the server's own catch handles by closing the connection.
    log::Error("api: dispatch failed");
  }
  return ErrorReply(500, Code::kInternal, "internal error");
}

}  // namespace gate::ca
