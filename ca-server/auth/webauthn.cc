// WebAuthn registration and assertion verification (webauthn.h) with
// libfido2.
#include "ca-server/auth/webauthn.h"

#include <fido.h>

#include <string>

#include "gate/bytes.h"
#include "gate/fido_ptr.h"
#include "gate/secret.h"

namespace gate::ca::webauthn {
namespace {

constexpr std::size_t kRpIdHashBytes = 32;
constexpr std::size_t kMinAuthData = kRpIdHashBytes + 1 + 4;  // hash, flags, counter
constexpr std::size_t kAaguidBytes = 16;

const unsigned char* Ptr(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The checks on authenticatorData's fixed head that are ours to make (and
// to name): RP ID hash, UP, UV.
Status CheckAuthDataHead(std::string_view auth_data, const RelyingParty& rp) {
  if (auth_data.size() > kMaxAuthenticatorData) {
    return InvalidArgument("authenticatorData is larger than 4096 bytes");
  }
  if (auth_data.size() < kMinAuthData) return InvalidArgument("authenticatorData is truncated");
  if (!ConstantTimeEquals(auth_data.substr(0, kRpIdHashBytes), Sha256(rp.id))) {
    return Unauthenticated("authenticatorData is for another RP ID");
  }
  const auto flags = static_cast<std::uint8_t>(auth_data[kRpIdHashBytes]);
  if ((flags & kFlagUserPresent) == 0) {
    return Unauthenticated("the security key did not report user presence");
  }
  if (rp.require_user_verification && (flags & kFlagUserVerified) == 0) {
    return Unauthenticated("the security key did not verify the user (required)");
  }
  // What follows the head is CBOR (the attested credential's COSE key,
  // extensions) that libfido2 decodes with libcbor; libcbor allocates for
  // the counts headers claim, so they are checked against the input first.
  std::size_t cbor_start = kMinAuthData;
  if ((flags & kFlagAttestedData) != 0) {
    const std::size_t id_at = kMinAuthData + kAaguidBytes + 2;
    if (auth_data.size() < id_at) return InvalidArgument("authenticatorData is truncated");
    const std::size_t id_len =
        (static_cast<std::size_t>(static_cast<std::uint8_t>(auth_data[id_at - 2])) << 8) |
        static_cast<std::uint8_t>(auth_data[id_at - 1]);
    if (auth_data.size() - id_at < id_len) return InvalidArgument("authenticatorData is truncated");
    cbor_start = id_at + id_len;
  }
  return CheckCborItems(auth_data.substr(cbor_start));
}

// A cred of the given type with authData parsed; null on a parse failure.
fido::Cred ParseCred(int cose_alg, std::string_view auth_data) {
  fido::Cred cred(fido_cred_new());
  if (!cred || fido_cred_set_type(cred.get(), cose_alg) != FIDO_OK ||
      fido_cred_set_authdata_raw(cred.get(), Ptr(auth_data), auth_data.size()) != FIDO_OK) {
    return fido::Cred(nullptr);
  }
  return cred;
}

Bytes ToBytes(const unsigned char* p, std::size_t n) {
  return p == nullptr ? Bytes() : Bytes(p, p + n);
}

}  // namespace

Result<Credential> VerifyRegistration(const RelyingParty& rp, const Bytes& challenge,
                                      const RegistrationResponse& response) {
  GATE_RETURN_IF_ERROR(
      CheckClientData(response.client_data_json, "webauthn.create", challenge, rp));
  Result<AttestationParts> parts = SplitAttestationObject(response.attestation_object);
  if (!parts) return Err(parts.error());
  if (parts->fmt != "none" && parts->fmt != "packed") {
    return Err(Unauthenticated("attestation format is not none or packed"));
  }
  GATE_RETURN_IF_ERROR(CheckAuthDataHead(parts->auth_data, rp));
  if ((static_cast<std::uint8_t>(parts->auth_data[kRpIdHashBytes]) & kFlagAttestedData) == 0) {
    return Err(InvalidArgument("authenticatorData holds no credential"));
  }

  // libfido2 parses the attested credential for one key type at a time.
  int cose_alg = kCoseEs256;
  fido::Cred cred = ParseCred(cose_alg, parts->auth_data);
  if (!cred) {
    cose_alg = kCoseEdDsa;
    cred = ParseCred(cose_alg, parts->auth_data);
  }
  if (!cred) {
    return Err(InvalidArgument("authenticatorData is malformed or its key is not ES256 or EdDSA"));
  }
  const std::string client_data_hash = Sha256(response.client_data_json);
  int rc =
      fido_cred_set_clientdata_hash(cred.get(), Ptr(client_data_hash), client_data_hash.size());
  if (rc == FIDO_OK) rc = fido_cred_set_rp(cred.get(), rp.id.c_str(), nullptr);
  if (rc == FIDO_OK) rc = fido_cred_set_fmt(cred.get(), parts->fmt.c_str());
  if (rc != FIDO_OK) return Err(Internal(std::string("libfido2: ") + fido_strerr(rc)));
  if (parts->fmt == "packed") {
    rc = fido_cred_set_attstmt(cred.get(), Ptr(parts->att_stmt), parts->att_stmt.size());
    if (rc != FIDO_OK) return Err(InvalidArgument("packed attestation statement is malformed"));
    rc = fido_cred_x5c_len(cred.get()) > 0 ? fido_cred_verify(cred.get())
                                           : fido_cred_verify_self(cred.get());
    if (rc != FIDO_OK) return Err(Unauthenticated("attestation signature does not verify"));
  } else if (parts->att_stmt.size() != 1) {  // 0xa0, the empty map
    return Err(InvalidArgument("attestation format none carries a statement"));
  }

  Credential out;
  out.credential_id = ToBytes(fido_cred_id_ptr(cred.get()), fido_cred_id_len(cred.get()));
  out.public_key = ToBytes(fido_cred_pubkey_ptr(cred.get()), fido_cred_pubkey_len(cred.get()));
  if (out.credential_id.empty() || out.credential_id.size() > kMaxCredentialId ||
      out.public_key.empty()) {
    return Err(InvalidArgument("the credential id or public key is missing or too long"));
  }
  out.cose_alg = cose_alg;
  out.sign_count = fido_cred_sigcount(cred.get());
  out.flags = fido_cred_flags(cred.get());
  out.fmt = parts->fmt;
  return out;
}

Result<VerifiedAssertion> VerifyAssertion(const RelyingParty& rp, const Bytes& challenge,
                                          const StoredKey& key, const AssertionResponse& response) {
  if (response.credential_id.size() > kMaxCredentialId) {
    return Err(InvalidArgument("credential id is longer than 1023 bytes"));
  }
  if (response.signature.empty() || response.signature.size() > kMaxSignature) {
    return Err(InvalidArgument("signature is empty or larger than 512 bytes"));
  }
  GATE_RETURN_IF_ERROR(CheckClientData(response.client_data_json, "webauthn.get", challenge, rp));
  GATE_RETURN_IF_ERROR(CheckAuthDataHead(response.authenticator_data, rp));

  fido::Es256Pk es256;
  fido::EddsaPk eddsa;
  const void* pk = nullptr;
  if (key.cose_alg == kCoseEs256) {
    es256.reset(es256_pk_new());
    if (es256 &&
        es256_pk_from_ptr(es256.get(), key.public_key.data(), key.public_key.size()) == FIDO_OK) {
      pk = es256.get();
    }
  } else if (key.cose_alg == kCoseEdDsa) {
    eddsa.reset(eddsa_pk_new());
    if (eddsa &&
        eddsa_pk_from_ptr(eddsa.get(), key.public_key.data(), key.public_key.size()) == FIDO_OK) {
      pk = eddsa.get();
    }
  }
  if (pk == nullptr) return Err(Internal("the stored public key is unusable"));

  fido::Assert a(fido_assert_new());
  if (!a) return Err(Internal("libfido2: out of memory"));
  const std::string client_data_hash = Sha256(response.client_data_json);
  int rc = fido_assert_set_rp(a.get(), rp.id.c_str());
  if (rc == FIDO_OK) {
    rc = fido_assert_set_clientdata_hash(a.get(), Ptr(client_data_hash), client_data_hash.size());
  }
  if (rc == FIDO_OK) rc = fido_assert_set_count(a.get(), 1);
  if (rc == FIDO_OK) rc = fido_assert_set_up(a.get(), FIDO_OPT_TRUE);
  if (rc == FIDO_OK) {
    rc = fido_assert_set_uv(a.get(), rp.require_user_verification ? FIDO_OPT_TRUE : FIDO_OPT_OMIT);
  }
  if (rc != FIDO_OK) return Err(Internal(std::string("libfido2: ") + fido_strerr(rc)));
  if (fido_assert_set_authdata_raw(a.get(), 0, Ptr(response.authenticator_data),
                                   response.authenticator_data.size()) != FIDO_OK) {
    return Err(InvalidArgument("authenticatorData is malformed"));
  }
  if (fido_assert_set_sig(a.get(), 0, Ptr(response.signature), response.signature.size()) !=
      FIDO_OK) {
    return Err(InvalidArgument("signature is malformed"));
  }
  if (fido_assert_verify(a.get(), 0, key.cose_alg, pk) != FIDO_OK) {
    return Err(Unauthenticated("assertion signature does not verify"));
  }
  VerifiedAssertion out;
  out.sign_count = fido_assert_sigcount(a.get(), 0);
  out.flags = fido_assert_flags(a.get(), 0);
  return out;
}

}  // namespace gate::ca::webauthn
