// TokenStore on SQLite: signup tokens and node join tokens (with their
// labels in a child table), stored by hash.
#include <array>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<SignupToken>, 6> kSignupTokenColumns = {{
    Field<&SignupToken::token_hash>("token_hash"),
    Field<&SignupToken::user>("user_name"),
    Field<&SignupToken::created_at>("created_at"),
    Field<&SignupToken::expires_at>("expires_at"),
    Field<&SignupToken::totp_secret>("totp_secret"),
    Field<&SignupToken::used_at>("used_at"),
}};
constexpr Columns<SignupToken> kSignupTokens(kSignupTokenColumns);

constexpr std::array<Column<NodeToken>, 3> kNodeTokenColumns = {{
    Field<&NodeToken::token_hash>("token_hash"),
    Field<&NodeToken::created_at>("created_at"),
    Field<&NodeToken::expires_at>("expires_at"),
}};
constexpr Columns<NodeToken> kNodeTokens(kNodeTokenColumns);

Result<SignupToken> LoadSignupToken(sqlite3* db, const std::string& token_hash) {
  Result<Stmt> stmt =
      Stmt::Prepare(db, SelectSql("signup_tokens", kSignupTokens, "WHERE token_hash = ?1"));
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, token_hash).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(NotFound("signup token not found"));
  return ReadRow(*stmt, kSignupTokens);
}

Result<NodeToken> LoadNodeToken(sqlite3* db, const std::string& token_hash) {
  Result<Stmt> stmt =
      Stmt::Prepare(db, SelectSql("node_tokens", kNodeTokens, "WHERE token_hash = ?1"));
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, token_hash).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(NotFound("node join token not found"));
  NodeToken token = ReadRow(*stmt, kNodeTokens);
  Result<policy::Labels> labels = LoadLabels(db, kTokenLabels, token_hash);
  if (!labels) return Err(labels.error());
  token.labels = *std::move(labels);
  Result<std::vector<std::string>> principals = LoadList(db, kTokenPrincipals, token_hash);
  if (!principals) return Err(principals.error());
  token.principals = *std::move(principals);
  return token;
}

}  // namespace

// --- Signup tokens -----------------------------------------------------------------

Status SqliteStore::CreateSignupToken(const SignupToken& token) {
  if (token.token_hash.empty()) return InvalidArgument("signup token hash must not be empty");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("signup_tokens", kSignupTokens));
    if (!stmt) return stmt.error();
    BindRow(*stmt, kSignupTokens, token);
    return stmt->Insert(AlreadyExists("signup token already exists"), UserNotFound(token.user));
  });
}

Result<SignupToken> SqliteStore::GetSignupToken(const std::string& token_hash) {
  return Run(Transaction::Kind::kRead,
             [&](sqlite3* db) { return LoadSignupToken(db, token_hash); });
}

Result<SignupToken> SqliteStore::OfferTotpSecret(const std::string& token_hash,
                                                 const SecretString& secret) {
  if (secret.empty()) return Err(InvalidArgument("TOTP secret must not be empty"));
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<SignupToken> {
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db,
                        "UPDATE signup_tokens SET totp_secret = ?2"
                        " WHERE token_hash = ?1 AND totp_secret IS NULL AND used_at = 0");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->Text(1, token_hash).Blob(2, secret.view()).Run());
    }
    return LoadSignupToken(db, token_hash);
  });
}

Status SqliteStore::CompleteSignup(const std::string& token_hash, const SignupTokenCheck& check,
                                   const std::string& password_hash,
                                   const SecretString& totp_secret, std::int64_t totp_step,
                                   std::int64_t used_at) {
  if (password_hash.empty()) return InvalidArgument("password hash must not be empty");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<SignupToken> token = LoadSignupToken(db, token_hash);
    if (!token) return token.error();
    if (token->used_at != 0) return NotFound("signup token already used");
    GATE_RETURN_IF_ERROR(check(*token));
    {
      Result<Stmt> stmt = Stmt::Prepare(db, "UPDATE users SET password_hash = ?2 WHERE name = ?1");
      if (!stmt) return stmt.error();
      stmt->Text(1, token->user).Text(2, password_hash);
      GATE_RETURN_IF_ERROR(ChangeOne(*stmt, UserNotFound(token->user)));
    }
    // Signup chooses the credentials anew: devices from before go, and the
    // OTP app enrolled now is the user's device "otp".
    GATE_RETURN_IF_ERROR(RunWithText(db, kDeleteUserDevices, token->user));
    if (!totp_secret.empty()) {
      MfaDevice otp;
      otp.user = token->user;
      otp.name = "otp";
      otp.kind = DeviceKind::kTotp;
      otp.created_at = used_at;
      otp.last_used_at = totp_step >= 0 ? used_at : 0;
      otp.totp_secret = totp_secret;
      otp.last_totp_step = totp_step;
      GATE_RETURN_IF_ERROR(InsertDevice(db, otp));
    }
    GATE_RETURN_IF_ERROR(RunWithText(db, kClearUserLoginFailures, token->user));
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db, "UPDATE signup_tokens SET used_at = ?2, totp_secret = NULL WHERE token_hash = ?1");
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(stmt->Text(1, token_hash).Int(2, used_at).Run());
    }
    // Every outstanding token of the user goes, not only the one used: an
    // older link still lying in a mailbox must not be able to replace the
    // credentials just set.
    return RunWithText(db, kDeleteUnusedSignupTokens, token->user);
  });
}

Status SqliteStore::DeleteExpiredSignupTokens(std::int64_t before) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, "DELETE FROM signup_tokens WHERE expires_at <= ?1");
    if (!stmt) return stmt.error();
    return stmt->Int(1, before).Run();
  });
}

// --- Node join tokens ----------------------------------------------------------------

Status SqliteStore::CreateNodeToken(const NodeToken& token) {
  if (token.token_hash.empty()) return InvalidArgument("node token hash must not be empty");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("node_tokens", kNodeTokens));
      if (!stmt) return stmt.error();
      BindRow(*stmt, kNodeTokens, token);
      GATE_RETURN_IF_ERROR(stmt->Insert(AlreadyExists("node token already exists"),
                                        Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreLabels(db, kTokenLabels, token.token_hash, token.labels));
    return StoreList(db, kTokenPrincipals, token.token_hash, token.principals);
  });
}

Result<NodeToken> SqliteStore::GetNodeToken(const std::string& token_hash) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) { return LoadNodeToken(db, token_hash); });
}

Result<NodeToken> SqliteStore::ConsumeNodeToken(const std::string& token_hash) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<NodeToken> {
    Result<NodeToken> token = LoadNodeToken(db, token_hash);
    if (!token) return token;
    for (const char* sql : {kTokenLabels.remove, kTokenPrincipals.remove,
                            "DELETE FROM node_tokens WHERE token_hash = ?1"}) {
      GATE_RETURN_IF_ERROR(RunWithText(db, sql, token_hash));
    }
    return token;
  });
}

Status SqliteStore::DeleteExpiredNodeTokens(std::int64_t now) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    for (const char* sql : {"DELETE FROM node_token_labels WHERE token_hash IN"
                            " (SELECT token_hash FROM node_tokens WHERE expires_at <= ?1)",
                            "DELETE FROM node_token_principals WHERE token_hash IN"
                            " (SELECT token_hash FROM node_tokens WHERE expires_at <= ?1)",
                            "DELETE FROM node_tokens WHERE expires_at <= ?1"}) {
      Result<Stmt> stmt = Stmt::Prepare(db, sql);
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(stmt->Int(1, now).Run());
    }
    return Status::Ok();
  });
}

}  // namespace gate::ca::sqlite
