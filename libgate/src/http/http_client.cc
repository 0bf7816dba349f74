// HttpClient: what does not depend on how bytes move (validation, JSON both
// ways, gate's error replies). The injected transport moves them
// (gate/http_transport.h).
#include "gate/http_client.h"

#include <algorithm>
#include <array>
#include <string>

#include "gate/bytes.h"
#include "gate/json.h"
#include "transport.h"

namespace gate {
namespace {

constexpr std::array kAllCodes = {
    Code::kOk,
    Code::kInvalidArgument,
    Code::kNotFound,
    Code::kAlreadyExists,
    Code::kPermissionDenied,
    Code::kUnauthenticated,
    Code::kResourceExhausted,
    Code::kFailedPrecondition,
    Code::kDataLoss,
    Code::kUnavailable,
    Code::kInternal,
};

// obj[name] if obj is an object that has it, else nullptr.
const Json::Value* Member(const Json::Value& obj, std::string_view name) {
  if (!obj.isObject()) return nullptr;
  return obj.find(name.data(), name.data() + name.size());
}

// RFC 6750's b64token is narrower, but visible ASCII is what matters here:
// no CR/LF to inject a header, no space or control byte to confuse a parser.
bool ValidBearerToken(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool ValidMethod(std::string_view method) {
  return !method.empty() && method.size() <= 16 &&
         std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool ValidHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool ValidHeaderValue(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= ' ' && c < 0x7f; });
}

// Everything the transports may take for granted (gate/http_transport.h),
// checked before anything is sent.
Result<HttpRawResponse> Perform(const HttpTransport* transport, const HttpClientOptions& options,
                                const http::Transfer& t) {
  if (transport == nullptr) return Err(Internal("HTTP client without a transport"));
  if (!ValidMethod(t.method)) {
    return Err(InvalidArgument("invalid HTTP method '" + std::string(t.method) + "'"));
  }
  if (!ValidBearerToken(options.bearer_token.view())) {
    return Err(InvalidArgument("invalid bearer token (must be visible ASCII)"));
  }
  if (!ValidHeaderValue(t.content_type)) return Err(InvalidArgument("invalid Content-Type"));
  if (t.headers != nullptr) {
    for (const auto& [name, value] : *t.headers) {
      if (!ValidHeaderName(name) || !ValidHeaderValue(value)) {
        return Err(InvalidArgument("invalid request header '" +
                                   (ValidHeaderName(name) ? name : std::string("?")) + "'"));
      }
    }
  }
  if (!options.ca_pin.empty()) {
    if (auto pin = http::ParseCaPin(options.ca_pin); !pin) return Err(pin.error());
  }
  return transport->Perform(options, t);
}

}  // namespace

Code CodeFromName(std::string_view name) {
  for (Code c : kAllCodes) {
    if (CodeName(c) == name) return c;
  }
  return Code::kInternal;
}

Result<std::string> PinToCurl(std::string_view pin) {
  auto digest = http::ParseCaPin(pin);
  if (!digest) return Err(digest.error());
  return "sha256//" + Base64Encode(std::string_view(reinterpret_cast<const char*>(digest->data()),
                                                    digest->size()));
}

HttpClient::HttpClient(HttpClientOptions options, std::shared_ptr<const HttpTransport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {}

Result<HttpResponse> HttpClient::Request(std::string_view method, std::string_view path,
                                         const Json::Value* body) const {
  std::string payload;
  if (body != nullptr) payload = json::Write(*body);
  http::Transfer t;
  t.method = method;
  t.target = path;
  t.payload = body != nullptr ? &payload : nullptr;
  t.content_type = body != nullptr ? "application/json" : "";
  t.accept_json = true;
  auto raw = Perform(transport_.get(), options_, t);
  if (!raw) return Err(raw.error());

  HttpResponse response;
  response.status = raw->status;
  if (!raw->body.empty()) {
    auto parsed = json::Parse(raw->body, http::kMaxResponseSize);
    if (parsed) {
      response.body = std::move(*parsed);
    } else if (response.status >= 200 && response.status < 300) {
      return Err(DataLoss("invalid response from " +
                          http::UrlForErrors(options_.base_url + std::string(path)) + ": " +
                          parsed.error().message()));
    }
    // A non-2xx body that is not JSON (a proxy's HTML error page) is
    // dropped: the status code is still worth returning.
  }
  return response;
}

Result<HttpRawResponse> HttpClient::Send(const HttpRawRequest& request) const {
  if (!request.body.empty() && request.content_type.empty()) {
    return Err(InvalidArgument("a request body needs a Content-Type"));
  }
  http::Transfer t;
  t.method = request.method;
  t.target = request.target;
  const bool has_body =
      request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!has_body && !request.body.empty()) {
    return Err(InvalidArgument(request.method + " requests carry no body"));
  }
  t.payload = has_body ? &request.body : nullptr;
  t.content_type = request.content_type;
  t.headers = &request.headers;
  t.max_response_bytes = request.max_response_bytes;
  return Perform(transport_.get(), options_, t);
}

Result<Json::Value> HttpClient::Call(std::string_view method, std::string_view path,
                                     const Json::Value* body) const {
  auto response = Request(method, path, body);
  if (!response) return Err(response.error());
  if (response->status >= 200 && response->status < 300) return std::move(response->body);
  return Err(StatusFromErrorReply(response->status, response->body,
                                  http::UrlForErrors(options_.base_url + std::string(path))));
}

Status StatusFromErrorReply(long status, const Json::Value& body, std::string_view url) {
  const Json::Value* error = Member(body, "error");
  if (error != nullptr) {
    const Json::Value* code = Member(*error, "code");
    const Json::Value* message = Member(*error, "message");
    if (code != nullptr && code->isString() && message != nullptr && message->isString()) {
      Code c = CodeFromName(code->asString());
      // A server must not turn a failed request into success.
      if (c == Code::kOk) c = Code::kInternal;
      return Status(c, message->asString());
    }
  }
  return Internal("HTTP " + std::to_string(status) + " from " + http::UrlForErrors(url));
}

}  // namespace gate
