// Query strings of GET routes ("live=1&user=alice"): parsed strictly, since
// every parameter a route does not name is a client bug worth a 400.
#ifndef GATE_CA_API_QUERY_H_
#define GATE_CA_API_QUERY_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::ca {

using QueryParams = std::map<std::string, std::string, std::less<>>;

// Splits query on '&' into name=value pairs, percent-decoding both ('+' is
// a space). InvalidArgument for: a pair without '=', an empty name, a name
// not in `allowed`, a name given twice, bad percent-encoding, a decoded
// control character, more than 32 pairs, or a query over 4 KiB. "" -> {}.
Result<QueryParams> ParseQuery(std::string_view query,
                               std::initializer_list<std::string_view> allowed);

// text as a canonical non-negative decimal (digits only, no leading zero,
// at most 18 digits, so it fits any 64-bit integer), or nullopt.
std::optional<std::uint64_t> ParseCanonicalDecimal(std::string_view text);

// params[name] as a canonical non-negative decimal (at most 18 digits), or
// def when absent. InvalidArgument naming the parameter otherwise.
Result<std::uint64_t> QueryNumber(const QueryParams& params, std::string_view name,
                                  std::uint64_t def);

}  // namespace gate::ca

#endif  // GATE_CA_API_QUERY_H_
