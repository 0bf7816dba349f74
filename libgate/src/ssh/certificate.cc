#include "gate/certificate.h"

#include <utility>

#include "gate/bytes.h"
#include "gate/ssh_wire.h"

namespace gate::ssh {
namespace {

constexpr std::size_t kNonceSize = 32;
constexpr std::size_t kSignatureSize = 64;
// OpenSSH refuses certificates with more principals than this
// (SSHKEY_CERT_MAX_PRINCIPALS); issuing one sshd would reject helps nobody.
constexpr std::size_t kMaxPrincipals = 256;
// Bounds for individual fields when parsing. Names and principals are short
// identifiers; a whole certificate must fit in kMaxStringLength anyway.
constexpr std::size_t kMaxNameLength = 1024;

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Also applied when signing, so that gate never issues a certificate its own
// parser would refuse.
Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (HasNul(name)) return InvalidArgument(std::string(what) + " contains NUL");
  if (name.size() > kMaxNameLength) {
    return InvalidArgument(std::string(what) + " is longer than " + std::to_string(kMaxNameLength) +
                           " bytes");
  }
  return Status::Ok();
}

// Critical options and extensions share one encoding: a sequence of
// (string name, string data) where data is empty for flags and otherwise
// holds the value as one more string (PROTOCOL.certkeys, and what
// ssh-keygen -O writes). std::map iterates in byte-wise lexical order, which
// is the order the spec requires.
std::string EncodeOptions(const std::map<std::string, std::string>& options) {
  Writer w;
  for (const auto& [name, value] : options) {
    w.PutString(name);
    if (value.empty()) {
      w.PutString("");
    } else {
      Writer inner;
      inner.PutString(value);
      w.PutString(inner.data());
    }
  }
  return w.Take();
}

Result<std::map<std::string, std::string>> ParseOptions(std::string_view what,
                                                        std::string_view encoded) {
  std::map<std::string, std::string> options;
  Reader r(encoded);
  std::string_view previous;
  bool first = true;
  while (!r.empty()) {
    auto name = r.GetString(kMaxNameLength);
    if (!name) return Err(name.error().WithContext(what));
    if (Status s = CheckName(std::string(what) + " name", *name); !s.ok()) return Err(s);
    if (!first && !(previous < *name)) {
      return Err(InvalidArgument(std::string(what) + " \"" + std::string(*name) +
                                 "\" is out of order or duplicated"));
    }
    auto data = r.GetString();
    if (!data) return Err(data.error().WithContext(what));
    std::string value;
    if (!data->empty()) {
      Reader inner(*data);
      auto v = inner.GetString();
      if (!v) return Err(v.error().WithContext(std::string(what) + " value"));
      if (Status s = inner.ExpectEnd(); !s.ok()) {
        return Err(s.WithContext(std::string(what) + " value"));
      }
      value.assign(*v);
    }
    options.emplace(std::string(*name), std::move(value));
    previous = *name;
    first = false;
  }
  return options;
}

Status CheckSpec(const CertificateSpec& spec) {
  if (spec.type != CertType::kUser && spec.type != CertType::kHost) {
    return InvalidArgument("certificate type must be user or host");
  }
  if (spec.public_key.raw().size() != 32) {
    return InvalidArgument("certificate has no public key to certify");
  }
  if (spec.valid_after >= spec.valid_before) {
    return InvalidArgument("certificate valid_after must be before valid_before");
  }
  // OpenSSH reads the key id as a C string; a NUL would make it unparseable.
  GATE_RETURN_IF_ERROR(CheckName("certificate key id", spec.key_id));
  if (spec.principals.size() > kMaxPrincipals) {
    return InvalidArgument("certificate has " + std::to_string(spec.principals.size()) +
                           " principals; the limit is " + std::to_string(kMaxPrincipals));
  }
  for (const std::string& p : spec.principals) {
    GATE_RETURN_IF_ERROR(CheckName("certificate principal", p));
  }
  for (const auto& [name, value] : spec.critical_options) {
    GATE_RETURN_IF_ERROR(CheckName("critical option name", name));
  }
  for (const auto& [name, value] : spec.extensions) {
    GATE_RETURN_IF_ERROR(CheckName("extension name", name));
  }
  return Status::Ok();
}

// Everything up to and including the signature key: the signed part.
std::string EncodeToBeSigned(const CertificateSpec& spec, std::string_view nonce,
                             const Ed25519PublicKey& ca) {
  Writer principals;
  for (const std::string& p : spec.principals) principals.PutString(p);

  Writer w;
  w.PutString(kEd25519CertType);
  w.PutString(nonce);
  w.PutString(spec.public_key.raw());
  w.PutU64(spec.serial);
  w.PutU32(static_cast<std::uint32_t>(spec.type));
  w.PutString(spec.key_id);
  w.PutString(principals.data());
  w.PutU64(spec.valid_after);
  w.PutU64(spec.valid_before);
  w.PutString(EncodeOptions(spec.critical_options));
  w.PutString(EncodeOptions(spec.extensions));
  w.PutString("");  // reserved
  w.PutString(ca.Blob());
  return w.Take();
}

Result<std::string_view> GetCString(Reader& r, std::string_view what,
                                    std::size_t max_len = kMaxStringLength) {
  auto s = r.GetString(max_len);
  if (!s) return Err(s.error().WithContext(what));
  if (HasNul(*s)) return Err(InvalidArgument(std::string(what) + " contains NUL"));
  return *s;
}

}  // namespace

