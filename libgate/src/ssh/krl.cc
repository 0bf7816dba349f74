#include "gate/krl.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "gate/ssh_wire.h"

namespace gate::ssh {
namespace {

// PROTOCOL.krl section 1.
constexpr std::string_view kMagic{"SSHKRL\n\0", 8};
constexpr std::uint32_t kFormatVersion = 1;

// Top-level section types (PROTOCOL.krl section 1).
constexpr std::uint8_t kSectionCertificates = 1;
constexpr std::uint8_t kSectionSignature = 4;

// Certificate subsection types (PROTOCOL.krl section 2).
constexpr std::uint8_t kCertSerialList = 0x20;
constexpr std::uint8_t kCertSerialRange = 0x21;
constexpr std::uint8_t kCertSerialBitmap = 0x22;
constexpr std::uint8_t kCertKeyId = 0x23;

// OpenSSH reads the bitmap as an mpint of at most SSHBUF_MAX_BIGNUM bytes
// (16384 bits), plus one leading zero byte that keeps the sign bit clear.
// A bitmap it would refuse is one we refuse too.
constexpr std::size_t kMaxBitmapBytes = 16384 / 8 + 1;

std::string SubsectionName(std::uint8_t type) {
  switch (type) {
    case kCertKeyId:
      return "key id subsection (revocation by key id is not supported)";
    default:
      return "subsection type " + std::to_string(type);
  }
}

// Collects the entries of one certificates section while enforcing the
// KRL-wide entry budget.
class SectionBuilder {
 public:
  explicit SectionBuilder(std::size_t* budget) : budget_(budget) {}

  Status AddSerial(std::uint64_t serial) {
    // ssh_krl_revoke_cert_by_serial refuses 0, failing the whole file.
    if (serial == 0) return InvalidArgument("KRL revokes serial 0, which OpenSSH refuses");
    GATE_RETURN_IF_ERROR(Spend());
    section_.serials.push_back(serial);
    return Status::Ok();
  }

  Status AddRange(std::uint64_t min, std::uint64_t max) {
    if (min == 0 || min > max) {
      return InvalidArgument("KRL serial range " + std::to_string(min) + "-" + std::to_string(max) +
                             " is invalid");
    }
    GATE_RETURN_IF_ERROR(Spend());
    section_.ranges.push_back({min, max});
    return Status::Ok();
  }

  KrlCaSection Finish(Ed25519PublicKey ca) && {
    section_.ca = std::move(ca);
    auto& s = section_.serials;
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
    return std::move(section_);
  }

 private:
  Status Spend() {
    if (*budget_ == 0) {
      return InvalidArgument("KRL has more than " + std::to_string(kMaxKrlEntries) +
                             " revocation entries");
    }
    --*budget_;
    return Status::Ok();
  }

