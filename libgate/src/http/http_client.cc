#include "gate/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <string>

#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/json.h"

namespace gate {
namespace {

using CurlEasy = CPtr<CURL, curl_easy_cleanup>;
using CurlList = CPtr<curl_slist, curl_slist_free_all>;

// gate's largest responses (node and user listings) are far below this; the
// cap only stops a broken or hostile server from filling our memory.
constexpr std::size_t kMaxResponseSize = 8 * 1024 * 1024;

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

Status GlobalInit() {
  // curl_global_init is not thread-safe and must run once per process.
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) {
    return Internal(std::string("curl_global_init: ") + curl_easy_strerror(rc));
  }
  return Status::Ok();
}

struct Sink {
  std::string data;
  bool overflow = false;
};

// libcurl's write callback: a C entry point, so nothing may escape it.
size_t WriteCallback(char* ptr, size_t size, size_t nmemb, void* userdata) noexcept {
  auto* sink = static_cast<Sink*>(userdata);
  const size_t n = size * nmemb;
  if (n > kMaxResponseSize - sink->data.size()) {
    sink->overflow = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  try {
    sink->data.append(ptr, n);
  } catch (...) {
    return 0;
  }
  return n;
}

// The URL without its query string: errors get logged, and a query may one
// day carry a token.
std::string UrlForErrors(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

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

}  // namespace

Code CodeFromName(std::string_view name) {
  for (Code c : kAllCodes) {
    if (CodeName(c) == name) return c;
  }
  return Code::kInternal;
}

Result<std::string> PinToCurl(std::string_view pin) {
  constexpr std::string_view kPrefix = "sha256:";
  auto invalid = [&] {
    return Err(InvalidArgument("invalid CA pin '" + std::string(pin) +
                               "' (expected sha256:<64 hex digits>)"));
  };
  if (pin.substr(0, kPrefix.size()) != kPrefix) return invalid();
  const std::string_view hex = pin.substr(kPrefix.size());
  if (hex.size() != 64) return invalid();
  auto raw = HexDecode(hex);
  if (!raw || raw->size() != 32) return invalid();
  return "sha256//" + Base64Encode(*raw);
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {}

Result<HttpResponse> HttpClient::Request(std::string_view method, std::string_view path,
                                         const Json::Value* body) const {
  const std::string url = options_.base_url + std::string(path);
  const std::string shown_url = UrlForErrors(url);
  if (!ValidMethod(method)) {
    return Err(InvalidArgument("invalid HTTP method '" + std::string(method) + "'"));
  }
  if (!ValidBearerToken(options_.bearer_token.view())) {
    return Err(InvalidArgument("invalid bearer token (must be visible ASCII)"));
  }
  GATE_RETURN_IF_ERROR(GlobalInit());

  std::string pin;
  if (!options_.ca_pin.empty()) {
    auto p = PinToCurl(options_.ca_pin);
    if (!p) return Err(p.error());
    pin = std::move(*p);
  }

  std::string method_str(method);
  std::string payload;
  if (body != nullptr) payload = json::Write(*body);
  Sink sink;
  char errbuf[CURL_ERROR_SIZE] = {};

  CurlList headers;
  auto add_header = [&](const char* line) {
    curl_slist* next = curl_slist_append(headers.get(), line);
    if (next == nullptr) return false;
    (void)headers.release();  // now owned by `next`
    headers.reset(next);
    return true;
  };
  if (!add_header("Accept: application/json")) return Err(Internal("out of memory"));
  // No "Expect: 100-continue" round trip before small JSON bodies.
  if (!add_header("Expect:")) return Err(Internal("out of memory"));
  if (body != nullptr && !add_header("Content-Type: application/json")) {
    return Err(Internal("out of memory"));
  }
  if (!options_.bearer_token.empty()) {
    // Wiped here; curl's own copy in the list is freed (not wiped) with it,
    // which is as far as libcurl lets us go.
    SecretString line("Authorization: Bearer ");
    line += options_.bearer_token;
    if (!add_header(line.c_str())) return Err(Internal("out of memory"));
  }

  // Declared after everything it points into (errbuf, sink, headers,
  // payload), so it is cleaned up first.
  CurlEasy curl(curl_easy_init());
  if (!curl) return Err(Internal("curl_easy_init failed"));
  CURL* h = curl.get();

  const long timeout_ms =
      static_cast<long>(std::max<std::chrono::milliseconds::rep>(options_.timeout.count(), 1));

  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode r) {
    if (rc == CURLE_OK) rc = r;
  };
  set(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf));
  set(curl_easy_setopt(h, CURLOPT_URL, url.c_str()));
  set(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http"));
  // A redirect would carry our credentials somewhere the user did not name.
  set(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
  // Signals (SIGALRM for DNS timeouts) are unsafe in threaded programs.
  set(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms));
  set(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms));
  set(curl_easy_setopt(h, CURLOPT_USERAGENT, "gate"));
  set(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()));
  set(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteCallback));
  set(curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink));
  if (!options_.unix_socket.empty()) {
    set(curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, options_.unix_socket.c_str()));
    // The socket is the destination; an http_proxy from the environment
    // must not redirect the request elsewhere.
    set(curl_easy_setopt(h, CURLOPT_PROXY, ""));
  }

  if (options_.insecure) {
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L));
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L));
  } else if (!pin.empty()) {
    // The pin replaces chain and name verification (the CA's certificate is
    // usually self-signed); curl still fails the handshake on a key mismatch.
    set(curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin.c_str()));
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L));
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L));
  } else {
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L));
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L));
  }
  if (!options_.ca_file.empty()) {
    set(curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str()));
  }

  if (method == "GET" && body == nullptr) {
    set(curl_easy_setopt(h, CURLOPT_HTTPGET, 1L));
  } else if (body != nullptr || method == "POST" || method == "PUT" || method == "PATCH") {
    // POSTFIELDS is always set (possibly empty): a POST without it would
    // make curl read the body from stdin.
    set(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size())));
    set(curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.c_str()));
    if (method != "POST") {
      set(curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_str.c_str()));
    }
  } else {
    set(curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_str.c_str()));
  }
  if (rc != CURLE_OK) {
    return Err(Internal("cannot set up request to " + shown_url + ": " + curl_easy_strerror(rc)));
  }

  rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    if (sink.overflow) {
      return Err(DataLoss("response from " + shown_url + " is larger than 8 MiB"));
    }
    const std::string reason = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
      return Err(Unavailable("cannot reach " + shown_url +
                             ": the server's key does not match the pinned " + options_.ca_pin));
    }
    if (rc == CURLE_PEER_FAILED_VERIFICATION) {
      return Err(Unavailable("cannot reach " + shown_url +
                             ": TLS certificate verification failed (" + reason +
                             "); trust it with --ca-pin sha256:... (gate-ca start prints the pin)"));
    }
    return Err(Unavailable("cannot reach " + shown_url + ": " + reason));
  }

  HttpResponse response;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  if (!sink.data.empty()) {
    auto parsed = json::Parse(sink.data, kMaxResponseSize);
    if (parsed) {
      response.body = std::move(*parsed);
    } else if (response.status >= 200 && response.status < 300) {
      return Err(DataLoss("invalid response from " + shown_url + ": " + parsed.error().message()));
    }
    // A non-2xx body that is not JSON (a proxy's HTML error page) is
    // dropped: the status code is still worth returning.
  }
  return response;
}

Result<Json::Value> HttpClient::Call(std::string_view method, std::string_view path,
                                     const Json::Value* body) const {
  auto response = Request(method, path, body);
  if (!response) return Err(response.error());
  if (response->status >= 200 && response->status < 300) return std::move(response->body);

  const Json::Value* error = Member(response->body, "error");
  if (error != nullptr) {
    const Json::Value* code = Member(*error, "code");
    const Json::Value* message = Member(*error, "message");
    if (code != nullptr && code->isString() && message != nullptr && message->isString()) {
      Code c = CodeFromName(code->asString());
      // A server must not turn a failed request into success.
      if (c == Code::kOk) c = Code::kInternal;
      return Err(Status(c, message->asString()));
    }
  }
  return Err(Internal("HTTP " + std::to_string(response->status) + " from " +
                      UrlForErrors(options_.base_url + std::string(path))));
}

}  // namespace gate
