#include "http/beast/resolve.h"

#include <netdb.h>
#include <sys/socket.h>
#include <time.h>

#include <memory>

namespace gate::http {
namespace {

// Everything glibc's resolver thread may touch, kept together so that one
// allocation can be leaked if the lookup cannot be cancelled.
struct Lookup {
  std::string host;
  std::string port;
  addrinfo hints{};
  gaicb request{};
};

}  // namespace

Result<AddrInfo> ResolveBy(const std::string& host, const std::string& port,
                           std::chrono::steady_clock::time_point deadline) {
  auto lookup = std::make_unique<Lookup>();
  lookup->host = host;
  lookup->port = port;
  lookup->hints.ai_family = AF_UNSPEC;
  lookup->hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: on a host with only loopback configured it hides
  // localhost's addresses; an address family we cannot use fails at connect
  // and the next address is tried.
  lookup->hints.ai_flags = AI_NUMERICSERV;
  lookup->request.ar_name = lookup->host.c_str();
  lookup->request.ar_service = lookup->port.c_str();
  lookup->request.ar_request = &lookup->hints;
  gaicb* list[] = {&lookup->request};
  int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, nullptr);
  if (rc != 0) {
    return Err(Unavailable("cannot resolve host '" + host + "': " + gai_strerror(rc)));
  }
  for (;;) {
    rc = gai_error(&lookup->request);
    if (rc != EAI_INPROGRESS) break;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec wait{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    // Returns on completion, timeout (EAI_AGAIN) or a signal (EAI_INTR);
    // gai_error above tells which.
    (void)gai_suspend(list, 1, &wait);
  }
  if (rc == EAI_INPROGRESS) {
    const int cancelled = gai_cancel(&lookup->request);
    if (cancelled == EAI_NOTCANCELED) {
      (void)lookup.release();  // glibc's thread still owns it (resolve.h)
    } else if (cancelled == EAI_ALLDONE && gai_error(&lookup->request) == 0) {
      freeaddrinfo(lookup->request.ar_result);
    }
    return Err(Unavailable("timed out resolving host '" + host + "'"));
  }
  if (rc != 0) {
    return Err(Unavailable("cannot resolve host '" + host + "': " + gai_strerror(rc)));
  }
  return AddrInfo(lookup->request.ar_result);
}

}  // namespace gate::http
