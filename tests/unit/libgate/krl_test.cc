#include "gate/krl.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "gate/ssh_wire.h"
#include "ssh_test_util.h"

namespace gate::ssh {
namespace {

using namespace std::string_literals;
using gate::testing::HaveSshKeygen;
using gate::testing::kSshKeygen;
using gate::testing::ReadFile;
using gate::testing::RunCommand;
using gate::testing::ShellQuote;
using gate::testing::TempDir;
using gate::testing::WriteFile;

const std::string kMagic = "SSHKRL\n\0"s;

Ed25519PublicKey TestKey(char fill) {
  return Ed25519PublicKey::FromRaw(std::string(32, fill)).value();
}

// The fixed header EncodeKrl writes, for hand-built inputs.
std::string Header(std::uint64_t flags = 0, std::string_view comment = "") {
  Writer w;
  w.PutRaw(kMagic);
  w.PutU32(1);
  w.PutU64(7);
  w.PutU64(1764000000);
  w.PutU64(flags);
  w.PutString("");
  w.PutString(comment);
  return w.Take();
}

std::string Subsection(std::uint8_t type, std::string_view body) {
  Writer w;
  w.PutU8(type);
  w.PutString(body);
  return w.Take();
}

// A KRL_SECTION_CERTIFICATES for ca_blob with the given raw subsections.
std::string CertSection(std::string_view ca_blob, std::string_view subsections) {
  Writer body;
  body.PutString(ca_blob);
  body.PutString("");
  body.PutRaw(subsections);
  Writer w;
  w.PutU8(1);
  w.PutString(body.data());
  return w.Take();
}

std::string U64s(std::initializer_list<std::uint64_t> values) {
  Writer w;
  for (std::uint64_t v : values) w.PutU64(v);
  return w.Take();
}

std::string Bitmap(std::uint64_t offset, std::string_view mpint) {
  Writer w;
  w.PutU64(offset);
  w.PutString(mpint);
  return w.Take();
}

// The subsection types inside every certificates section, in file order:
// lets a test prove that ssh-keygen's output exercised each parser path.
std::set<int> CertSubsectionTypes(std::string_view krl) {
  std::set<int> types;
  Reader r(krl.substr(kMagic.size()));
  (void)r.GetU32();
  (void)r.GetU64();
  (void)r.GetU64();
  (void)r.GetU64();
  (void)r.GetString();
  (void)r.GetString();
  while (!r.empty()) {
    auto type = r.GetU8();
    auto data = r.GetString(kMaxKrlSize);
    if (!type || !data) break;
    Reader s(*data);
    (void)s.GetString();
    (void)s.GetString();
    while (!s.empty()) {
      auto sub = s.GetU8();
      auto body = s.GetString(kMaxKrlSize);
      if (!sub || !body) break;
      types.insert(*sub);
    }
  }
  return types;
}

// ---- pure encoding and parsing ----

TEST(KrlTest, EmptyKrlRoundTrip) {
  Krl krl;
  krl.version = 3;
  krl.generated_at = 1764000000;
  krl.comment = "gate";
  const std::string data = EncodeKrl(krl);
  EXPECT_EQ(data.substr(0, 8), kMagic);
  auto parsed = ParseKrl(data);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->version, 3u);
  EXPECT_EQ(parsed->generated_at, 1764000000u);
  EXPECT_EQ(parsed->comment, "gate");
  EXPECT_TRUE(parsed->sections.empty());
  EXPECT_FALSE(KrlRevokes(*parsed, TestKey('a'), 1));
}

TEST(KrlTest, RoundTripSortsAndDeduplicates) {
  Krl krl;
  krl.version = 1;
  krl.sections.push_back({TestKey('a'), {9, 3, 3, 0xffffffffffffffffULL, 1}, {{100, 200}}});
  krl.sections.push_back({TestKey('b'), {42}, {}});
  const std::string data = EncodeKrl(krl);
  auto parsed = ParseKrl(data);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->sections.size(), 2u);
  EXPECT_EQ(parsed->sections[0].ca, TestKey('a'));
  EXPECT_EQ(parsed->sections[0].serials,
            (std::vector<std::uint64_t>{1, 3, 9, 0xffffffffffffffffULL}));
  EXPECT_EQ(parsed->sections[0].ranges, (std::vector<KrlSerialRange>{{100, 200}}));
  EXPECT_EQ(parsed->sections[1].serials, (std::vector<std::uint64_t>{42}));
  EXPECT_EQ(EncodeKrl(*parsed), data);

