// Store conformance: second-factor devices (TOTP apps and security keys).
// Part of the typed suite in store_conformance.h; every backend must pass it.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_DEVICES_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_DEVICES_H_

#include "ca-server/store_conformance.h"

namespace gate::ca::store_conformance {

using Bytes = std::vector<std::uint8_t>;

inline MfaDevice SecurityKey(const std::string& user, const std::string& name, Bytes credential_id,
                             std::int64_t created_at) {
  MfaDevice key;
  key.user = user;
  key.name = name;
  key.kind = DeviceKind::kWebauthn;
  key.created_at = created_at;
  key.credential_id = std::move(credential_id);
  key.public_key = {0xa5, 0x01, 0x02, 0x03, 0x26, 0x00};
  key.cose_alg = -7;
  key.sign_count = 10;
  key.flags = 0x45;
  return key;
}

inline MfaDevice TotpApp(const std::string& user, const std::string& name,
                         std::int64_t created_at) {
  MfaDevice app;
  app.user = user;
  app.name = name;
  app.kind = DeviceKind::kTotp;
  app.created_at = created_at;
  app.totp_secret = SecretString(name + "-seed");
  return app;
}

inline std::vector<std::string> DeviceNames(const Result<std::vector<MfaDevice>>& devices) {
  std::vector<std::string> names;
  if (devices) {
    for (const MfaDevice& d : *devices) names.push_back(d.name);
  }
  return names;
}

TYPED_TEST_P(StoreConformanceTest, DevicesRoundTripEveryFieldOldestFirst) {
  this->CreateOtpUser("alice");  // "otp", created 1700000000
  MfaDevice key = SecurityKey("alice", "yubikey", {0x00, 0xff, 0x10}, 1700000100);
  key.last_used_at = 1700000200;
  ASSERT_TRUE(this->store_->AddDevice(key).ok());
  ASSERT_TRUE(this->store_->AddDevice(TotpApp("alice", "phone", 1700000050)).ok());

  Result<std::vector<MfaDevice>> devices = this->store_->ListDevices("alice");
  ASSERT_TRUE(devices.has_value()) << devices.error().ToString();
  EXPECT_EQ(DeviceNames(devices), (Strings{"otp", "phone", "yubikey"}));
  const MfaDevice& otp = (*devices)[0];
  EXPECT_EQ(otp.kind, DeviceKind::kTotp);
  EXPECT_EQ(otp.totp_secret.view(), "otp-seed");
  EXPECT_EQ(otp.last_totp_step, -1);
  EXPECT_EQ(otp.created_at, 1700000000);
  EXPECT_TRUE(otp.credential_id.empty());
  const MfaDevice& got = (*devices)[2];
  EXPECT_EQ(got.user, "alice");
  EXPECT_EQ(got.kind, DeviceKind::kWebauthn);
  EXPECT_EQ(got.created_at, 1700000100);
  EXPECT_EQ(got.last_used_at, 1700000200);
  EXPECT_EQ(got.credential_id, key.credential_id);
  EXPECT_EQ(got.public_key, key.public_key);
  EXPECT_EQ(got.cose_alg, -7);
  EXPECT_EQ(got.sign_count, 10);
  EXPECT_EQ(got.flags, 0x45);
  EXPECT_TRUE(got.totp_secret.empty());
  // The user's OTP is still its first TOTP device.
  EXPECT_EQ(this->store_->GetUser("alice")->totp_secret.view(), "otp-seed");

  this->CreateUser("bob");
  EXPECT_TRUE(this->store_->ListDevices("bob")->empty());
  EXPECT_EQ(this->store_->ListDevices("nobody").error().code(), Code::kNotFound);
  EXPECT_STREQ(DeviceKindName(DeviceKind::kTotp), "totp");
  EXPECT_STREQ(DeviceKindName(DeviceKind::kWebauthn), "webauthn");
}

TYPED_TEST_P(StoreConformanceTest, AddDeviceRefusesBadInputAndChangesNothing) {
  this->CreateOtpUser("alice");
  this->CreateUser("bob");
  ASSERT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {1, 2, 3}, 5)).ok());

  MfaDevice no_name = SecurityKey("alice", "", {9}, 5);
  MfaDevice long_name = SecurityKey("alice", std::string(65, 'k'), {9}, 5);
  MfaDevice no_secret = TotpApp("alice", "phone", 5);
  no_secret.totp_secret = SecretString();
  MfaDevice no_credential = SecurityKey("alice", "k2", {}, 5);
  MfaDevice no_public_key = SecurityKey("alice", "k2", {9}, 5);
  no_public_key.public_key.clear();
  MfaDevice mixed = SecurityKey("alice", "k2", {9}, 5);
  mixed.totp_secret = SecretString("x");
  MfaDevice negative = SecurityKey("alice", "k2", {9}, 5);
  negative.sign_count = -1;
  for (const MfaDevice& bad :
       {no_name, long_name, no_secret, no_credential, no_public_key, mixed, negative}) {
    EXPECT_EQ(this->store_->AddDevice(bad).code(), Code::kInvalidArgument) << bad.name;
  }
  EXPECT_TRUE(this->store_->AddDevice(SecurityKey("alice", std::string(64, 'k'), {8}, 5)).ok());
  EXPECT_EQ(this->store_->AddDevice(SecurityKey("nobody", "key", {9}, 5)).code(), Code::kNotFound);
  // A name is unique per user; a credential id across every user.
  EXPECT_EQ(this->store_->AddDevice(SecurityKey("alice", "key", {9}, 5)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(this->store_->AddDevice(TotpApp("alice", "otp", 5)).code(), Code::kAlreadyExists);
  EXPECT_EQ(this->store_->AddDevice(SecurityKey("bob", "key", {1, 2, 3}, 5)).code(),
            Code::kAlreadyExists);
  EXPECT_TRUE(this->store_->AddDevice(SecurityKey("bob", "key", {1, 2, 4}, 5)).ok());
  EXPECT_EQ(DeviceNames(this->store_->ListDevices("alice")),
            (Strings{"key", std::string(64, 'k'), "otp"}));
}

TYPED_TEST_P(StoreConformanceTest, RemoveDeviceAndTheNextTotpDeviceServesOtp) {
  this->CreateOtpUser("alice");
  ASSERT_TRUE(this->store_->AddDevice(TotpApp("alice", "phone", 1800000000)).ok());
  ASSERT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {7}, 1800000001)).ok());
  EXPECT_EQ(this->store_->RemoveDevice("alice", "nothing").code(), Code::kNotFound);
  EXPECT_EQ(this->store_->RemoveDevice("nobody", "otp").code(), Code::kNotFound);

  ASSERT_TRUE(this->store_->RemoveDevice("alice", "otp").ok());
  EXPECT_EQ(this->store_->GetUser("alice")->totp_secret.view(), "phone-seed");
  ASSERT_TRUE(this->store_->ConsumeTotpStep("alice", 3).value_or(false));
  EXPECT_EQ(this->store_->ListDevices("alice")->front().last_totp_step, 3);
  ASSERT_TRUE(this->store_->RemoveDevice("alice", "phone").ok());
  EXPECT_TRUE(this->store_->GetUser("alice")->totp_secret.empty());
  EXPECT_EQ(this->store_->GetUser("alice")->last_totp_step, -1);
  // No TOTP device: no step is ever fresh.
  EXPECT_EQ(this->store_->ConsumeTotpStep("alice", 4), Result<bool>(false));
  EXPECT_EQ(DeviceNames(this->store_->ListDevices("alice")), (Strings{"key"}));
  // The key's credential id is free again once removed.
  ASSERT_TRUE(this->store_->RemoveDevice("alice", "key").ok());
  EXPECT_TRUE(this->store_->AddDevice(SecurityKey("alice", "again", {7}, 5)).ok());
}

