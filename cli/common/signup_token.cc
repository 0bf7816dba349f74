#include "cli/common/signup_token.h"

#include <cctype>

namespace gate::cli {
namespace {

constexpr std::size_t kTokenHexChars = 32;  // gate-ca's 16 random bytes, hex
constexpr std::string_view kUrlPath = "/web/newuser/";

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Result<SecretString> ParseSignupToken(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  if (const std::size_t at = text.find(kUrlPath); at != std::string_view::npos) {
    text.remove_prefix(at + kUrlPath.size());
    text = text.substr(0, text.find_first_of("?#"));
    if (!text.empty() && text.back() == '/') text.remove_suffix(1);
  }
  SecretString token;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) break;
    token.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (token.size() != kTokenHexChars || text.size() != kTokenHexChars) {
    return Err(
        InvalidArgument("that is not a signup URL or token (expected https://HOST/web/newuser/"
                        "TOKEN or the 32 hexadecimal characters of TOKEN)"));
  }
  return token;
}

}  // namespace gate::cli