Result<Certificate> SignCertificate(const CertificateSpec& spec, const Signer& ca) {
  if (Status s = CheckSpec(spec); !s.ok()) return Err(s);
  auto nonce = RandomBytes(kNonceSize);
  if (!nonce) return Err(nonce.error());

  std::string blob = EncodeToBeSigned(spec, *nonce, ca.public_key());
  // Bounds every field (option values included) by the parser's per-string cap.
  if (blob.size() > kMaxStringLength) {
    return Err(InvalidArgument("certificate would be larger than " +
                               std::to_string(kMaxStringLength) + " bytes"));
  }
  auto sig = ca.Sign(blob);
  if (!sig) return Err(sig.error().WithContext("signing certificate"));
  if (sig->size() != kSignatureSize) {
    return Err(Internal("signer returned a " + std::to_string(sig->size()) + "-byte signature"));
  }
  Writer sig_blob;
  sig_blob.PutString(kEd25519KeyType);
  sig_blob.PutString(*sig);

  Writer tail;
  tail.PutString(sig_blob.data());
  blob += tail.data();

  Certificate cert;
  cert.spec = spec;
  cert.nonce = std::move(*nonce);
  cert.signature_key = ca.public_key();
  cert.blob = std::move(blob);
  return cert;
}

namespace {

// Everything but the signature check, which stays out of this function so
// that callers trusting sshd's check do not link (and load) the verifier.
// *signed_part and *signature point into blob.
Result<Certificate> ParseStructure(std::string_view blob, std::string_view* signed_part,
                                   std::string_view* signature) {
  constexpr std::string_view kCtx = "certificate";
  Reader r(blob);
  Certificate cert;

  auto type = r.GetString(64);
  if (!type) return Err(type.error().WithContext(kCtx));
  if (*type != kEd25519CertType) {
    return Err(InvalidArgument("unsupported certificate type \"" + std::string(*type) +
                               "\" (only " + std::string(kEd25519CertType) + ")"));
  }
  auto nonce = r.GetString(1024);
  if (!nonce) return Err(nonce.error().WithContext("certificate nonce"));
  cert.nonce.assign(*nonce);

  auto pk = r.GetString(64);
  if (!pk) return Err(pk.error().WithContext("certificate public key"));
  auto pub = Ed25519PublicKey::FromRaw(*pk);
  if (!pub) return Err(pub.error().WithContext(kCtx));
  cert.spec.public_key = std::move(*pub);

  auto serial = r.GetU64();
  if (!serial) return Err(serial.error().WithContext("certificate serial"));
  cert.spec.serial = *serial;

  auto cert_type = r.GetU32();
  if (!cert_type) return Err(cert_type.error().WithContext("certificate type"));
  if (*cert_type != static_cast<std::uint32_t>(CertType::kUser) &&
      *cert_type != static_cast<std::uint32_t>(CertType::kHost)) {
    return Err(InvalidArgument("certificate type " + std::to_string(*cert_type) +
                               " is neither user nor host"));
  }
  cert.spec.type = static_cast<CertType>(*cert_type);

  auto key_id = GetCString(r, "certificate key id", kMaxNameLength);
  if (!key_id) return Err(key_id.error());
  cert.spec.key_id.assign(*key_id);

  auto principals = r.GetString();
  if (!principals) return Err(principals.error().WithContext("certificate principals"));
  for (Reader pr(*principals); !pr.empty();) {
    if (cert.spec.principals.size() == kMaxPrincipals) {
      return Err(InvalidArgument("certificate has more than " + std::to_string(kMaxPrincipals) +
                                 " principals"));
    }
    auto p = GetCString(pr, "certificate principal", kMaxNameLength);
    if (!p) return Err(p.error());
    cert.spec.principals.emplace_back(*p);
  }

  auto valid_after = r.GetU64();
  if (!valid_after) return Err(valid_after.error().WithContext("certificate validity"));
  auto valid_before = r.GetU64();
  if (!valid_before) return Err(valid_before.error().WithContext("certificate validity"));
  cert.spec.valid_after = *valid_after;
  cert.spec.valid_before = *valid_before;

  auto critical = r.GetString();
  if (!critical) return Err(critical.error().WithContext("certificate critical options"));
  auto critical_options = ParseOptions("critical option", *critical);
  if (!critical_options) return Err(critical_options.error());
  cert.spec.critical_options = std::move(*critical_options);

  auto ext = r.GetString();
  if (!ext) return Err(ext.error().WithContext("certificate extensions"));
  auto extensions = ParseOptions("extension", *ext);
  if (!extensions) return Err(extensions.error());
  cert.spec.extensions = std::move(*extensions);

  // PROTOCOL.certkeys: the reserved field is ignored by this version.
  auto reserved = r.GetString();
  if (!reserved) return Err(reserved.error().WithContext("certificate reserved field"));

  auto ca_blob = r.GetString(1024);
  if (!ca_blob) return Err(ca_blob.error().WithContext("certificate signature key"));
  auto ca = Ed25519PublicKey::FromBlob(*ca_blob);
  if (!ca) return Err(ca.error().WithContext("certificate signature key"));
  cert.signature_key = std::move(*ca);

  const std::size_t signed_len = blob.size() - r.remaining();

  auto sig_blob = r.GetString(1024);
  if (!sig_blob) return Err(sig_blob.error().WithContext("certificate signature"));
  if (Status s = r.ExpectEnd(); !s.ok()) return Err(s.WithContext(kCtx));

  Reader sr(*sig_blob);
  auto sig_type = sr.GetString(64);
  if (!sig_type) return Err(sig_type.error().WithContext("certificate signature"));
  if (*sig_type != kEd25519KeyType) {
    return Err(InvalidArgument("certificate signature type \"" + std::string(*sig_type) +
                               "\" is not ssh-ed25519"));
  }
  auto sig = sr.GetString(kSignatureSize);
  if (!sig) return Err(sig.error().WithContext("certificate signature"));
  if (Status s = sr.ExpectEnd(); !s.ok()) return Err(s.WithContext("certificate signature"));
  *signed_part = blob.substr(0, signed_len);
  *signature = *sig;
  cert.blob.assign(blob);
  return cert;
}

}  // namespace

