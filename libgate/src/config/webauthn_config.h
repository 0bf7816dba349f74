// The checks on auth_service.authentication.webauthn (gate/config.h), apart
// from the YAML parser so they can be tested and read alone.
#ifndef GATE_LIBGATE_SRC_CONFIG_WEBAUTHN_CONFIG_H_
#define GATE_LIBGATE_SRC_CONFIG_WEBAUTHN_CONFIG_H_

#include <string>
#include <string_view>

#include "gate/config.h"
#include "gate/status.h"

namespace gate::config_internal {

// InvalidArgument unless rp_id is a DNS host name (lower-case letters,
// digits, '-' and dots; not an IP address, which WebAuthn does not accept as
// an RP ID), at most 253 bytes.
Status CheckRpId(std::string_view rp_id);

// InvalidArgument unless origin is "https://HOST[:PORT]" (or
// "http://localhost[:PORT]", which browsers treat as secure) with nothing
// after it, and HOST is rp_id or a name under it (WebAuthn's rule: the RP ID
// is the origin's host or a registrable suffix of it).
Status CheckOrigin(std::string_view origin, std::string_view rp_id);

// The defaults from public_addr: rp_id its host, origins
// {"https://HOST:PORT"} (":443" left out, as browsers write it).
WebauthnConfig DefaultWebauthn(const HostPort& public_addr);

}  // namespace gate::config_internal

#endif  // GATE_LIBGATE_SRC_CONFIG_WEBAUTHN_CONFIG_H_
