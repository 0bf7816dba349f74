#include "pam_module/fido.h"

#include <memory>
#include <string>
#include <vector>

#include "gate/bytes.h"
#include "gate/fido_ptr.h"
#include "gate/log.h"
#include "gate/names.h"
#include "gate/secret.h"
#include "pam_module/user_file.h"

namespace gate::pam {
namespace {

using fido::kMaxDevices;
using fido::kTouchTimeoutMs;
using FidoAssert = fido::Assert;
using Es256Pk = fido::Es256Pk;
using EddsaPk = fido::EddsaPk;
using FidoDevInfo = fido::DevInfo;
using FidoDev = fido::Dev;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string_view View(const unsigned char* p, std::size_t len) {
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p), len};
}

void LogWarning(std::string_view what) { log::Warning(std::string("u2f: ") + std::string(what)); }

void LogFido(std::string_view what, int rc) {
  LogWarning(std::string(what) + ": " + fido_strerr(rc));
}

// s as a JSON string (RFC 8259), escaped as jsoncpp escapes it: quotes,
// backslashes and control characters; other bytes (UTF-8) as they are.
std::string JsonString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// The stored public key in libfido2's form, and its COSE algorithm.
struct PublicKey {
  int cose_alg = COSE_UNSPEC;
  Es256Pk es256;
  EddsaPk eddsa;
  const void* get() const {
    return cose_alg == COSE_ES256 ? static_cast<const void*>(es256.get())
                                  : static_cast<const void*>(eddsa.get());
  }
};

// kError (and a log line) when the stored key cannot be used.
bool LoadPublicKey(const authfile::Fido2Entry& cred, PublicKey* out) {
  if (cred.cose_alg == "es256") {
    out->cose_alg = COSE_ES256;
    out->es256.reset(es256_pk_new());
    if (!out->es256) return false;
    // Accepts the 65-byte uncompressed point (0x04||X||Y) or bare X||Y.
    int rc = es256_pk_from_ptr(out->es256.get(), cred.public_key.data(), cred.public_key.size());
    if (rc != FIDO_OK) {
      LogFido("stored es256 public key is malformed", rc);
      return false;
    }
    return true;
  }
  if (cred.cose_alg == "eddsa") {
    out->cose_alg = COSE_EDDSA;
    out->eddsa.reset(eddsa_pk_new());
    if (!out->eddsa) return false;
    int rc = eddsa_pk_from_ptr(out->eddsa.get(), cred.public_key.data(), cred.public_key.size());
    if (rc != FIDO_OK) {
      LogFido("stored eddsa public key is malformed", rc);
      return false;
    }
    return true;
  }
  LogWarning("stored credential has unsupported algorithm '" + cred.cose_alg + "'");
  return false;
}

class FidoFactor final : public Factor {
 public:
  Outcome Authenticate(FactorContext& context) override;

 private:
  // Asks one opened key for an assertion over the user's credentials and
  // verifies what it returns. kUnavailable means "try the next key".
  Outcome AskKey(fido_dev_t* dev, FactorContext& context,
                 const std::vector<authfile::Fido2Entry>& creds, std::string_view rp_id,
                 std::string_view client_data_hash);
};