Result<Certificate> ParseCertificate(std::string_view blob) {
  std::string_view signed_part, signature;
  auto cert = ParseStructure(blob, &signed_part, &signature);
  if (!cert) return cert;
  if (!cert->signature_key.Verify(signed_part, signature)) {
    return Err(InvalidArgument("certificate signature does not verify"));
  }
  return cert;
}

Result<Certificate> ParseCertificateVerifiedBySshd(std::string_view blob) {
  std::string_view signed_part, signature;
  return ParseStructure(blob, &signed_part, &signature);
}

Result<Certificate> ParseCertificateFromOwnSigner(std::string_view blob) {
  return ParseCertificateVerifiedBySshd(blob);
}

std::string CertificateLine(const Certificate& cert, std::string_view comment) {
  std::string line(kEd25519CertType);
  line += ' ';
  line += Base64Encode(cert.blob);
  if (!comment.empty()) {
    line += ' ';
    line += comment;
  }
  return line;
}

namespace {

// The blob of "TYPE BASE64 [comment]", for the one type we issue.
Result<std::string> CertificateLineBlob(std::string_view line) {
  while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
  while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
  std::size_t end = 0;
  while (end < line.size() && !IsSpace(line[end])) ++end;
  const std::string_view type = line.substr(0, end);
  if (type != kEd25519CertType) {
    return Err(InvalidArgument("unsupported certificate type \"" + std::string(type) + "\" (only " +
                               std::string(kEd25519CertType) + ")"));
  }
  line.remove_prefix(end);
  while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
  end = 0;
  while (end < line.size() && !IsSpace(line[end])) ++end;
  auto blob = Base64Decode(line.substr(0, end));
  if (!blob) return Err(blob.error().WithContext("certificate line"));
  return blob;
}

}  // namespace

Result<Certificate> ParseCertificateLine(std::string_view line) {
  auto blob = CertificateLineBlob(line);
  if (!blob) return Err(blob.error());
  return ParseCertificate(*blob);
}

Result<Certificate> ParseCertificateLineVerifiedBySshd(std::string_view line) {
  auto blob = CertificateLineBlob(line);
  if (!blob) return Err(blob.error());
  return ParseCertificateVerifiedBySshd(*blob);
}

Status CheckValidity(const Certificate& cert, std::uint64_t now) {
  if (now < cert.spec.valid_after) {
    return FailedPrecondition("certificate not yet valid (valid from " +
                              std::to_string(cert.spec.valid_after) + ", now " +
                              std::to_string(now) + ")");
  }
  if (now >= cert.spec.valid_before) {
    return FailedPrecondition("certificate expired (valid before " +
                              std::to_string(cert.spec.valid_before) + ", now " +
                              std::to_string(now) + ")");
  }
  return Status::Ok();
}

}  // namespace gate::ssh