  EXPECT_TRUE(KrlRevokes(*parsed, TestKey('a'), 3));
  EXPECT_TRUE(KrlRevokes(*parsed, TestKey('a'), 150));
  EXPECT_TRUE(KrlRevokes(*parsed, TestKey('a'), 0xffffffffffffffffULL));
  EXPECT_FALSE(KrlRevokes(*parsed, TestKey('a'), 42));
  EXPECT_FALSE(KrlRevokes(*parsed, TestKey('a'), 201));
  EXPECT_TRUE(KrlRevokes(*parsed, TestKey('b'), 42));
  EXPECT_FALSE(KrlRevokes(*parsed, TestKey('b'), 3));
  EXPECT_FALSE(KrlRevokes(*parsed, TestKey('c'), 3));
}

TEST(KrlTest, EncodeNeverEmitsWhatOpenSshRefuses) {
  Krl krl;
  krl.comment = "a\0b"s;
  krl.sections.push_back({TestKey('a'), {0, 5}, {{0, 3}, {10, 9}}});
  krl.sections.push_back({TestKey('b'), {0}, {{5, 4}}});  // nothing left to revoke
  krl.sections.push_back({Ed25519PublicKey(), {5}, {}});  // unset CA
  auto parsed = ParseKrl(EncodeKrl(krl));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->comment, "ab");
  ASSERT_EQ(parsed->sections.size(), 1u);
  EXPECT_EQ(parsed->sections[0].serials, (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(parsed->sections[0].ranges, (std::vector<KrlSerialRange>{{1, 3}}));
  EXPECT_FALSE(KrlRevokes(krl, TestKey('a'), 0));
}

TEST(KrlTest, ParsesBitmaps) {
  const std::string ca = TestKey('a').Blob();
  // 0x0155: bits 0,2,4,6,8 -> offset+{0,2,4,6,8}; leading zero keeps it positive.
  const std::string bm = CertSection(ca, Subsection(0x22, Bitmap(1, "\x01\x55"s)));
  auto parsed = ParseKrl(Header() + bm);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->sections[0].serials, (std::vector<std::uint64_t>{1, 3, 5, 7, 9}));

  const std::string high = CertSection(ca, Subsection(0x22, Bitmap(10, "\x00\x80"s)));
  parsed = ParseKrl(Header() + high);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->sections[0].serials, (std::vector<std::uint64_t>{17}));

  const std::string empty = CertSection(ca, Subsection(0x22, Bitmap(10, "")));
  parsed = ParseKrl(Header() + empty);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_TRUE(parsed->sections[0].serials.empty());

  // The largest bitmap OpenSSH reads: 16384 bits plus the sign byte.
  const std::string biggest = "\x00"s + std::string(2048, '\xff');
  parsed = ParseKrl(Header() + CertSection(ca, Subsection(0x22, Bitmap(1, biggest))));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->sections[0].serials.size(), 16384u);
  EXPECT_TRUE(KrlRevokes(*parsed, TestKey('a'), 16384));
  EXPECT_FALSE(KrlRevokes(*parsed, TestKey('a'), 16385));
}

