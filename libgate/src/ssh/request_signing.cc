#include "gate/request_signing.h"

#include <algorithm>

#include "gate/bytes.h"

namespace gate::signing {
namespace {

constexpr std::string_view kDomain = "gate-signed-request-v1\n";

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "name=value" at the front of *rest, up to the next ',' (consumed).
Result<std::string_view> TakeField(std::string_view* rest, std::string_view name, bool last) {
  const Status bad =
      Unauthenticated("malformed request signature: field '" + std::string(name) + "'");
  if (rest->substr(0, name.size()) != name || rest->size() <= name.size() ||
      (*rest)[name.size()] != '=') {
    return Err(bad);
  }
  rest->remove_prefix(name.size() + 1);
  const std::size_t comma = rest->find(',');
  if (last != (comma == std::string_view::npos)) return Err(bad);
  const std::string_view value = rest->substr(0, comma);
  rest->remove_prefix(last ? rest->size() : comma + 1);
  if (value.empty()) return Err(bad);
  return value;
}

}  // namespace

std::string CanonicalString(std::string_view method, std::string_view target,
                            std::int64_t timestamp, std::string_view nonce, std::string_view body) {
  std::string out(kDomain);
  out.append(method).append("\n");
  out.append(target).append("\n");
  out.append(std::to_string(timestamp)).append("\n");
  out.append(nonce).append("\n");
  out.append(HexEncode(Sha256(body))).append("\n");
  return out;
}

Result<SignedHeaders> SignRequest(const ssh::Ed25519PrivateKey& key,
                                  std::string_view certificate_blob, std::string_view method,
                                  std::string_view target, std::string_view body,
                                  std::int64_t now) {
  auto random = RandomBytes(kNonceBytes);
  if (!random) return Err(random.error());
  const std::string nonce = HexEncode(*random);
  auto signature = key.Sign(CanonicalString(method, target, now, nonce, body));
  if (!signature) return Err(signature.error());
  SignedHeaders headers;
  headers.authorization = std::string(kAuthScheme) + " " + Base64Encode(certificate_blob);
  headers.signature = "t=" + std::to_string(now) + ",n=" + nonce + ",s=" + Base64Encode(*signature);
  return headers;
}

Result<std::string> ParseAuthorization(std::string_view header) {
  if (header.empty()) {
    return Err(
        Unauthenticated("a signed request needs Authorization: Gate-Cert ...; run "
                        "gate login"));
  }
  const Status malformed = Unauthenticated("malformed Gate-Cert credentials");
  if (header.size() <= kAuthScheme.size() + 1 ||
      !EqualsNoCase(header.substr(0, kAuthScheme.size()), kAuthScheme) ||
      header[kAuthScheme.size()] != ' ') {
    return Err(malformed);
  }
  const std::string_view text = header.substr(kAuthScheme.size() + 1);
  // Base64 grows data by 4/3; refuse before decoding anything oversized.
  if (text.size() > (kMaxCertificateBlob + 2) / 3 * 4) return Err(malformed);
  auto blob = Base64Decode(text);
  if (!blob || blob->empty()) return Err(malformed);
  return blob;
}

Result<RequestSignature> ParseSignatureHeader(std::string_view header) {
  if (header.empty()) {
    return Err(Unauthenticated(std::string("a signed request needs an ") +
                               std::string(kSignatureHeader) + " header"));
  }
  std::string_view rest = header;
  auto t = TakeField(&rest, "t", false);
  if (!t) return Err(t.error());
  auto n = TakeField(&rest, "n", false);
  if (!n) return Err(n.error());
  auto s = TakeField(&rest, "s", true);
  if (!s) return Err(s.error());

  RequestSignature out;
  const Status bad_t = Unauthenticated("malformed request signature: field 't'");
  if (t->size() > 18 || ((*t)[0] == '0' && t->size() > 1) ||
      !std::all_of(t->begin(), t->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Err(bad_t);
  }
  for (char c : *t) out.timestamp = out.timestamp * 10 + (c - '0');
  if (n->size() != 2 * kNonceBytes || !std::all_of(n->begin(), n->end(), IsLowerHex)) {
    return Err(Unauthenticated("malformed request signature: field 'n'"));
  }
  out.nonce = std::string(*n);
  auto sig = Base64Decode(*s);
  if (!sig || sig->size() != 64) {
    return Err(Unauthenticated("malformed request signature: field 's'"));
  }
  out.signature = *std::move(sig);
  return out;
}

bool VerifyRequest(const ssh::Ed25519PublicKey& key, const RequestSignature& signature,
                   std::string_view method, std::string_view target, std::string_view body) {
  return key.Verify(CanonicalString(method, target, signature.timestamp, signature.nonce, body),
                    signature.signature);
}

}  // namespace gate::signing
