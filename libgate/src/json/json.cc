#include "gate/json.h"

#include <exception>
#include <memory>
#include <string>

namespace gate::json {
namespace {

// gate's API objects nest three or four levels; a small limit keeps a
// hostile "[[[[..." from costing more than a trivial amount of stack.
constexpr int kMaxDepth = 64;

// jsoncpp's errors span several indented lines ("* Line 1, Column 5\n
// Syntax error: ..."); one line reads better in a log or a CLI message.
std::string OneLine(const std::string& errs) {
  std::string out;
  bool space = false;
  for (char c : errs) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (c == '*' && out.empty()) continue;
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

const Json::CharReaderBuilder& StrictBuilder() {
  static const Json::CharReaderBuilder* builder = [] {
    auto* b = new Json::CharReaderBuilder;
    Json::CharReaderBuilder::strictMode(&b->settings_);
    // strictMode already sets these; spelled out because they are the
    // reason we use this mode at all.
    b->settings_["allowComments"] = false;
    b->settings_["failIfExtra"] = true;
    b->settings_["rejectDupKeys"] = true;
    b->settings_["allowSpecialFloats"] = false;
    b->settings_["stackLimit"] = kMaxDepth;
    return b;
  }();
  return *builder;
}

// The member `name` of obj, or nullptr when obj is not an object or has no
// such member. find() on a non-object would throw, hence the check.
const Json::Value* Find(const Json::Value& obj, std::string_view name) {
  if (!obj.isObject()) return nullptr;
  return obj.find(name.data(), name.data() + name.size());
}

// jsoncpp 1.9.5 gaps in strict mode, closed by a pass over the raw text:
// it skips "//" and "/* */" comments between object members even with
// allowComments off, treats a NUL byte as the end of input (so "{}\0junk"
// parses), and accepts raw control characters inside strings. Valid JSON has
// no '/' outside strings and no byte below 0x20 inside them.
Status PreScan(std::string_view text) {
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (in_string) {
      if (u < 0x20) return InvalidArgument("malformed JSON: control character in a string");
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '/') {
      return InvalidArgument("malformed JSON: comments are not allowed");
    } else if (c == '\0') {
      return InvalidArgument("malformed JSON: NUL byte");
    }
  }
  return Status::Ok();
}

Status NotObject() { return InvalidArgument("expected a JSON object"); }

Status Missing(std::string_view name) {
  return InvalidArgument("missing field '" + std::string(name) + "'");
}

Status WrongType(std::string_view name, std::string_view type) {
  return InvalidArgument("field '" + std::string(name) + "' must be " + std::string(type));
}

// Only integers as written: 5.0, 1e3 and "5" are not ints, whatever
// isInt64() would say about an integral double.
bool IsInt64(const Json::Value& v) {
  if (v.type() == Json::intValue) return true;
  return v.type() == Json::uintValue && v.isInt64();
}

Result<std::vector<std::string>> ToStringArray(const Json::Value& v, std::string_view name) {
  if (!v.isArray()) return Err(WrongType(name, "an array of strings"));
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const Json::Value& item : v) {
    if (!item.isString()) return Err(WrongType(name, "an array of strings"));
    out.push_back(item.asString());
  }
  return out;
}

}  // namespace

Result<Json::Value> Parse(std::string_view text, std::size_t max_size) {
  if (text.size() > max_size) return Err(InvalidArgument("body too large"));
  GATE_RETURN_IF_ERROR(PreScan(text));
  std::unique_ptr<Json::CharReader> reader(StrictBuilder().newCharReader());
  Json::Value root;
  std::string errs;
  bool ok = false;
  try {
    ok = reader->parse(text.data(), text.data() + text.size(), &root, &errs);
  } catch (const std::exception& e) {
    // jsoncpp throws rather than reports when stackLimit is exceeded.
    return Err(InvalidArgument(std::string("malformed JSON: ") + e.what()));
  }
  if (!ok) return Err(InvalidArgument("malformed JSON: " + OneLine(errs)));
  if (!root.isObject()) return Err(InvalidArgument("malformed JSON: expected an object"));
  return root;
}

std::string Write(const Json::Value& v) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  return Json::writeString(builder, v);
}

Result<std::string> GetString(const Json::Value& obj, std::string_view name) {
  if (!obj.isObject()) return Err(NotObject());
  const Json::Value* v = Find(obj, name);
  if (v == nullptr) return Err(Missing(name));
  if (!v->isString()) return Err(WrongType(name, "a string"));
  return v->asString();
}

Result<std::string> OptionalString(const Json::Value& obj, std::string_view name, std::string def) {
  if (!obj.isObject()) return Err(NotObject());
  const Json::Value* v = Find(obj, name);
  if (v == nullptr || v->isNull()) return def;
  if (!v->isString()) return Err(WrongType(name, "a string"));
  return v->asString();
}

Result<std::int64_t> GetInt(const Json::Value& obj, std::string_view name) {
  if (!obj.isObject()) return Err(NotObject());
  const Json::Value* v = Find(obj, name);
  if (v == nullptr) return Err(Missing(name));
  if (!IsInt64(*v)) return Err(WrongType(name, "an integer"));
  return static_cast<std::int64_t>(v->asInt64());
}

Result<std::int64_t> OptionalInt(const Json::Value& obj, std::string_view name, std::int64_t def) {
  if (!obj.isObject()) return Err(NotObject());
  const Json::Value* v = Find(obj, name);
  if (v == nullptr || v->isNull()) return def;
  if (!IsInt64(*v)) return Err(WrongType(name, "an integer"));
  return static_cast<std::int64_t>(v->asInt64());
}

Result<std::vector<std::string>> GetStringArray(const Json::Value& obj, std::string_view name) {
  if (!obj.isObject()) return Err(NotObject());
  const Json::Value* v = Find(obj, name);
  if (v == nullptr) return Err(Missing(name));
  return ToStringArray(*v, name);
}

Result<std::vector<std::string>> OptionalStringArray(const Json::Value& obj,
                                                     std::string_view name) {
  if (!obj.isObject()) return Err(NotObject());
  const Json::Value* v = Find(obj, name);
  if (v == nullptr || v->isNull()) return std::vector<std::string>{};
  return ToStringArray(*v, name);
}

Json::Value StringArray(const std::vector<std::string>& v) {
  Json::Value out(Json::arrayValue);
  for (const std::string& s : v) out.append(s);
  return out;
}

}  // namespace gate::json