Outcome FidoFactor::Authenticate(FactorContext& context) {
  const Options& options = context.options;
  if (options.appid.empty()) {
    log::Error(
        "second_factor=u2f needs appid= on the PAM line (the U2F app id, "
        "e.g. appid=pam://host1)");
    return Outcome::kError;
  }

  auto file = LoadUserAuthfile(context, "u2f", "security key");
  if (!file) return Outcome::kError;
  const auto mine = authfile::ForUser(file->entries, context.gate_user, authfile::Kind::kFido2);
  if (mine.empty()) {
    log::Info("" + context.gate_user + " has no security key enrolled in " + file->path);
    return Outcome::kNotEnrolled;
  }
  std::vector<authfile::Fido2Entry> creds;
  for (const auto& e : mine) {
    if (e.fido2.rp_id == options.appid) creds.push_back(e.fido2);
  }
  if (creds.empty()) {
    // Keys registered for another app id cannot answer for this one. This is
    // a configuration mismatch, not "not enrolled": nullok must not turn it
    // into a pass.
    LogWarning("user " + context.gate_user + " has security keys, but none registered for app id " +
               options.appid + " (gate mfa add --type=u2f --appid " + options.appid + ")");
    context.conversation.Error("Your security key is not registered for this host.");
    return Outcome::kError;
  }

  // A fresh challenge per attempt: an assertion recorded earlier is useless.
  auto challenge = RandomBytes(32);
  if (!challenge) {
    log::Error("u2f: " + challenge.error().ToString());
    return Outcome::kError;
  }
  // An app id with a scheme ("pam://host1", as gate mfa add suggests) is
  // already an origin.
  const std::string origin = !options.origin.empty() ? options.origin
                             : options.appid.find("://") != std::string::npos
                                 ? options.appid
                                 : "pam://" + options.appid;
  const std::string client_data_hash = Sha256(FidoClientData(*challenge, origin));

  fido_init(0);
  FidoDevInfo devlist(fido_dev_info_new(kMaxDevices));
  if (!devlist) return Outcome::kError;
  std::size_t ndevs = 0;
  int rc = fido_dev_info_manifest(devlist.get(), kMaxDevices, &ndevs);
  if (rc != FIDO_OK || ndevs == 0) {
    if (rc != FIDO_OK) LogFido("listing security keys failed", rc);
    LogWarning("no security key found");
    context.conversation.Error("No security key found");
    return Outcome::kUnavailable;
  }

  Outcome result = Outcome::kUnavailable;
  for (std::size_t i = 0; i < ndevs; ++i) {
    const fido_dev_info_t* info = fido_dev_info_ptr(devlist.get(), i);
    const char* dev_path = info == nullptr ? nullptr : fido_dev_info_path(info);
    if (dev_path == nullptr) continue;
    FidoDev dev(fido_dev_new());
    if (!dev) return Outcome::kError;
    rc = fido_dev_open(dev.get(), dev_path);
    if (rc != FIDO_OK) {
      LogFido(std::string("cannot open security key ") + dev_path, rc);
      continue;
    }
    result = AskKey(dev.get(), context, creds, options.appid, client_data_hash);
    if (result != Outcome::kUnavailable) return result;
  }
  if (result == Outcome::kUnavailable) {
    context.conversation.Error("No security key found");
  }
  return result;
}

Outcome FidoFactor::AskKey(fido_dev_t* dev, FactorContext& context,
                           const std::vector<authfile::Fido2Entry>& creds, std::string_view rp_id,
                           std::string_view client_data_hash) {
  const Options& options = context.options;
  FidoAssert request(fido_assert_new());
  if (!request) return Outcome::kError;
  const std::string rp(rp_id);
  int rc = fido_assert_set_rp(request.get(), rp.c_str());
  if (rc == FIDO_OK) {
    rc = fido_assert_set_clientdata_hash(request.get(), Bytes(client_data_hash),
                                         client_data_hash.size());
  }
  for (const auto& cred : creds) {
    if (rc != FIDO_OK) break;
    rc =
        fido_assert_allow_cred(request.get(), Bytes(cred.credential_id), cred.credential_id.size());
  }
  if (rc == FIDO_OK) rc = fido_assert_set_up(request.get(), FIDO_OPT_TRUE);

  // With a PIN, the key verifies the user through the PIN; asking for the
  // uv option as well is refused by CTAP 2.0 keys. The UV flag is checked
  // in VerifyAssertion either way.
  SecretString pin;
  bool use_pin = false;
  if (options.user_verification && !fido_dev_has_uv(dev) && fido_dev_has_pin(dev)) {
    if (!context.conversation.PromptSecret("Enter the PIN of your security key: ", &pin)) {
      return Outcome::kFailure;
    }
    use_pin = true;
  }
  if (rc == FIDO_OK) {
    rc = fido_assert_set_uv(request.get(),
                            options.user_verification && !use_pin ? FIDO_OPT_TRUE : FIDO_OPT_OMIT);
  }
  if (rc != FIDO_OK) {
    LogFido("building the assertion request failed", rc);
    return Outcome::kError;
  }

  fido_dev_set_timeout(dev, kTouchTimeoutMs);
  if (options.cue) context.conversation.Info("Touch your security key");
  rc = fido_dev_get_assert(dev, request.get(), use_pin ? pin.c_str() : nullptr);
  switch (rc) {
    case FIDO_OK:
      break;
    case FIDO_ERR_NO_CREDENTIALS:
    case FIDO_ERR_INVALID_CREDENTIAL:
      // Not the user's key; another one may be.
      LogFido("a security key holds none of the user's credentials", rc);
      return Outcome::kUnavailable;
    case FIDO_ERR_ACTION_TIMEOUT:
    case FIDO_ERR_USER_ACTION_TIMEOUT:
      LogFido("security key was not touched in time", rc);
      context.conversation.Error("The security key was not touched in time.");
      return Outcome::kFailure;
    case FIDO_ERR_PIN_INVALID:
    case FIDO_ERR_PIN_BLOCKED:
    case FIDO_ERR_PIN_AUTH_BLOCKED:
    case FIDO_ERR_PIN_REQUIRED:
    case FIDO_ERR_UV_INVALID:
    case FIDO_ERR_UV_BLOCKED:
    case FIDO_ERR_OPERATION_DENIED:
      LogFido("security key refused the assertion", rc);
      context.conversation.Error("The security key refused: " + std::string(fido_strerr(rc)));
      return Outcome::kFailure;
    default:
      LogFido("getting an assertion from the security key failed", rc);
      return Outcome::kError;
  }

  Outcome outcome = Outcome::kFailure;
  const std::size_t count = fido_assert_count(request.get());
  for (std::size_t idx = 0; idx < count; ++idx) {
    const std::string_view id =
        View(fido_assert_id_ptr(request.get(), idx), fido_assert_id_len(request.get(), idx));
    for (const auto& cred : creds) {
      if (id.empty() || id != cred.credential_id) continue;
      Assertion assertion;
      assertion.authdata = View(fido_assert_authdata_ptr(request.get(), idx),
                                fido_assert_authdata_len(request.get(), idx));
      assertion.encoding = AuthdataEncoding::kCbor;
      assertion.signature =
          View(fido_assert_sig_ptr(request.get(), idx), fido_assert_sig_len(request.get(), idx));
      outcome =
          VerifyAssertion(cred, rp_id, client_data_hash, assertion, options.user_verification);
      if (outcome == Outcome::kSuccess) return outcome;
    }
  }
  if (count == 0) LogWarning("security key returned no assertion");
  return outcome == Outcome::kError ? Outcome::kError : Outcome::kFailure;
}

}  // namespace

