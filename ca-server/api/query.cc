#include "ca-server/api/query.h"

#include <algorithm>

namespace gate::ca {
namespace {

constexpr std::size_t kMaxQuery = 4096;
constexpr std::size_t kMaxPairs = 32;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return Err(InvalidArgument("query has a truncated percent-escape"));
      }
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return Err(InvalidArgument("query has a malformed percent-escape"));
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto uc = static_cast<unsigned char>(c);
    if (uc < 0x20 || uc == 0x7f) {
      return Err(InvalidArgument("query contains a control character"));
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<QueryParams> ParseQuery(std::string_view query,
                               std::initializer_list<std::string_view> allowed) {
  QueryParams params;
  if (query.empty()) return params;
  if (query.size() > kMaxQuery) return Err(InvalidArgument("query string too long"));
  std::size_t pairs = 0;
  while (true) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (++pairs > kMaxPairs) return Err(InvalidArgument("too many query parameters"));
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Err(InvalidArgument("query parameters must be name=value"));
    }
    auto name = Decode(pair.substr(0, eq));
    if (!name) return Err(name.error());
    auto value = Decode(pair.substr(eq + 1));
    if (!value) return Err(value.error());
    if (std::find(allowed.begin(), allowed.end(), *name) == allowed.end()) {
      std::string shown = name->substr(0, 32);
      for (char& c : shown) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) c = '?';
      }
      return Err(InvalidArgument("unknown query parameter '" + shown + "'"));
    }
    if (!params.emplace(*name, *value).second) {
      return Err(InvalidArgument("query parameter '" + *name + "' given twice"));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

std::optional<std::uint64_t> ParseCanonicalDecimal(std::string_view text) {
  if (text.empty() || text.size() > 18 || (text[0] == '0' && text.size() > 1) ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t n = 0;
  for (char c : text) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

Result<std::uint64_t> QueryNumber(const QueryParams& params, std::string_view name,
                                  std::uint64_t def) {
  auto it = params.find(name);
  if (it == params.end()) return def;
  auto n = ParseCanonicalDecimal(it->second);
  if (!n) {
    return Err(InvalidArgument("query parameter '" + std::string(name) +
                               "' must be a non-negative whole number"));
  }
  return *n;
}

}  // namespace gate::ca
