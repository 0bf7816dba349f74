// Name resolution with a deadline, for the Beast transport. Asio's resolver
// runs getaddrinfo on a thread that its io_context joins on destruction, so a
// hung DNS server would outlast HttpClientOptions::timeout; glibc's
// getaddrinfo_a can be abandoned instead.
#ifndef GATE_SRC_HTTP_BEAST_RESOLVE_H_
#define GATE_SRC_HTTP_BEAST_RESOLVE_H_

#include <netdb.h>

#include <chrono>
#include <string>

#include "gate/cptr.h"
#include "gate/status.h"

namespace gate::http {

using AddrInfo = CPtr<addrinfo, freeaddrinfo>;

// The TCP addresses of host:port, in the resolver's order. Unavailable, with a reason to follow
// "cannot reach <url>: ", if the name does not resolve or deadline passes
// first; a lookup still running then is left to glibc (its request block is
// leaked on purpose: glibc's thread writes into it when it finishes).
Result<AddrInfo> ResolveBy(const std::string& host, const std::string& port,
                           std::chrono::steady_clock::time_point deadline);

}  // namespace gate::http

#endif  // GATE_SRC_HTTP_BEAST_RESOLVE_H_
