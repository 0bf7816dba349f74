#include "gate/proxy_flags.h"

#include <iostream>

#include "gate/config.h"

namespace gate::cli {

Result<std::string> NormalizeProxy(std::string_view proxy) {
  std::string_view p = proxy;
  if (p.starts_with("https://")) p.remove_prefix(8);
  while (p.ends_with("/")) p.remove_suffix(1);
  if (p.empty()) return Err(InvalidArgument("--proxy is required (HOST[:PORT])"));
  if (p.find('/') != std::string_view::npos || p.find('@') != std::string_view::npos) {
    return Err(InvalidArgument("--proxy must be HOST[:PORT], not a URL with a path"));
  }
  auto hp = ParseHostPort(p, kDefaultProxyPort);
  if (!hp) return Err(hp.error().WithContext("--proxy"));
  return hp->ToString();
}

Result<HttpClientOptions> ProxyClientOptions(const ProxyFlags& flags) {
  auto proxy = NormalizeProxy(flags.proxy);
  if (!proxy) return Err(proxy.error());
  if (flags.insecure && !flags.ca_pin.empty()) {
    return Err(InvalidArgument("use either --insecure or --ca-pin, not both"));
  }
  HttpClientOptions options;
  options.base_url = "https://" + *proxy;
  options.insecure = flags.insecure;
  if (!flags.ca_pin.empty()) {
    auto curl_pin = PinToCurl(flags.ca_pin);  // validate early, with a clear message
    if (!curl_pin) return Err(curl_pin.error().WithContext("--ca-pin"));
    options.ca_pin = flags.ca_pin;
  }
  if (flags.insecure) {
    std::cerr << "WARNING: You are using insecure connection to gate proxy " << options.base_url
              << "\n";
  }
  return options;
}

}  // namespace gate::cli
