#include "sshd-hooks/node/join_token.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "gate/prompt.h"
#include "gate/secure_file.h"

namespace gate::node {
namespace {

constexpr std::size_t kMaxTokenSize = 256;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

Result<SecretString> Checked(std::string_view text, std::string_view from) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  const bool visible =
      std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (text.empty() || text.size() > kMaxTokenSize || !visible) {
    return Err(InvalidArgument(std::string(from) + " does not hold a node join token"));
  }
  return SecretString(text);
}

}  // namespace

Result<SecretString> ReadJoinToken(const std::string& token_file) {
  if (token_file == "-") {
    auto line = cli::ReadSecret("");
    if (!line) return Err(line.error().WithContext("--token-file -"));
    return Checked(line->view(), "standard input");
  }
  if (!token_file.empty()) {
    FilePolicy policy;  // owned by this euid, mode & 077 == 0
    policy.max_size = 4096;
    auto text = ReadSecureFile(token_file, policy);
    if (!text) return Err(text.error().WithContext("--token-file"));
    return Checked(text->view(), token_file);
  }
  if (const char* env = std::getenv(kJoinTokenEnv); env != nullptr) {
    auto token = Checked(env, kJoinTokenEnv);
    ::unsetenv(kJoinTokenEnv);
    return token;
  }
  auto line = cli::ReadSecret("Paste the node join token: ");
  if (!line) return Err(line.error());
  return Checked(line->view(), "the answer");
}

}  // namespace gate::node
