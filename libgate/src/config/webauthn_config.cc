#include "config/webauthn_config.h"

#include <charconv>

namespace gate::config_internal {
namespace {

bool IsLabelChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

}  // namespace

Status CheckRpId(std::string_view rp_id) {
  const std::string quoted = "'" + std::string(rp_id) + "'";
  if (rp_id.empty() || rp_id.size() > 253) {
    return InvalidArgument("rp_id " + quoted + " is not a host name");
  }
  bool all_digits_and_dots = true;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= rp_id.size(); ++i) {
    if (i == rp_id.size() || rp_id[i] == '.') {
      if (label == 0 || label > 63 || rp_id[i - 1] == '-' || rp_id[i - label] == '-') {
        return InvalidArgument("rp_id " + quoted +
                               " is not a host name (lower-case letters, digits, '-', dots)");
      }
      label = 0;
      continue;
    }
    if (!IsLabelChar(rp_id[i])) {
      return InvalidArgument("rp_id " + quoted +
                             " is not a host name (lower-case letters, digits, '-', dots)");
    }
    all_digits_and_dots = all_digits_and_dots && rp_id[i] >= '0' && rp_id[i] <= '9';
    ++label;
  }
  if (all_digits_and_dots) {
    return InvalidArgument(
        "rp_id " + quoted +
        " is an IP address; WebAuthn needs the host name users reach gate-ca by");
  }
  return Status::Ok();
}

Status CheckOrigin(std::string_view origin, std::string_view rp_id) {
  const std::string quoted = "'" + std::string(origin) + "'";
  std::string_view rest = origin;
  bool https = false;
  if (rest.starts_with("https://")) {
    https = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return InvalidArgument("origin " + quoted + " must start with https://");
  }
  std::string_view host = rest;
  if (const std::size_t colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    const std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || port[0] == '0' || ec != std::errc() || ptr != port.data() + port.size() ||
        value > 65535) {
      return InvalidArgument("origin " + quoted + " has a bad port");
    }
  }
  if (host.empty() || !CheckRpId(host).ok()) {
    return InvalidArgument("origin " + quoted +
                           " must be scheme://host[:port] with a host name and no path");
  }
  if (!https && host != "localhost") {
    return InvalidArgument("origin " + quoted + " must use https (http only for localhost)");
  }
  if (host != rp_id && !(host.size() > rp_id.size() && host.ends_with(rp_id) &&
                         host[host.size() - rp_id.size() - 1] == '.')) {
    return InvalidArgument("origin " + quoted + " is not rp_id '" + std::string(rp_id) +
                           "' or a name under it");
  }
  return Status::Ok();
}

WebauthnConfig DefaultWebauthn(const HostPort& public_addr) {
  WebauthnConfig w;
  w.rp_id = public_addr.host;
  w.origins = {"https://" + public_addr.host +
               (public_addr.port == 443 ? "" : ":" + std::to_string(public_addr.port))};
  return w;
}

}  // namespace gate::config_internal
