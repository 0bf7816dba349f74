#include "gate/names.h"

#include <algorithm>

namespace gate {
namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quoted(std::string_view s) {
  // Only printable ASCII is echoed back; the rest is replaced, so an error
  // message cannot carry control characters into a terminal or log.
  std::string out = "'";
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 64) out += "...";
  return out + "'";
}

}  // namespace

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument("user name must be 1 to 64 characters");
  }
  if (name.front() == '-' || name.front() == '.') {
    return InvalidArgument("user name " + Quoted(name) + " must not start with '-' or '.'");
  }
  for (char c : name) {
    if (!(IsLower(c) || IsUpper(c) || IsDigit(c) || c == '.' || c == '_' || c == '@' || c == '-')) {
      return InvalidArgument("user name " + Quoted(name) +
                             " may contain only letters, digits and . _ @ -");
    }
  }
  return Status::Ok();
}

Status ValidateLogin(std::string_view login) {
  if (login.empty() || login.size() > 32) {
    return InvalidArgument("login " + Quoted(login) + " must be 1 to 32 characters");
  }
  if (!(IsLower(login.front()) || login.front() == '_')) {
    return InvalidArgument("login " + Quoted(login) +
                           " must start with a lower-case letter or '_'");
  }
  for (char c : login) {
    if (!(IsLower(c) || IsDigit(c) || c == '_' || c == '-' || c == '.')) {
      return InvalidArgument("login " + Quoted(login) +
                             " may contain only lower-case letters, digits and _ - .");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ParseLoginList(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) return Err(InvalidArgument("empty login in list; use e.g. alice,root"));
    GATE_RETURN_IF_ERROR(ValidateLogin(item));
    if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace gate
