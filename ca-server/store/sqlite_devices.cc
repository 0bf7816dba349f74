// UserStore on SQLite: second-factor devices (the mfa_devices table).
#include <array>
#include <string_view>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca {

const char* DeviceKindName(DeviceKind kind) {
  return kind == DeviceKind::kWebauthn ? "webauthn" : "totp";
}

namespace sqlite {

// Stored as the kind's name (the table's CHECK admits only the two).
inline void BindValue(Stmt& stmt, int index, DeviceKind kind) {
  stmt.Text(index, DeviceKindName(kind));
}
inline void ReadValue(const Stmt& stmt, int col, DeviceKind& kind) {
  kind = stmt.ColumnText(col) == "webauthn" ? DeviceKind::kWebauthn : DeviceKind::kTotp;
}

namespace {

constexpr std::size_t kMaxDeviceNameBytes = 64;

constexpr std::array<Column<MfaDevice>, 12> kDeviceColumns = {{
    Field<&MfaDevice::user>("user_name"),
    Field<&MfaDevice::name>("name"),
    Field<&MfaDevice::kind>("kind"),
    Field<&MfaDevice::created_at>("created_at"),
    Field<&MfaDevice::last_used_at>("last_used_at"),
    Field<&MfaDevice::totp_secret>("totp_secret"),
    Field<&MfaDevice::last_totp_step>("last_totp_step"),
    Field<&MfaDevice::credential_id>("credential_id"),
    Field<&MfaDevice::public_key>("public_key"),
    Field<&MfaDevice::cose_alg>("cose_alg"),
    Field<&MfaDevice::sign_count>("sign_count"),
    Field<&MfaDevice::flags>("flags"),
}};
constexpr Columns<MfaDevice> kDevices(kDeviceColumns);

Status CheckDevice(const MfaDevice& device) {
  if (device.name.empty()) return InvalidArgument("device name must not be empty");
  if (device.name.size() > kMaxDeviceNameBytes) {
    return InvalidArgument("device name is longer than 64 bytes");
  }
  if (device.kind == DeviceKind::kTotp) {
    if (device.totp_secret.empty()) return InvalidArgument("a TOTP device needs a secret");
    if (!device.credential_id.empty() || !device.public_key.empty()) {
      return InvalidArgument("a TOTP device holds no credential");
    }
  } else {
    if (device.credential_id.empty() || device.public_key.empty()) {
      return InvalidArgument("a security key needs a credential id and a public key");
    }
    if (!device.totp_secret.empty()) return InvalidArgument("a security key holds no TOTP secret");
  }
  if (device.sign_count < 0) return InvalidArgument("signature counter must not be negative");
  return Status::Ok();
}

Status DeviceNotFound(const std::string& user, const std::string& name) {
  return NotFound("user '" + user + "' has no device '" + name + "'");
}

Result<bool> UserExists(sqlite3* db, const std::string& user) {
  Result<Stmt> stmt = Stmt::Prepare(db, "SELECT 1 FROM users WHERE name = ?1");
  if (!stmt) return Err(stmt.error());
  return stmt->Text(1, user).Step();
}

}  // namespace

Status InsertDevice(sqlite3* db, const MfaDevice& device) {
  GATE_RETURN_IF_ERROR(CheckDevice(device));
  Result<bool> exists = UserExists(db, device.user);
  if (!exists) return exists.error();
  if (!*exists) return UserNotFound(device.user);
  Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("mfa_devices", kDevices));
  if (!stmt) return stmt.error();
  BindRow(*stmt, kDevices, device);
  return stmt->Insert(AlreadyExists("the device name or the security key is already registered"),
                      UserNotFound(device.user));
}

Result<TotpDevice> LoadFirstTotpDevice(sqlite3* db, const std::string& user) {
  Result<Stmt> stmt = Stmt::Prepare(db, std::string(kSelectTotpDevices) +
                                            " AND user_name = ?1 ORDER BY created_at, rowid"
                                            " LIMIT 1");
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, user).Step();
  if (!row) return Err(row.error());
  TotpDevice first;
  if (*row) {
    first.secret = stmt->ColumnSecret(1);
    first.last_step = stmt->ColumnInt(2);
  }
  return first;
}

Status SqliteStore::AddDevice(const MfaDevice& device) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) { return InsertDevice(db, device); });
}

Result<std::vector<MfaDevice>> SqliteStore::ListDevices(const std::string& user) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<MfaDevice>> {
    Result<bool> exists = UserExists(db, user);
    if (!exists) return Err(exists.error());
    if (!*exists) return Err(UserNotFound(user));
    Result<Stmt> stmt = Stmt::Prepare(
        db, SelectSql("mfa_devices", kDevices, "WHERE user_name = ?1 ORDER BY created_at, rowid"));
    if (!stmt) return Err(stmt.error());
    stmt->Text(1, user);
    std::vector<MfaDevice> devices;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { devices.push_back(ReadRow(*stmt, kDevices)); }));
    return devices;
  });
}

Status SqliteStore::RemoveDevice(const std::string& user, const std::string& name) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt =
        Stmt::Prepare(db, "DELETE FROM mfa_devices WHERE user_name = ?1 AND name = ?2");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, user).Text(2, name), DeviceNotFound(user, name));
  });
}

Result<bool> SqliteStore::ConsumeWebauthnCounter(const std::string& user,
                                                 const std::vector<std::uint8_t>& credential_id,
                                                 std::int64_t sign_count, std::int64_t now) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<bool> {
    const std::string_view id(reinterpret_cast<const char*>(credential_id.data()),
                              credential_id.size());
    // The comparison is in the UPDATE itself, so two assertions racing with
    // the same counter cannot both pass.
    Result<Stmt> stmt =
        Stmt::Prepare(db,
                      "UPDATE mfa_devices SET sign_count = ?3, last_used_at = ?4"
                      " WHERE user_name = ?1 AND kind = 'webauthn' AND credential_id = ?2"
                      " AND (sign_count < ?3 OR (sign_count = 0 AND ?3 = 0))");
    if (!stmt) return Err(stmt.error());
    Result<int> changed = stmt->Text(1, user).Blob(2, id).Int(3, sign_count).Int(4, now).Change();
    if (!changed) return Err(changed.error());
    if (*changed > 0) return true;
    Result<Stmt> exists = Stmt::Prepare(db,
                                        "SELECT 1 FROM mfa_devices WHERE user_name = ?1"
                                        " AND kind = 'webauthn' AND credential_id = ?2");
    if (!exists) return Err(exists.error());
    Result<bool> row = exists->Text(1, user).Blob(2, id).Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(NotFound("user '" + user + "' has no such security key"));
    return false;
  });
}

Status SqliteStore::RecordDeviceUse(const std::string& user, const std::string& name,
                                    std::int64_t now) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(
        db, "UPDATE mfa_devices SET last_used_at = ?3 WHERE user_name = ?1 AND name = ?2");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, user).Text(2, name).Int(3, now), DeviceNotFound(user, name));
  });
}

}  // namespace sqlite
}  // namespace gate::ca
