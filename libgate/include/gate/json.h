// JSON at gate's boundaries (jsoncpp): strict parsing with a size cap, and
// typed field access that turns a missing or mistyped field into a clear
// InvalidArgument naming the field.
#ifndef GATE_JSON_H_
#define GATE_JSON_H_

#include <json/json.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate::json {

inline constexpr std::size_t kMaxBodySize = 64 * 1024;

// Strict: rejects comments, trailing garbage, duplicate keys; the top level
// must be an object. InvalidArgument("malformed JSON: ...") or
// InvalidArgument("body too large") above max_size.
Result<Json::Value> Parse(std::string_view text, std::size_t max_size = kMaxBodySize);

// Compact, one line, UTF-8 as is.
std::string Write(const Json::Value& v);

// Field accessors on an object. Missing or wrong type -> InvalidArgument
// ("field 'name' must be a string"). The Optional* forms return the default
// when the field is absent but still fail on a wrong type.
Result<std::string> GetString(const Json::Value& obj, std::string_view name);
Result<std::string> OptionalString(const Json::Value& obj, std::string_view name,
                                   std::string def = {});
Result<std::int64_t> GetInt(const Json::Value& obj, std::string_view name);
Result<std::int64_t> OptionalInt(const Json::Value& obj, std::string_view name, std::int64_t def);
Result<std::vector<std::string>> GetStringArray(const Json::Value& obj, std::string_view name);
Result<std::vector<std::string>> OptionalStringArray(const Json::Value& obj, std::string_view name);

Json::Value StringArray(const std::vector<std::string>& v);

}  // namespace gate::json

#endif  // GATE_JSON_H_
