#include "chain.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "gate/bytes.h"
#include "gate/cptr.h"

namespace gate::cast::internal {
namespace {

using EvpMdCtx = CPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

constexpr std::string_view kDomain = "gate-cast-v1\n";

std::string Sha256Of(std::string_view a, std::string_view b) {
  EvpMdCtx ctx(EVP_MD_CTX_new());
  std::string out(kHashSize, '\0');
  unsigned int len = 0;
  // SHA-256 through EVP cannot fail short of memory exhaustion; abort rather
  // than let a checkpoint carry a hash we did not compute.
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kHashSize) {
    std::abort();
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string InitialHash(std::string_view header_line) { return Sha256Of(kDomain, header_line); }

std::string NextHash(std::string_view previous, std::string_view covered) {
  return Sha256Of(previous, covered);
}

std::string CheckpointData(std::string_view hash, std::string_view signature) {
  return HexEncode(hash) + " " + Base64Encode(signature);
}

Status SplitCheckpointData(std::string_view data, std::string* hash, std::string* signature) {
  constexpr std::size_t kHexSize = 2 * kHashSize;
  constexpr std::size_t kBase64Size = 4 * ((kSignatureSize + 2) / 3);
  if (data.size() != kHexSize + 1 + kBase64Size || data[kHexSize] != ' ' ||
      !IsLowerHex(data.substr(0, kHexSize))) {
    return InvalidArgument("checkpoint data must be \"<hex sha256> <base64 signature>\"");
  }
  auto h = HexDecode(data.substr(0, kHexSize));
  auto sig = Base64Decode(data.substr(kHexSize + 1));
  if (!h || !sig || sig->size() != kSignatureSize) {
    return InvalidArgument("checkpoint data must be \"<hex sha256> <base64 signature>\"");
  }
  *hash = std::move(*h);
  *signature = std::move(*sig);
  return Status::Ok();
}

}  // namespace gate::cast::internal
