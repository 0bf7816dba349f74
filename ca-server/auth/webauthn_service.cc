#include "ca-server/auth/webauthn_service.h"

#include <utility>

namespace gate::ca {
namespace {

std::vector<webauthn::Bytes> KeysOf(const std::vector<MfaDevice>& devices) {
  std::vector<webauthn::Bytes> keys;
  for (const MfaDevice& d : devices) {
    if (d.kind == DeviceKind::kWebauthn) keys.push_back(d.credential_id);
  }
  return keys;
}

}  // namespace

Status WebauthnService::Refuse(const std::string& user, std::string_view event,
                               const std::string& source, std::int64_t now,
                               const std::string& detail, Status status) {
  audit_.Record({now, std::string(event), user, source, false, detail});
  return status;
}

Result<WebauthnCeremony> WebauthnService::BeginRegistration(const std::string& user,
                                                            std::int64_t now) {
  Result<std::vector<MfaDevice>> devices = store_.ListDevices(user);
  if (!devices) return Err(devices.error());
  Result<webauthn::Bytes> challenge = challenges_.Issue(user, ChallengePurpose::kRegister, now);
  if (!challenge) return Err(challenge.error());
  return WebauthnCeremony{*std::move(challenge), rp_.id, rp_.require_user_verification,
                          KeysOf(*devices)};
}

Result<MfaDevice> WebauthnService::FinishRegistration(
    const std::string& user, const std::string& name,
    const webauthn::RegistrationResponse& response, const std::string& source, std::int64_t now) {
  const std::string event(kWebauthnRegisterEvent);
  Result<webauthn::Bytes> challenge = challenges_.Take(user, ChallengePurpose::kRegister, now);
  if (!challenge)
    return Err(Refuse(user, event, source, now, name + ": " + challenge.error().message(),
                      challenge.error()));
  Result<webauthn::Credential> credential = webauthn::VerifyRegistration(rp_, *challenge, response);
  if (!credential) {
    return Err(Refuse(user, event, source, now, name + ": " + credential.error().message(),
                      credential.error()));
  }
  MfaDevice device;
  device.user = user;
  device.name = name;
  device.kind = DeviceKind::kWebauthn;
  device.created_at = now;
  device.credential_id = credential->credential_id;
  device.public_key = credential->public_key;
  device.cose_alg = credential->cose_alg;
  device.sign_count = credential->sign_count;
  device.flags = credential->flags;
  if (Status added = store_.AddDevice(device); !added.ok()) {
    return Err(Refuse(user, event, source, now, name + ": " + added.message(), added));
  }
  audit_.Record({now, event, user, source, true,
                 name + ": " + credential->fmt + " attestation, COSE " +
                     std::to_string(credential->cose_alg)});
  return device;
}

Result<WebauthnCeremony> WebauthnService::BeginLogin(const std::string& user, std::int64_t now) {
  Result<std::vector<MfaDevice>> devices = store_.ListDevices(user);
  if (!devices) return Err(devices.error());
  std::vector<webauthn::Bytes> keys = KeysOf(*devices);
  if (keys.empty()) return Err(FailedPrecondition("no security key is registered for this user"));
  Result<webauthn::Bytes> challenge = challenges_.Issue(user, ChallengePurpose::kLogin, now);
  if (!challenge) return Err(challenge.error());
  return WebauthnCeremony{*std::move(challenge), rp_.id, rp_.require_user_verification,
                          std::move(keys)};
}

Status WebauthnService::FinishLogin(const std::string& user,
                                    const webauthn::AssertionResponse& response,
                                    const std::string& source, std::int64_t now) {
  const std::string event(kWebauthnLoginEvent);
  Result<webauthn::Bytes> challenge = challenges_.Take(user, ChallengePurpose::kLogin, now);
  if (!challenge)
    return Refuse(user, event, source, now, challenge.error().message(), challenge.error());
  Result<std::vector<MfaDevice>> devices = store_.ListDevices(user);
  if (!devices) return devices.error();
  const MfaDevice* key = nullptr;
  for (const MfaDevice& d : *devices) {
    if (d.kind == DeviceKind::kWebauthn && d.credential_id == response.credential_id) key = &d;
  }
  if (key == nullptr) {
    return Refuse(user, event, source, now, "unknown security key",
                  Unauthenticated("this security key is not registered for the user"));
  }
  Result<webauthn::VerifiedAssertion> verified = webauthn::VerifyAssertion(
      rp_, *challenge, {key->public_key, static_cast<int>(key->cose_alg)}, response);
  if (!verified) {
    return Refuse(user, event, source, now, key->name + ": " + verified.error().message(),
                  verified.error());
  }
  Result<bool> fresh =
      store_.ConsumeWebauthnCounter(user, key->credential_id, verified->sign_count, now);
  if (!fresh) return fresh.error();
  if (!*fresh) {
    return Refuse(user, event, source, now,
                  key->name + ": signature counter " + std::to_string(verified->sign_count) +
                      " did not move forward from " + std::to_string(key->sign_count) +
                      ": possibly a cloned security key",
                  Unauthenticated("security key refused: its signature counter went backwards"));
  }
  audit_.Record({now, event, user, source, true, key->name});
  return Status::Ok();
}

}  // namespace gate::ca