TEST(KrlTest, RejectsWhatItDoesNotUnderstand) {
  const std::string ca = TestKey('a').Blob();
  const std::string list = Subsection(0x20, U64s({5}));
  ASSERT_TRUE(ParseKrl(Header() + CertSection(ca, list)).has_value());

  Writer rsa;
  rsa.PutString("ssh-rsa");
  rsa.PutString("\x01\x00\x01"s);
  rsa.PutString(std::string(256, '\x7f'));

  std::string bad_version = Header();
  bad_version[11] = 2;
  std::string bad_magic = Header();
  bad_magic[0] = 'X';

  // Each case must fail for its own reason, not an earlier accident.
  struct Case {
    std::string name;
    std::string data;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"empty input", "", "bad magic"},
      {"bad magic", bad_magic, "bad magic"},
      {"format version 2", bad_version, "format version 2"},
      {"flags set", Header(1), "unknown flags"},
      {"comment with NUL", Header(0, "a\0b"s), "comment contains NUL"},
      {"signature section", Header() + Subsection(4, "sig"), "signature section"},
      {"explicit key section", Header() + Subsection(2, ca), "section type 2"},
      {"sha256 fingerprint section", Header() + Subsection(5, std::string(32, 'x')),
       "section type 5"},
      {"extension section", Header() + Subsection(255, "ext"), "section type 255"},
      {"key id subsection", Header() + CertSection(ca, Subsection(0x23, "\0\0\0\x01x"s)), "key id"},
      {"cert extension subsection", Header() + CertSection(ca, Subsection(0x39, "")),
       "subsection type 57"},
      {"any-CA section", Header() + CertSection("", list), "any CA"},
      {"RSA CA", Header() + CertSection(rsa.data(), list), "ssh-rsa"},
      {"garbage CA", Header() + CertSection("junk", list), "KRL CA key"},
      {"serial 0 in list", Header() + CertSection(ca, Subsection(0x20, U64s({0}))), "serial 0"},
      {"list not a multiple of 8", Header() + CertSection(ca, Subsection(0x20, "1234567")),
       "serial list: truncated"},
      {"range min > max", Header() + CertSection(ca, Subsection(0x21, U64s({9, 3}))), "range 9-3"},
      {"range from 0", Header() + CertSection(ca, Subsection(0x21, U64s({0, 3}))), "range 0-3"},
      {"range with trailing data", Header() + CertSection(ca, Subsection(0x21, U64s({1, 3, 4}))),
       "range: trailing data"},
      {"negative bitmap", Header() + CertSection(ca, Subsection(0x22, Bitmap(1, "\x80"s))),
       "negative"},
      {"bitmap revoking 0", Header() + CertSection(ca, Subsection(0x22, Bitmap(0, "\x01"s))),
       "serial 0"},
      {"bitmap wraps",
       Header() + CertSection(ca, Subsection(0x22, Bitmap(0xffffffffffffffffULL, "\x02"s))),
       "wraps"},
      {"bitmap too large",
       Header() + CertSection(ca, Subsection(0x22, Bitmap(1, std::string(2049, '\x01')))),
       "too large"},
      {"bitmap with trailing data",
       Header() + CertSection(ca, Subsection(0x22, Bitmap(1, "\x01"s) + "x")),
       "bitmap: trailing data"},
      {"trailing byte", Header() + CertSection(ca, list) + "\x01"s, "truncated"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseKrl(c.data);
    ASSERT_FALSE(parsed.has_value()) << c.name;
    EXPECT_NE(parsed.error().message().find(c.expect), std::string::npos)
        << c.name << ": " << parsed.error().ToString();
  }
}

TEST(KrlTest, EntryBudget) {
  const std::string ca = TestKey('a').Blob();
  Writer many;
  for (std::uint64_t i = 1; i <= kMaxKrlEntries; ++i) many.PutU64(i);
  auto at_limit = ParseKrl(Header() + CertSection(ca, Subsection(0x20, many.data())));
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error().ToString();
  EXPECT_EQ(at_limit->sections[0].serials.size(), kMaxKrlEntries);

  const std::string one_more = Subsection(0x21, U64s({kMaxKrlEntries + 10, kMaxKrlEntries + 20}));
  auto over = ParseKrl(Header() + CertSection(ca, Subsection(0x20, many.data()) + one_more));
  EXPECT_FALSE(over.has_value());

  EXPECT_FALSE(ParseKrl(kMagic + std::string(kMaxKrlSize, '\0')).has_value());
}

