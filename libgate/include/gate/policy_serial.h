// Certificate serials as gate's JSON files carry them (the policy cache's
// revoked_serials, the live session registry's cert_serial).
#ifndef GATE_POLICY_SERIAL_H_
#define GATE_POLICY_SERIAL_H_

#include <json/json.h>

#include <cstdint>

#include "gate/status.h"

namespace gate::policy {

// A canonical decimal string ("0" or no leading zero, no sign, at most
// 2^64-1): JSON numbers lose precision past 2^53, so serials travel as
// strings. InvalidArgument otherwise.
Result<std::uint64_t> SerialFromJson(const Json::Value& value);

}  // namespace gate::policy

#endif  // GATE_POLICY_SERIAL_H_
