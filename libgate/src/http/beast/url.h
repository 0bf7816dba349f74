// The parts of HttpClientOptions::base_url + a request target that the Beast
// transport connects and speaks to. libcurl parses URLs for the curl
// transport; this is the same job for the few shapes gate uses.
#ifndef GATE_SRC_HTTP_BEAST_URL_H_
#define GATE_SRC_HTTP_BEAST_URL_H_

#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::http {

struct Url {
  bool tls = false;         // https
  std::string host;         // name or address, without IPv6 brackets
  bool host_is_ip = false;  // an IPv4 or IPv6 literal: no DNS, no SNI
  std::string port;         // digits; the scheme's default when absent
  std::string host_header;  // "host[:port]" as the Host header carries it
  std::string target;       // base_url's path followed by the request target
};

// Splits "http[s]://host[:port][/path]" (host a name, IPv4 address or
// [IPv6] address) and appends target. InvalidArgument for anything else: other
// schemes, user info, an empty host or bad port, a query or fragment in the
// base, and bytes outside visible ASCII in the target (a CR/LF there would
// inject a header). Pure; the message never repeats the target.
Result<Url> ParseUrl(std::string_view base_url, std::string_view target);

}  // namespace gate::http

#endif  // GATE_SRC_HTTP_BEAST_URL_H_
