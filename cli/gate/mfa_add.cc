// gate mfa add --local --type=otp | --type=u2f --appid pam://HOST
//
// Enrolls a second factor for pam_gate.so in a host's authfile (format:
// gate/authfile.h, pam_gate(8), docs/pam.md): a TOTP secret the user scans
// into an authenticator app, or a FIDO2/U2F security key registered with
// libfido2. The line is appended atomically; the file is created 0600 if
// missing and refused if its owner or mode would make pam_gate refuse it.
#include <fcntl.h>
#include <liboath/oath.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>

#include "cli/common/qr.h"
#include "cli/gate/commands.h"
#include "gate/authfile.h"
#include "gate/bytes.h"
#include "gate/exit_code.h"
#include "gate/fido_ptr.h"
#include "gate/json.h"
#include "gate/otp_state.h"
#include "gate/prompt.h"
#include "gate/secret.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gate mfa add";
constexpr std::size_t kSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
constexpr int kStepSeconds = 30;
constexpr int kConfirmWindow = 1;  // steps of clock skew accepted either way

using fido::kMaxDevices;
using fido::kTouchTimeoutMs;
using FidoCred = fido::Cred;
using FidoDevInfo = fido::DevInfo;
using FidoDev = fido::Dev;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string CurrentUserName() {
  const struct passwd* pw = getpwuid(getuid());
  return pw != nullptr ? pw->pw_name : "";
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

Status OathInit() {
  static const int rc = oath_init();
  if (rc != OATH_OK) return Internal(std::string("liboath: ") + oath_strerror(rc));
  return Status::Ok();
}

// Unpadded upper-case base32 (what authfile lines and otpauth URIs carry).
Result<SecretString> Base32(const SecretString& raw) {
  GATE_RETURN_IF_ERROR(OathInit());
  char* out = nullptr;
  std::size_t len = 0;
  if (oath_base32_encode(raw.data(), raw.size(), &out, &len) != OATH_OK) {
    return Err(Internal("base32 encoding failed"));
  }
  SecretString encoded(out, len);
  Wipe(out, len);
  std::free(out);
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return encoded;
}

// The highest TOTP time step within kConfirmWindow steps of now whose code
// is `code`, or -1 if none. Every candidate is compared in constant time.
Result<std::int64_t> MatchingStep(const authfile::TotpEntry& totp, std::string_view code) {
  GATE_RETURN_IF_ERROR(OathInit());
  if (code.size() != static_cast<std::size_t>(totp.digits)) return -1;
  const int flags = totp.algorithm == "sha256" ? OATH_TOTP_HMAC_SHA256 : 0;
  const std::int64_t now_step = static_cast<std::int64_t>(std::time(nullptr)) / kStepSeconds;
  std::int64_t matched = -1;
  for (std::int64_t step = now_step - kConfirmWindow; step <= now_step + kConfirmWindow; ++step) {
    std::array<char, 10> otp{};
    const int rc = oath_totp_generate2(totp.secret.data(), totp.secret.size(),
                                       static_cast<std::time_t>(step * kStepSeconds), kStepSeconds,
                                       OATH_TOTP_DEFAULT_START_TIME,
                                       static_cast<unsigned>(totp.digits), flags, otp.data());
    if (rc != OATH_OK) return Err(Internal(std::string("liboath: ") + oath_strerror(rc)));
    if (ConstantTimeEquals(std::string_view(otp.data(), totp.digits), code)) matched = step;
    Wipe(otp.data(), otp.size());
  }
  return matched;
}

// The authfile as it is now ("" if missing), after the checks pam_gate
// applies, so we never append to a file the module would refuse.
Result<SecretString> ReadExisting(const std::string& path, const std::string& user) {
  FilePolicy policy;
  policy.secret = true;
  policy.allowed_owners = {0, geteuid()};
  if (const struct passwd* pw = getpwnam(user.c_str()); pw != nullptr) {
    policy.allowed_owners.push_back(pw->pw_uid);
  }
  auto text = ReadSecureFile(path, policy);
  if (!text && text.error().code() == Code::kNotFound) return SecretString();
  if (!text) {
    return Err(
        text.error().WithContext("refusing to add to the authfile (pam_gate would "
                                 "refuse it too)"));
  }
  // Appending to a file pam_gate cannot parse would hide the new factor.
  auto parsed = authfile::Parse(text->view());
  if (!parsed) return Err(parsed.error().WithContext(path));
  return text;
}

// Appends entry to path atomically, holding a lock on the directory so two
// enrollments at once cannot lose a line.
Status AppendEntry(const std::string& path, const std::string& user, const authfile::Entry& entry) {
  const std::size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    return NotFound("directory " + dir + " of the authfile does not exist (create it first)");
  }
  if (flock(dir_fd.get(), LOCK_EX) != 0) return Unavailable("cannot lock " + dir);
  auto existing = ReadExisting(path, user);
  if (!existing) return existing.error();
  SecretString content = std::move(*existing);
  if (!content.empty() && content.back() != '\n') content.push_back('\n');
  content += authfile::Format(entry);
  return WriteFileAtomic(path, content.view(), 0600);
}

class MfaAddCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_flag("--local", local_,
                 "Enroll in a host's authfile for pam_gate.so (required for --type=otp)");
    sub.add_option("--type", type_, "Kind of factor: otp (TOTP app) or u2f (security key)")
        ->required()
        ->check(CLI::IsMember({"otp", "u2f"}));
    sub.add_option("--authfile", authfile_, "The authfile to add to")->capture_default_str();
    sub.add_option("--user", user_, "The user the factor is for (default: you)");
    sub.add_option("--state-dir", state_dir_,
                   "otp: pam_gate's state_dir=, where the confirmation code is marked used")
        ->capture_default_str();
    sub.add_option("--algorithm", algorithm_, "otp: HMAC algorithm")
        ->check(CLI::IsMember({"sha1", "sha256"}))
        ->capture_default_str();
    sub.add_option("--digits", digits_, "otp: code length")
        ->check(CLI::IsMember({6, 8}))
        ->capture_default_str();
    sub.add_option("--appid", appid_,
                   "u2f: the app id (FIDO relying party id) pam_gate.so checks, the same as its "
                   "appid= option, e.g. pam://host1");
    sub.add_flag("--uv", uv_,
                 "u2f: require user verification (PIN or biometric) at registration; use with "
                 "pam_gate's uv option");
    sub.footer(
        "Adds one line to the authfile pam_gate.so reads (its authfile= option). The\n"
        "file is created with mode 0600 if it does not exist; an existing file must be a\n"
        "regular file owned by root, you or USER, not accessible by group or others, and\n"
        "must parse, or nothing is written. The line is appended atomically.\n\n"
        "--type=otp: generates a 160-bit TOTP secret and shows it as a QR code and an\n"
        "otpauth:// URI. Scan it with an authenticator app and type one code to confirm;\n"
        "without a terminal the code is read from standard input. The code's time step\n"
        "is marked used in pam_gate's state (--state-dir, the module's state_dir=), so\n"
        "pam_gate never accepts that code; if that cannot be done (not root), nothing\n"
        "is written. Line written:\n"
        "  USER:totp:ALGORITHM:DIGITS:BASE32SECRET\n\n"
        "--type=u2f: registers the security key plugged into this machine (ES256, user\n"
        "presence required; touch the key when it blinks). Line written:\n"
        "  USER:fido2:APPID:CREDENTIAL_ID:PUBLIC_KEY:es256\n"
        "Fails with \"No security key found\" when no key is attached.\n\n"
        "Examples:\n"
        "  sudo gate mfa add --local --type=otp --user alice\n"
        "  sudo gate mfa add --type=u2f --appid pam://$(hostname) --user alice\n\n"
        "See pam_gate(8) for the matching /etc/pam.d lines.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    if (user_.empty()) user_ = CurrentUserName();
    if (user_.empty() || user_.find_first_of(": \t\r\n#") != std::string::npos) {
      return Fail(kTool, InvalidArgument("--user must be a user name (no ':', spaces or '#')"));
    }
    if (type_ == "otp") {
      if (!local_) {
        return Fail(kTool, InvalidArgument("OTP for gate logins is enrolled at signup; use "
                                           "--local to enroll one for pam_gate.so source=local"));
      }
      return AddOtp();
    }
    return AddU2f();
  }

 private:
  int AddOtp() {
    // Check the file before the user spends time with their phone.
    if (auto existing = ReadExisting(authfile_, user_); !existing) {
      return Fail(kTool, existing.error());
    }
    authfile::Entry entry;
    entry.user = user_;
    entry.kind = authfile::Kind::kTotp;
    entry.totp.algorithm = algorithm_;
    entry.totp.digits = digits_;
    auto raw = RandomBytes(kSecretBytes);
    if (!raw) return Fail(kTool, raw.error());
    entry.totp.secret = SecretString(*raw);
    Wipe(raw->data(), raw->size());
    auto b32 = Base32(entry.totp.secret);
    if (!b32) return Fail(kTool, b32.error());

    const std::string issuer = "gate";
    const std::string account = user_ + "@" + HostName();
    std::string upper_alg = algorithm_ == "sha256" ? "SHA256" : "SHA1";
    SecretString uri("otpauth://totp/" + PercentEncode(issuer) + ":" + PercentEncode(account) +
                     "?secret=");
    uri += b32->view();
    uri += "&issuer=" + PercentEncode(issuer) + "&algorithm=" + upper_alg +
           "&digits=" + std::to_string(digits_) + "&period=" + std::to_string(kStepSeconds);
    if (auto qr = RenderQr(uri.view()); qr) std::cerr << "\n" << *qr << "\n";
    std::cerr << "Scan the QR code with your authenticator app, or enter this URI:\n"
              << uri.view() << "\n\n";

    auto code = ReadSecret("Enter your OTP token: ");
    if (!code) return Fail(kTool, code.error());
    auto step = MatchingStep(entry.totp, code->view());
    if (!step) return Fail(kTool, step.error());
    if (*step < 0) {
      return Fail(kTool, Unauthenticated("that code is not valid; nothing was written (check "
                                         "the phone's clock and try again)"));
    }
    // The code was typed here and may still be on screen: its step is marked
    // used where pam_gate checks replays before the secret is written, so
    // pam_gate never accepts it.
    if (Status s = otp::ConsumeStep(state_dir_, user_, *step); !s.ok()) {
      return Fail(kTool, Status(s.code(),
                                "cannot mark the code as used in pam_gate's state: " + s.message() +
                                    " (run as root, the user pam_gate runs as, and "
                                    "give --state-dir pam_gate's state_dir= if it is "
                                    "not the default); nothing was written"));
    }
    if (Status s = AppendEntry(authfile_, user_, entry); !s.ok()) return Fail(kTool, s);
    std::cout << "OTP added for " << user_ << " to " << authfile_ << ".\n";
    return kExitOk;
  }

  int AddU2f() {
    if (appid_.empty()) {
      return Fail(kTool, InvalidArgument("--type=u2f needs --appid (e.g. pam://" + HostName() +
                                         "), the same value as pam_gate's appid= option"));
    }
    if (appid_.find_first_of(" \t\r\n#") != std::string::npos) {
      return Fail(kTool, InvalidArgument("--appid must not contain spaces or '#'"));
    }
    if (auto existing = ReadExisting(authfile_, user_); !existing) {
      return Fail(kTool, existing.error());
    }
    auto entry = Register();
    if (!entry) return Fail(kTool, entry.error());
    if (Status s = AppendEntry(authfile_, user_, *entry); !s.ok()) return Fail(kTool, s);
    std::cout << "Security key added for " << user_ << " (app id " << appid_ << ") to " << authfile_
              << ".\n";
    return kExitOk;
  }

  // Makes an ES256 credential on the first security key found.
  Result<authfile::Entry> Register() {
    fido_init(0);
    FidoDevInfo devlist(fido_dev_info_new(kMaxDevices));
    if (!devlist) return Err(Internal("out of memory"));
    std::size_t ndevs = 0;
    if (fido_dev_info_manifest(devlist.get(), kMaxDevices, &ndevs) != FIDO_OK || ndevs == 0) {
      return Err(NotFound("No security key found (plug one in and try again)"));
    }
    const char* path = fido_dev_info_path(fido_dev_info_ptr(devlist.get(), 0));
    FidoDev dev(fido_dev_new());
    if (!dev || path == nullptr) return Err(Internal("out of memory"));
    int rc = fido_dev_open(dev.get(), path);
    if (rc != FIDO_OK) {
      return Err(Unavailable(std::string("cannot open the security key ") + path + ": " +
                             fido_strerr(rc)));
    }

    auto challenge = RandomBytes(32);
    auto user_id = RandomBytes(32);
    if (!challenge || !user_id) return Err(Internal("random number generator failed"));
    Json::Value client_data(Json::objectValue);
    client_data["type"] = "webauthn.create";
    client_data["challenge"] = Base64Encode(*challenge);
    client_data["origin"] = appid_;
    const std::string hash = Sha256(json::Write(client_data));

    FidoCred cred(fido_cred_new());
    if (!cred) return Err(Internal("out of memory"));
    rc = fido_cred_set_type(cred.get(), COSE_ES256);
    if (rc == FIDO_OK) rc = fido_cred_set_clientdata_hash(cred.get(), Bytes(hash), hash.size());
    if (rc == FIDO_OK) rc = fido_cred_set_rp(cred.get(), appid_.c_str(), "gate");
    if (rc == FIDO_OK) {
      rc = fido_cred_set_user(cred.get(), Bytes(*user_id), user_id->size(), user_.c_str(),
                              user_.c_str(), nullptr);
    }
    if (rc == FIDO_OK) rc = fido_cred_set_rk(cred.get(), FIDO_OPT_OMIT);
    SecretString pin;
    bool use_pin = false;
    if (uv_ && !fido_dev_has_uv(dev.get()) && fido_dev_has_pin(dev.get())) {
      auto answer = ReadSecret("Enter the PIN of your security key: ");
      if (!answer) return Err(answer.error());
      pin = std::move(*answer);
      use_pin = true;
    }
    if (rc == FIDO_OK) {
      rc = fido_cred_set_uv(cred.get(), uv_ && !use_pin ? FIDO_OPT_TRUE : FIDO_OPT_OMIT);
    }
    if (rc != FIDO_OK) return Err(Internal(std::string("libfido2: ") + fido_strerr(rc)));

    fido_dev_set_timeout(dev.get(), kTouchTimeoutMs);
    std::cerr << "Touch your security key\n";
    rc = fido_dev_make_cred(dev.get(), cred.get(), use_pin ? pin.c_str() : nullptr);
    if (rc != FIDO_OK) {
      return Err(
          Unauthenticated(std::string("the security key did not register: ") + fido_strerr(rc)));
    }
    // Packed attestation with a certificate, or self attestation.
    rc = fido_cred_x5c_len(cred.get()) > 0 ? fido_cred_verify(cred.get())
                                           : fido_cred_verify_self(cred.get());
    if (rc != FIDO_OK) {
      return Err(Unauthenticated(std::string("the key's attestation does not verify: ") +
                                 fido_strerr(rc)));
    }
    const std::uint8_t flags = fido_cred_flags(cred.get());
    if ((flags & 0x01) == 0) return Err(Unauthenticated("the key did not confirm user presence"));
    if (uv_ && (flags & 0x04) == 0) {
      return Err(Unauthenticated("the key did not verify the user (--uv)"));
    }

    authfile::Entry entry;
    entry.user = user_;
    entry.kind = authfile::Kind::kFido2;
    entry.fido2.rp_id = appid_;
    entry.fido2.cose_alg = "es256";
    entry.fido2.credential_id.assign(reinterpret_cast<const char*>(fido_cred_id_ptr(cred.get())),
                                     fido_cred_id_len(cred.get()));
    // libfido2 gives ES256 keys as X||Y; the authfile stores 0x04||X||Y.
    const std::size_t pk_len = fido_cred_pubkey_len(cred.get());
    if (pk_len != 64 || entry.fido2.credential_id.empty()) {
      return Err(DataLoss("the security key returned an unexpected credential"));
    }
    entry.fido2.public_key =
        std::string(1, '\x04') +
        std::string(reinterpret_cast<const char*>(fido_cred_pubkey_ptr(cred.get())), pk_len);
    return entry;
  }

  bool local_ = false;
  std::string type_;
  std::string authfile_ = "/etc/gate/pam_gate.authfile";
  std::string user_;
  std::string state_dir_ = std::string(otp::kDefaultStateDir);
  std::string algorithm_ = "sha1";
  int digits_ = 6;
  std::string appid_;
  bool uv_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeMfaAddCommand() { return std::make_unique<MfaAddCommand>(); }

}  // namespace gate::cli