TYPED_TEST_P(StoreConformanceTest, WebauthnCounterOnlyMovesForward) {
  this->CreateUser("alice");
  this->CreateUser("bob");
  ASSERT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {1}, 5)).ok());  // count 10
  MfaDevice counterless = SecurityKey("alice", "counterless", {2}, 6);
  counterless.sign_count = 0;
  ASSERT_TRUE(this->store_->AddDevice(counterless).ok());
  const Bytes key{1};
  const Bytes other{2};

  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", key, 10, 100), Result<bool>(false));
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", key, 9, 100), Result<bool>(false));
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", key, 0, 100), Result<bool>(false));
  EXPECT_EQ(this->store_->ListDevices("alice")->front().last_used_at, 0);
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", key, 11, 100), Result<bool>(true));
  EXPECT_EQ(this->store_->ListDevices("alice")->front().sign_count, 11);
  EXPECT_EQ(this->store_->ListDevices("alice")->front().last_used_at, 100);
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", key, 11, 101), Result<bool>(false));

  // A key without a counter (always 0) passes with 0; once it counts, it
  // must keep counting.
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", other, 0, 100), Result<bool>(true));
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", other, 0, 101), Result<bool>(true));
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", other, 3, 102), Result<bool>(true));
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", other, 0, 103), Result<bool>(false));

  // Another user's credential, or none at all, is not found.
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("bob", key, 50, 100).error().code(),
            Code::kNotFound);
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", {9}, 50, 100).error().code(),
            Code::kNotFound);
  EXPECT_EQ(this->store_->ConsumeWebauthnCounter("alice", {}, 50, 100).error().code(),
            Code::kNotFound);
}