std::string FidoClientData(std::string_view challenge, std::string_view origin) {
  // Written by hand: the plugin would otherwise load libjsoncpp (and with
  // it the shared libstdc++) for these four members. The challenge is
  // base64url, so only the origin needs escaping.
  return R"({"challenge":")" + Base64UrlEncode(challenge) + R"(","crossOrigin":false,"origin":)" +
         JsonString(origin) + R"(,"type":"webauthn.get"})";
}

Outcome VerifyAssertion(const authfile::Fido2Entry& cred, std::string_view rp_id,
                        std::string_view client_data_hash, const Assertion& assertion,
                        bool require_uv) {
  if (rp_id.empty() || client_data_hash.size() != 32) {
    LogWarning("verification needs an rp id and a 32-byte client data hash");
    return Outcome::kError;
  }
  PublicKey pk;
  if (!LoadPublicKey(cred, &pk)) return Outcome::kError;

  FidoAssert a(fido_assert_new());
  if (!a) return Outcome::kError;
  const std::string rp(rp_id);
  int rc = fido_assert_set_rp(a.get(), rp.c_str());
  if (rc == FIDO_OK) {
    rc = fido_assert_set_clientdata_hash(a.get(), Bytes(client_data_hash), client_data_hash.size());
  }
  if (rc == FIDO_OK) rc = fido_assert_set_count(a.get(), 1);
  // What fido_assert_verify demands of the flags, on top of our own check.
  if (rc == FIDO_OK) rc = fido_assert_set_up(a.get(), FIDO_OPT_TRUE);
  if (rc == FIDO_OK) rc = fido_assert_set_uv(a.get(), require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT);
  if (rc != FIDO_OK) {
    LogFido("setting up verification failed", rc);
    return Outcome::kError;
  }

  // From here on, anything wrong is the assertion's fault: kFailure.
  rc = assertion.encoding == AuthdataEncoding::kRaw
           ? fido_assert_set_authdata_raw(a.get(), 0, Bytes(assertion.authdata),
                                          assertion.authdata.size())
           : fido_assert_set_authdata(a.get(), 0, Bytes(assertion.authdata),
                                      assertion.authdata.size());
  if (rc != FIDO_OK) {
    LogFido("malformed authenticator data", rc);
    return Outcome::kFailure;
  }
  rc = fido_assert_set_sig(a.get(), 0, Bytes(assertion.signature), assertion.signature.size());
  if (rc != FIDO_OK) {
    LogFido("malformed signature", rc);
    return Outcome::kFailure;
  }
  const std::uint8_t flags = fido_assert_flags(a.get(), 0);
  if ((flags & kFidoFlagUserPresent) == 0) {
    LogWarning("assertion without user presence refused");
    return Outcome::kFailure;
  }
  if (require_uv && (flags & kFidoFlagUserVerified) == 0) {
    LogWarning("assertion without user verification refused (uv is required)");
    return Outcome::kFailure;
  }
  rc = fido_assert_verify(a.get(), 0, pk.cose_alg, pk.get());
  if (rc != FIDO_OK) {
    LogFido("assertion verification failed", rc);
    return Outcome::kFailure;
  }
  return Outcome::kSuccess;
}

std::unique_ptr<Factor> MakeFido() { return std::make_unique<FidoFactor>(); }

}  // namespace gate::pam
