// gate_http_curl: the libcurl HttpTransport of every gate program that
// speaks HTTP (gate/curl_http.h), and the connection pool.
#include "http/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "gate/cptr.h"
#include "gate/curl_http.h"
#include "gate/http_client.h"
#include "gate/secret.h"

namespace gate::http {
namespace {

using CurlEasy = CPtr<CURL, curl_easy_cleanup>;
using CurlList = CPtr<curl_slist, curl_slist_free_all>;

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
  std::size_t limit = kMaxResponseSize;
  bool overflow = false;
};

// libcurl's write callback: a C entry point, so nothing may escape it.
size_t WriteCallback(char* ptr, size_t size, size_t nmemb, void* userdata) noexcept {
  auto* sink = static_cast<Sink*>(userdata);
  const size_t n = size * nmemb;
  if (n > sink->limit - sink->data.size()) {
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

}  // namespace
}  // namespace gate::http

namespace gate {

// A libcurl share handle holding the connection cache (and TLS sessions),
// with the locks libcurl asks for when several threads use it.
class HttpConnectionPool {
 public:
  HttpConnectionPool() : share_(curl_share_init()) {
    if (share_ == nullptr) return;
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~HttpConnectionPool() {
    if (share_ != nullptr) curl_share_cleanup(share_);
  }
  HttpConnectionPool(const HttpConnectionPool&) = delete;
  HttpConnectionPool& operator=(const HttpConnectionPool&) = delete;

  CURLSH* share() const { return share_; }

 private:
  static std::mutex& MutexFor(void* self, curl_lock_data data) {
    auto* pool = static_cast<HttpConnectionPool*>(self);
    const auto i = static_cast<std::size_t>(data);
    return pool->mutexes_[i < kLocks ? i : 0];
  }
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    MutexFor(self, data).lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* self) { MutexFor(self, data).unlock(); }

  static constexpr std::size_t kLocks = CURL_LOCK_DATA_LAST;
  CURLSH* share_;
  std::mutex mutexes_[kLocks];
};

std::shared_ptr<HttpConnectionPool> NewHttpConnectionPool() {
  if (!http::GlobalInit().ok()) return nullptr;
  auto pool = std::make_shared<HttpConnectionPool>();
  return pool->share() != nullptr ? pool : nullptr;
}

}  // namespace gate

namespace gate::http {
namespace {

Result<HttpRawResponse> PerformHttp(const HttpClientOptions& options, const Transfer& t) {
  const std::string url = options.base_url + std::string(t.target);
  GATE_RETURN_IF_ERROR(GlobalInit());

  std::string pin;
  if (!options.ca_pin.empty()) {
    auto p = PinToCurl(options.ca_pin);
    if (!p) return Err(p.error());
    pin = std::move(*p);
  }

  std::string method_str(t.method);
  Sink sink;
  sink.limit = t.max_response_bytes;
  char errbuf[CURL_ERROR_SIZE] = {};

  CurlList headers;
  auto add_header = [&](const char* line) {
    curl_slist* next = curl_slist_append(headers.get(), line);
    if (next == nullptr) return false;
    (void)headers.release();  // now owned by `next`
    headers.reset(next);
    return true;
  };
  if (t.accept_json && !add_header("Accept: application/json")) {
    return Err(Internal("out of memory"));
  }
  // No "Expect: 100-continue" round trip before a body.
  if (!add_header("Expect:")) return Err(Internal("out of memory"));
  if (!t.content_type.empty() &&
      !add_header(("Content-Type: " + std::string(t.content_type)).c_str())) {
    return Err(Internal("out of memory"));
  }
  if (t.headers != nullptr) {
    for (const auto& [name, value] : *t.headers) {
      if (!add_header((name + ": " + value).c_str())) return Err(Internal("out of memory"));
    }
  }
  if (!options.bearer_token.empty()) {
    // Wiped here; curl's own copy in the list is freed (not wiped) with it,
    // which is as far as libcurl lets us go.
    SecretString line("Authorization: Bearer ");
    line += options.bearer_token;
    if (!add_header(line.c_str())) return Err(Internal("out of memory"));
  }

  // Declared after everything it points into (errbuf, sink, headers,
  // payload), so it is cleaned up first.
  CurlEasy curl(curl_easy_init());
  if (!curl) return Err(Internal("curl_easy_init failed"));
  CURL* h = curl.get();

  const long timeout_ms =
      static_cast<long>(std::max<std::chrono::milliseconds::rep>(options.timeout.count(), 1));

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
  if (options.connection_pool != nullptr) {
    set(curl_easy_setopt(h, CURLOPT_SHARE, options.connection_pool->share()));
  }
  set(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()));
  set(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteCallback));
  set(curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink));
  if (!options.unix_socket.empty()) {
    set(curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, options.unix_socket.c_str()));
    // The socket is the destination; an http_proxy from the environment
    // must not redirect the request elsewhere.
    set(curl_easy_setopt(h, CURLOPT_PROXY, ""));
  }

  if (options.insecure) {
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
  if (!options.ca_file.empty()) {
    set(curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str()));
  }

  const bool sends_body =
      t.payload != nullptr || t.method == "POST" || t.method == "PUT" || t.method == "PATCH";
  static const std::string kEmpty;
  const std::string& payload = t.payload != nullptr ? *t.payload : kEmpty;
  if (t.method == "GET" && t.payload == nullptr) {
    set(curl_easy_setopt(h, CURLOPT_HTTPGET, 1L));
  } else if (sends_body) {
    // POSTFIELDS is always set (possibly empty): a POST without it would
    // make curl read the body from stdin. The size makes binary bodies
    // (with NUL bytes) safe.
    set(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size())));
    set(curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.data()));
    if (t.method != "POST") {
      set(curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_str.c_str()));
    }
  } else {
    set(curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_str.c_str()));
  }
  if (rc != CURLE_OK) {
    return Err(
        Internal("cannot set up request to " + UrlForErrors(url) + ": " + curl_easy_strerror(rc)));
  }

  rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    if (sink.overflow) return Err(ResponseTooLarge(url, t.max_response_bytes));
    const std::string reason = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) return Err(PinMismatch(url, options.ca_pin));
    if (rc == CURLE_PEER_FAILED_VERIFICATION) return Err(VerificationFailed(url, reason));
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Err(TimedOut(url, std::chrono::milliseconds(timeout_ms)));
    }
    return Err(Unreachable(url, reason));
  }

  HttpRawResponse response;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  const char* content_type = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
      content_type != nullptr) {
    response.content_type = content_type;
  }
  response.body = std::move(sink.data);
  return response;
}

class CurlTransport final : public HttpTransport {
 public:
  Result<HttpRawResponse> Perform(const HttpClientOptions& options,
                                  const HttpTransfer& transfer) const override {
    return PerformHttp(options, transfer);
  }
};

}  // namespace
}  // namespace gate::http

namespace gate {

std::shared_ptr<const HttpTransport> CurlHttpTransport() {
  static const auto* transport =
      new std::shared_ptr<const HttpTransport>(std::make_shared<const http::CurlTransport>());
  return *transport;
}

HttpClient CurlHttpClient(HttpClientOptions options) {
  return HttpClient(std::move(options), CurlHttpTransport());
}

}  // namespace gate
