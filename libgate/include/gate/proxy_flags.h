// Where the cluster is, and how far to trust its TLS certificate: the
// --proxy/--insecure/--ca-pin flags of gate and gate-node join.
#ifndef GATE_PROXY_FLAGS_H_
#define GATE_PROXY_FLAGS_H_

#include <string>
#include <string_view>

#include "gate/http_client.h"
#include "gate/status.h"

namespace gate::cli {

inline constexpr std::uint16_t kDefaultProxyPort = 3080;

struct ProxyFlags {
  std::string proxy;  // HOST[:PORT] or https://HOST[:PORT]
  bool insecure = false;
  std::string ca_pin;  // sha256:<hex>
};

// "grav-00" -> "grav-00:3080"; "https://grav-00:443/" -> "grav-00:443".
// InvalidArgument for anything that is not a host with an optional port.
Result<std::string> NormalizeProxy(std::string_view proxy);

// Client options for talking to the proxy. Prints the insecure-connection
// warning to stderr when flags.insecure is set (never silent trust).
Result<HttpClientOptions> ProxyClientOptions(const ProxyFlags& flags);

}  // namespace gate::cli

#endif  // GATE_PROXY_FLAGS_H_