// The format has no overall length, so a cut exactly between sections is a
// shorter valid KRL; every other cut must be refused, and none may crash.
TEST(KrlTest, TruncationAtEveryOffset) {
  Krl krl;
  krl.comment = "truncate me";
  krl.sections.push_back({TestKey('a'), {1, 2, 3}, {{10, 20}}});
  krl.sections.push_back({TestKey('b'), {99}, {}});
  const std::string data = EncodeKrl(krl);
  const std::size_t header_end = EncodeKrl({krl.version, krl.generated_at, krl.comment, {}}).size();
  Krl first_only = krl;
  first_only.sections.pop_back();
  const std::size_t first_end = EncodeKrl(first_only).size();

  for (std::size_t len = 0; len < data.size(); ++len) {
    auto parsed = ParseKrl(std::string_view(data).substr(0, len));
    if (len == header_end) {
      ASSERT_TRUE(parsed.has_value()) << len;
      EXPECT_TRUE(parsed->sections.empty());
    } else if (len == first_end) {
      ASSERT_TRUE(parsed.has_value()) << len;
      EXPECT_EQ(parsed->sections.size(), 1u);
    } else {
      EXPECT_FALSE(parsed.has_value()) << "prefix of " << len << " bytes parsed";
    }
  }
  EXPECT_TRUE(ParseKrl(data).has_value());
}

TEST(KrlTest, RandomCorruptionNeverCrashes) {
  Krl krl;
  krl.sections.push_back({TestKey('a'), {1, 5, 1000}, {{10, 20}}});
  std::string data = EncodeKrl(krl);
  const std::string ca = TestKey('a').Blob();
  data += CertSection(ca, Subsection(0x22, Bitmap(3000, "\x01\x55"s)));
  ASSERT_TRUE(ParseKrl(data).has_value());
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string mutated = data;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xff);
    }
    (void)ParseKrl(mutated);
  }
}

// ---- interoperability with OpenSSH's ssh-keygen ----

class KrlOpenSshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed";
    ca_ = MakeCa("ca");
  }

  Ed25519PublicKey MakeCa(const std::string& name) {
    const std::string path = dir_.File(name);
    Run(std::string(kSshKeygen) + " -q -t ed25519 -N '' -C '' -f " + ShellQuote(path));
    auto key = Ed25519PublicKey::FromAuthorizedKey(ReadFile(path + ".pub"));
    EXPECT_TRUE(key.has_value());
    return key.value_or(Ed25519PublicKey());
  }

  // Signs a fresh user key with CA `ca`; returns the certificate's path.
  std::string SignCert(const std::string& ca, std::uint64_t serial) {
    const std::string key = dir_.File("user" + std::to_string(serial) + "-" + ca);
    Run(std::string(kSshKeygen) + " -q -t ed25519 -N '' -C '' -f " + ShellQuote(key));
    Run(std::string(kSshKeygen) + " -q -s " + ShellQuote(dir_.File(ca)) + " -I id -z " +
        std::to_string(serial) + " -n p " + ShellQuote(key + ".pub"));
    return key + "-cert.pub";
  }

  // ssh-keygen -Q: exit 0 if not revoked, non-zero (and "REVOKED") if revoked.
  gate::testing::CommandResult Query(const std::string& krl_path, const std::string& cert) {
    return RunCommand(std::string(kSshKeygen) + " -Q -f " + ShellQuote(krl_path) + " " +
                      ShellQuote(cert));
  }

  void Run(const std::string& command) {
    const auto result = RunCommand(command);
    ASSERT_EQ(result.exit_code, 0) << command << "\n" << result.output;
  }

  TempDir dir_;
  Ed25519PublicKey ca_;
};

TEST_F(KrlOpenSshTest, EmptyKrlRevokesNothing) {
  const std::string cert = SignCert("ca", 5);
  const std::string path = dir_.File("empty.krl");
  WriteFile(path, EncodeKrl(Krl{1, 1764000000, "empty", {}}));
  const auto result = Query(path, cert);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("ok"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("REVOKED"), std::string::npos) << result.output;
}