// N threads presenting the same counter: exactly one is accepted.
TYPED_TEST_P(StoreConformanceTest, OneWebauthnCounterIsAcceptedOnceAcrossThreads) {
  this->CreateUser("alice");
  ASSERT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {1}, 5)).ok());
  constexpr int kThreads = 8;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Result<bool> fresh = this->store_->ConsumeWebauthnCounter("alice", {1}, 20, 100);
      EXPECT_TRUE(fresh.has_value());
      if (fresh.value_or(false)) ++accepted;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 1);
}

TYPED_TEST_P(StoreConformanceTest, RecordDeviceUse) {
  this->CreateOtpUser("alice");
  ASSERT_TRUE(this->store_->RecordDeviceUse("alice", "otp", 1234).ok());
  EXPECT_EQ(this->store_->ListDevices("alice")->front().last_used_at, 1234);
  EXPECT_EQ(this->store_->RecordDeviceUse("alice", "none", 1).code(), Code::kNotFound);
  EXPECT_EQ(this->store_->RecordDeviceUse("nobody", "otp", 1).code(), Code::kNotFound);
}

// Reset, deletion and a new signup all start the user's devices afresh.
TYPED_TEST_P(StoreConformanceTest, DevicesGoWithResetDeletionAndSignup) {
  this->CreateOtpUser("alice");
  ASSERT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {1}, 5)).ok());
  ASSERT_TRUE(this->store_->ResetUserCredentials("alice").ok());
  EXPECT_TRUE(this->store_->ListDevices("alice")->empty());
  // The key's credential id went with it.
  ASSERT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {1}, 5)).ok());

  this->CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(this->store_
                  ->CompleteSignup("hash-a", AcceptAnySignupToken, "$argon2id$hash",
                                   SecretString("new-seed"), 77, 1500)
                  .ok());
  Result<std::vector<MfaDevice>> devices = this->store_->ListDevices("alice");
  ASSERT_EQ(DeviceNames(devices), (Strings{"otp"}));
  EXPECT_EQ((*devices)[0].totp_secret.view(), "new-seed");
  EXPECT_EQ((*devices)[0].last_totp_step, 77);
  EXPECT_EQ((*devices)[0].created_at, 1500);

  ASSERT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {1}, 5)).ok());
  ASSERT_TRUE(this->store_->DeleteUser("alice").ok());
  this->CreateUser("alice");
  EXPECT_TRUE(this->store_->ListDevices("alice")->empty());
  EXPECT_TRUE(this->store_->AddDevice(SecurityKey("alice", "key", {1}, 5)).ok());
}

// The OTP fields of the user lists come from each user's first TOTP device.
TYPED_TEST_P(StoreConformanceTest, UserListsCarryEachUsersOtp) {
  this->CreateOtpUser("alice");
  this->CreateUser("bob");
  this->CreateOtpUser("carol");
  ASSERT_TRUE(this->store_->AddDevice(TotpApp("carol", "older", 1)).ok());
  ASSERT_TRUE(this->store_->ConsumeTotpStep("alice", 9).value_or(false));
  for (const Result<std::vector<UserRecord>>& users :
       {this->store_->ListUsers(), this->store_->ListUsersAfter("", 10),
        this->store_->ListUsersAfter("alice", 2)}) {
    ASSERT_TRUE(users.has_value());
    for (const UserRecord& user : *users) {
      if (user.name == "alice") {
        EXPECT_EQ(user.totp_secret.view(), "otp-seed");
        EXPECT_EQ(user.last_totp_step, 9);
      } else if (user.name == "bob") {
        EXPECT_TRUE(user.totp_secret.empty());
        EXPECT_EQ(user.last_totp_step, -1);
      } else {
        EXPECT_EQ(user.totp_secret.view(), "older-seed");
      }
    }
  }
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_DEVICES_H_
