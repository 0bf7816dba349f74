// CertificateStore on SQLite: issued certificates (never deleted) and their
// revocations (final), with the revocation list version.
#include <algorithm>
#include <array>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<IssuedCertificate>, 6> kCertificateColumns = {{
    Field<&IssuedCertificate::serial>("serial"),
    Field<&IssuedCertificate::user>("user_name"),
    Field<&IssuedCertificate::key_id>("key_id"),
    Field<&IssuedCertificate::valid_after>("valid_after"),
    Field<&IssuedCertificate::valid_before>("valid_before"),
    Field<&IssuedCertificate::issued_at>("issued_at"),
}};
constexpr Columns<IssuedCertificate> kCertificates(kCertificateColumns);

constexpr std::array<Column<Revocation>, 4> kRevocationColumns = {{
    Field<&Revocation::serial>("serial"),
    Field<&Revocation::user>("user_name"),
    Field<&Revocation::revoked_at>("revoked_at"),
    Field<&Revocation::valid_before>("valid_before"),
}};
constexpr Columns<Revocation> kRevocations(kRevocationColumns);

void SortBySerial(std::vector<Revocation>& revocations) {
  std::sort(revocations.begin(), revocations.end(),
            [](const Revocation& a, const Revocation& b) { return a.serial < b.serial; });
}

Status CertificateNotFound(std::uint64_t serial) {
  return NotFound("no certificate with serial " + std::to_string(serial) +
                  " was issued by this CA");
}

}  // namespace

// --- Certificates ------------------------------------------------------------------

Status SqliteStore::RecordCertificate(const IssuedCertificate& cert) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("certificates", kCertificates));
    if (!stmt) return stmt.error();
    BindRow(*stmt, kCertificates, cert);
    return stmt->Insert(
        AlreadyExists("certificate serial " + std::to_string(cert.serial) + " was already used"),
        Internal("sqlite: unexpected foreign key violation"));
  });
}

Result<std::vector<IssuedCertificate>> SqliteStore::ListCertificates(const std::string& user) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<IssuedCertificate>> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, SelectSql("certificates", kCertificates,
                                    "WHERE user_name = ?1 ORDER BY issued_at, serial"));
    if (!stmt) return Err(stmt.error());
    stmt->Text(1, user);
    std::vector<IssuedCertificate> certs;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { certs.push_back(ReadRow(*stmt, kCertificates)); }));
    return certs;
  });
}

Result<IssuedCertificate> SqliteStore::GetCertificate(std::uint64_t serial) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<IssuedCertificate> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, SelectSql("certificates", kCertificates, "WHERE serial = ?1"));
    if (!stmt) return Err(stmt.error());
    BindValue(*stmt, 1, serial);
    Result<bool> row = stmt->Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(CertificateNotFound(serial));
    return ReadRow(*stmt, kCertificates);
  });
}

// --- Revocations ---------------------------------------------------------------------

Result<Revocation> SqliteStore::GetRevocation(std::uint64_t serial) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<Revocation> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, SelectSql("revocations", kRevocations, "WHERE serial = ?1"));
    if (!stmt) return Err(stmt.error());
    BindValue(*stmt, 1, serial);
    Result<bool> row = stmt->Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(NotFound("serial " + std::to_string(serial) + " is not revoked"));
    return ReadRow(*stmt, kRevocations);
  });
}

Status SqliteStore::AddRevocation(const Revocation& revocation) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("revocations", kRevocations));
    if (!stmt) return stmt.error();
    BindRow(*stmt, kRevocations, revocation);
    return stmt->Insert(
        AlreadyExists("serial " + std::to_string(revocation.serial) + " is already revoked"),
        CertificateNotFound(revocation.serial));
  });
}

Result<std::uint64_t> SqliteStore::BumpRevocationVersion() {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<std::uint64_t> {
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db, "UPDATE revocation_version SET version = version + 1 WHERE id = 1");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(
          ChangeOne(*stmt, DataLoss("sqlite: the revocation version row is missing")));
    }
    Result<Stmt> stmt = Stmt::Prepare(db, "SELECT version FROM revocation_version WHERE id = 1");
    if (!stmt) return Err(stmt.error());
    Result<bool> row = stmt->Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(DataLoss("sqlite: the revocation version row is missing"));
    return static_cast<std::uint64_t>(stmt->ColumnInt(0));
  });
}

Result<RevocationList> SqliteStore::ListRevocations(std::int64_t now) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<RevocationList> {
    RevocationList list;
    {
      Result<Stmt> stmt = Stmt::Prepare(db, "SELECT version FROM revocation_version WHERE id = 1");
      if (!stmt) return Err(stmt.error());
      Result<bool> row = stmt->Step();
      if (!row) return Err(row.error());
      if (!*row) return Err(DataLoss("sqlite: the revocation version row is missing"));
      list.version = static_cast<std::uint64_t>(stmt->ColumnInt(0));
    }
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db, SelectSql("revocations", kRevocations, "WHERE valid_before > ?1"));
      if (!stmt) return Err(stmt.error());
      stmt->Int(1, now);
      GATE_RETURN_IF_ERROR(
          stmt->ForEachRow([&] { list.revocations.push_back(ReadRow(*stmt, kRevocations)); }));
    }
    SortBySerial(list.revocations);
    return list;
  });
}

}  // namespace gate::ca::sqlite