TEST_F(KrlOpenSshTest, OpenSshHonoursOurKrl) {
  const Ed25519PublicKey other_ca = MakeCa("other");
  const std::string revoked = SignCert("ca", 5);
  const std::string big = SignCert("ca", 1234567890123456789ULL);
  const std::string in_range = SignCert("ca", 2500);
  const std::string kept = SignCert("ca", 6);
  const std::string other = SignCert("other", 5);

  Krl krl;
  krl.version = 2;
  krl.generated_at = 1764000000;
  krl.comment = "gate test";
  krl.sections.push_back({ca_, {5, 1234567890123456789ULL, 77}, {{2000, 3000}}});
  krl.sections.push_back({other_ca, {99}, {}});
  const std::string path = dir_.File("revoked.krl");
  WriteFile(path, EncodeKrl(krl));

  for (const std::string& cert : {revoked, big, in_range}) {
    const auto result = Query(path, cert);
    EXPECT_NE(result.exit_code, 0) << cert << ": " << result.output;
    EXPECT_NE(result.output.find("REVOKED"), std::string::npos) << result.output;
  }
  for (const std::string& cert : {kept, other}) {
    const auto result = Query(path, cert);
    EXPECT_EQ(result.exit_code, 0) << cert << ": " << result.output;
    EXPECT_EQ(result.output.find("REVOKED"), std::string::npos) << result.output;
  }
}

TEST_F(KrlOpenSshTest, ReadsSshKeygenKrl) {
  // Dense odd serials come out as a bitmap, 100-200 as a range and the
  // sparse ones as a list, so every parser path sees ssh-keygen's bytes.
  const std::string spec =
      "serial: 1\nserial: 3\nserial: 5\nserial: 7\nserial: 9\nserial: 11\n"
      "serial: 100-200\n"
      "serial: 1000000-2000000\n"
      "serial: 123456789012\nserial: 9000000000000\n";
  const std::string spec_path = dir_.File("serials.txt");
  WriteFile(spec_path, spec);
  const std::string path = dir_.File("keygen.krl");
  Run(std::string(kSshKeygen) + " -k -f " + ShellQuote(path) + " -s " +
      ShellQuote(dir_.File("ca.pub")) + " " + ShellQuote(spec_path));
  const std::string data = ReadFile(path);
  EXPECT_EQ(CertSubsectionTypes(data), (std::set<int>{0x20, 0x21, 0x22}));

  auto parsed = ParseKrl(data);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->sections.size(), 1u);
  EXPECT_EQ(parsed->sections[0].ca, ca_);

  const std::set<std::uint64_t> singles = {1, 3, 5, 7, 9, 11, 123456789012ULL, 9000000000000ULL};
  auto expected = [&](std::uint64_t s) {
    return singles.count(s) > 0 || (s >= 100 && s <= 200) || (s >= 1000000 && s <= 2000000);
  };
  std::vector<std::uint64_t> probes = {0,
                                       1,
                                       2,
                                       3,
                                       4,
                                       11,
                                       12,
                                       13,
                                       99,
                                       100,
                                       150,
                                       200,
                                       201,
                                       999999,
                                       1000000,
                                       1500000,
                                       2000000,
                                       2000001,
                                       123456789011ULL,
                                       123456789012ULL,
                                       123456789013ULL,
                                       9000000000000ULL,
                                       0xffffffffffffffffULL};
  for (std::uint64_t s = 0; s < 300; ++s) probes.push_back(s);
  for (std::uint64_t s : probes) {
    EXPECT_EQ(KrlRevokes(*parsed, ca_, s), expected(s)) << s;
    EXPECT_FALSE(KrlRevokes(*parsed, TestKey('z'), s)) << s;
  }

  // Re-encoded, it still means the same thing to OpenSSH.
  const std::string reencoded = dir_.File("reencoded.krl");
  WriteFile(reencoded, EncodeKrl(*parsed));
  const auto in_bitmap = Query(reencoded, SignCert("ca", 7));
  EXPECT_NE(in_bitmap.exit_code, 0) << in_bitmap.output;
  const auto in_range = Query(reencoded, SignCert("ca", 1500000));
  EXPECT_NE(in_range.exit_code, 0) << in_range.output;
  const auto not_revoked = Query(reencoded, SignCert("ca", 8));
  EXPECT_EQ(not_revoked.exit_code, 0) << not_revoked.output;
}

}  // namespace
}  // namespace gate::ssh