  std::size_t* budget_;
  KrlCaSection section_;
};

Status ParseSerialList(std::string_view data, SectionBuilder* out) {
  Reader r(data);
  while (!r.empty()) {
    auto serial = r.GetU64();
    if (!serial) return serial.error().WithContext("KRL serial list");
    GATE_RETURN_IF_ERROR(out->AddSerial(*serial));
  }
  return Status::Ok();
}

Status ParseSerialRange(std::string_view data, SectionBuilder* out) {
  Reader r(data);
  auto min = r.GetU64();
  if (!min) return min.error().WithContext("KRL serial range");
  auto max = r.GetU64();
  if (!max) return max.error().WithContext("KRL serial range");
  GATE_RETURN_IF_ERROR(r.ExpectEnd().WithContext("KRL serial range"));
  return out->AddRange(*min, *max);
}

// uint64 offset, mpint bitmap: bit N (counting from the least significant
// bit of the integer, i.e. the last byte) revokes serial offset + N.
Status ParseSerialBitmap(std::string_view data, SectionBuilder* out) {
  Reader r(data);
  auto offset = r.GetU64();
  if (!offset) return offset.error().WithContext("KRL serial bitmap");
  auto bitmap = r.GetString(kMaxBitmapBytes);
  if (!bitmap) return bitmap.error().WithContext("KRL serial bitmap");
  GATE_RETURN_IF_ERROR(r.ExpectEnd().WithContext("KRL serial bitmap"));
  std::string_view bytes = *bitmap;
  if (!bytes.empty() && (static_cast<unsigned char>(bytes.front()) & 0x80) != 0) {
    return InvalidArgument("KRL serial bitmap is a negative mpint");
  }
  if (bytes.size() == kMaxBitmapBytes && bytes.front() != '\0') {
    return InvalidArgument("KRL serial bitmap is too large");
  }
  const std::size_t nbytes = bytes.size();
  for (std::size_t i = 0; i < nbytes; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[nbytes - 1 - i]);
    for (unsigned bit = 0; bit < 8; ++bit) {
      if ((byte & (1u << bit)) == 0) continue;
      const std::uint64_t index = i * 8 + bit;
      if (index > std::numeric_limits<std::uint64_t>::max() - *offset) {
        return InvalidArgument("KRL serial bitmap wraps past the largest serial");
      }
      GATE_RETURN_IF_ERROR(out->AddSerial(*offset + index));
    }
  }
  return Status::Ok();
}

Result<KrlCaSection> ParseCertificates(std::string_view data, std::size_t* budget) {
  Reader r(data);
  auto ca_blob = r.GetString();
  if (!ca_blob) return Err(ca_blob.error().WithContext("KRL CA key"));
  if (ca_blob->empty()) {
    // An empty CA means "certificates of any CA"; gate never writes one,
    // and honouring it would need revocation by key id, which we do not do.
    return Err(InvalidArgument("KRL certificates section for any CA is not supported"));
  }
  auto ca = Ed25519PublicKey::FromBlob(*ca_blob);
  if (!ca) return Err(ca.error().WithContext("KRL CA key (only Ed25519 CAs are supported)"));
  auto reserved = r.GetString(kMaxKrlSize);
  if (!reserved) return Err(reserved.error().WithContext("KRL certificates section"));

  SectionBuilder builder(budget);
  while (!r.empty()) {
    auto type = r.GetU8();
    if (!type) return Err(type.error().WithContext("KRL certificates subsection"));
    auto sub = r.GetString(kMaxKrlSize);
    if (!sub) return Err(sub.error().WithContext("KRL certificates subsection"));
    switch (*type) {
      case kCertSerialList:
        GATE_RETURN_IF_ERROR(ParseSerialList(*sub, &builder));
        break;
      case kCertSerialRange:
        GATE_RETURN_IF_ERROR(ParseSerialRange(*sub, &builder));
        break;
      case kCertSerialBitmap:
        GATE_RETURN_IF_ERROR(ParseSerialBitmap(*sub, &builder));
        break;
      default:
        return Err(InvalidArgument("KRL has an unsupported certificates " + SubsectionName(*type)));
    }
  }
  return std::move(builder).Finish(std::move(*ca));
}

}  // namespace

std::string EncodeKrl(const Krl& krl) {
  Writer w;
  w.PutRaw(kMagic);
  w.PutU32(kFormatVersion);
  w.PutU64(krl.version);
  w.PutU64(krl.generated_at);
  w.PutU64(0);      // flags: none defined
  w.PutString("");  // reserved
  std::string comment = krl.comment;
  comment.erase(std::remove(comment.begin(), comment.end(), '\0'), comment.end());
  w.PutString(comment);

  for (const KrlCaSection& section : krl.sections) {
    // A default-constructed key would encode as a blob OpenSSH cannot parse,
    // and it then refuses the whole file.
    if (section.ca.raw().empty()) continue;
    std::vector<std::uint64_t> serials = section.serials;
    std::sort(serials.begin(), serials.end());
    serials.erase(std::unique(serials.begin(), serials.end()), serials.end());
    if (!serials.empty() && serials.front() == 0) serials.erase(serials.begin());

    Writer subsections;
    if (!serials.empty()) {
      Writer list;
      for (std::uint64_t serial : serials) list.PutU64(serial);
      subsections.PutU8(kCertSerialList);
      subsections.PutString(list.data());
    }
    for (const KrlSerialRange& range : section.ranges) {
      const std::uint64_t min = std::max<std::uint64_t>(range.min, 1);
      if (min > range.max) continue;
      Writer body;
      body.PutU64(min);
      body.PutU64(range.max);
      subsections.PutU8(kCertSerialRange);
      subsections.PutString(body.data());
    }
    if (subsections.data().empty()) continue;

    Writer body;
    body.PutString(section.ca.Blob());
    body.PutString("");  // reserved
    body.PutRaw(subsections.data());
    w.PutU8(kSectionCertificates);
    w.PutString(body.data());
  }
  return w.Take();
}

Result<Krl> ParseKrl(std::string_view data) {
  if (data.size() > kMaxKrlSize) {
    return Err(InvalidArgument("KRL is larger than " + std::to_string(kMaxKrlSize) + " bytes"));
  }
  if (data.substr(0, kMagic.size()) != kMagic) {
    return Err(InvalidArgument("not a KRL (bad magic)"));
  }
  Reader r(data.substr(kMagic.size()));
  auto format_version = r.GetU32();
  if (!format_version) return Err(format_version.error().WithContext("KRL header"));
  if (*format_version != kFormatVersion) {
    return Err(
        InvalidArgument("unsupported KRL format version " + std::to_string(*format_version)));
  }
  Krl krl;
  auto version = r.GetU64();
  if (!version) return Err(version.error().WithContext("KRL header"));
  auto generated_at = r.GetU64();
  if (!generated_at) return Err(generated_at.error().WithContext("KRL header"));
  auto flags = r.GetU64();
  if (!flags) return Err(flags.error().WithContext("KRL header"));
  // No flags are defined; one we do not know might change what the file means.
  if (*flags != 0) return Err(InvalidArgument("KRL has unknown flags " + std::to_string(*flags)));
  auto reserved = r.GetString(kMaxKrlSize);
  if (!reserved) return Err(reserved.error().WithContext("KRL header"));
  auto comment = r.GetString(kMaxKrlSize);
  if (!comment) return Err(comment.error().WithContext("KRL comment"));
  if (comment->find('\0') != std::string_view::npos) {
    return Err(InvalidArgument("KRL comment contains NUL"));
  }
  krl.version = *version;
  krl.generated_at = *generated_at;
  krl.comment.assign(*comment);

  std::size_t budget = kMaxKrlEntries;
  while (!r.empty()) {
    auto type = r.GetU8();
    if (!type) return Err(type.error().WithContext("KRL section"));
    auto section = r.GetString(kMaxKrlSize);
    if (!section) return Err(section.error().WithContext("KRL section"));
    if (*type == kSectionSignature) {
      // OpenSSH >= 9.4 refuses signed KRLs; gate never signs them.
      return Err(InvalidArgument("KRL has a signature section, which is not supported"));
    }
    if (*type != kSectionCertificates) {
      return Err(InvalidArgument("KRL has an unsupported section type " + std::to_string(*type) +
                                 " (only certificate serials are supported)"));
    }
    auto parsed = ParseCertificates(*section, &budget);
    if (!parsed) return Err(parsed.error());
    krl.sections.push_back(std::move(*parsed));
  }
  return krl;
}

bool KrlRevokes(const Krl& krl, const Ed25519PublicKey& ca, std::uint64_t serial) {
  if (serial == 0) return false;
  for (const KrlCaSection& section : krl.sections) {
    if (!(section.ca == ca)) continue;
    if (std::find(section.serials.begin(), section.serials.end(), serial) !=
        section.serials.end()) {
      return true;
    }
    for (const KrlSerialRange& range : section.ranges) {
      if (range.min <= serial && serial <= range.max) return true;
    }
  }
  return false;
}

}  // namespace gate::ssh
