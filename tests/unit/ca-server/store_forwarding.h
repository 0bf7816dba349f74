// A StoreOperations (or Store) that passes every operation to another one,
// for tests that need to step in between a service's store calls: derive,
// and override the one operation to watch. Not thread-safe beyond what the
// wrapped store is.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_FORWARDING_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_FORWARDING_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ca-server/store/store.h"

namespace gate::ca {

// Base is StoreOperations or Store; a Store must still give InTransaction
// and InReadTransaction.
template <typename Base>
class ForwardingOperations : public Base {
 public:
  explicit ForwardingOperations(StoreOperations& inner) : inner_(inner) {}

  Status CreateUser(const UserRecord& user) override { return inner_.CreateUser(user); }
  Result<UserRecord> GetUser(const std::string& name) override { return inner_.GetUser(name); }
  Result<std::vector<UserRecord>> ListUsers() override { return inner_.ListUsers(); }
  Result<std::vector<UserRecord>> ListUsersAfter(const std::string& after,
                                                 std::size_t limit) override {
    return inner_.ListUsersAfter(after, limit);
  }
  Status DeleteUser(const std::string& name) override { return inner_.DeleteUser(name); }
  Result<UserRecord> UpsertSsoUser(const UserRecord& user) override {
    return inner_.UpsertSsoUser(user);
  }
  Status ResetUserCredentials(const std::string& name) override {
    return inner_.ResetUserCredentials(name);
  }
  Result<UserRecord> UpdateUser(const std::string& name,
                                const std::optional<std::vector<std::string>>& logins,
                                const std::optional<std::vector<std::string>>& roles) override {
    return inner_.UpdateUser(name, logins, roles);
  }
  Result<LoginFailures> GetLoginFailures(const std::string& user,
                                         const std::string& source) override {
    return inner_.GetLoginFailures(user, source);
  }
  Status PutLoginFailures(const LoginFailures& failures) override {
    return inner_.PutLoginFailures(failures);
  }
  Status ClearLoginFailures(const std::string& user, const std::string& source) override {
    return inner_.ClearLoginFailures(user, source);
  }
  Status PruneLoginFailures(std::int64_t window_before, std::int64_t blocked_before) override {
    return inner_.PruneLoginFailures(window_before, blocked_before);
  }
  Result<bool> ConsumeTotpStep(const std::string& name, std::int64_t step) override {
    return inner_.ConsumeTotpStep(name, step);
  }
  Status AddDevice(const MfaDevice& device) override { return inner_.AddDevice(device); }
  Result<std::vector<MfaDevice>> ListDevices(const std::string& user) override {
    return inner_.ListDevices(user);
  }
  Status RemoveDevice(const std::string& user, const std::string& name) override {
    return inner_.RemoveDevice(user, name);
  }
  Result<bool> ConsumeWebauthnCounter(const std::string& user,
                                      const std::vector<std::uint8_t>& credential_id,
                                      std::int64_t sign_count, std::int64_t now) override {
    return inner_.ConsumeWebauthnCounter(user, credential_id, sign_count, now);
  }
  Status RecordDeviceUse(const std::string& user, const std::string& name,
                         std::int64_t now) override {
    return inner_.RecordDeviceUse(user, name, now);
  }
  Status CreateRole(const policy::Role& role) override { return inner_.CreateRole(role); }
  Status UpdateRole(const policy::Role& role) override { return inner_.UpdateRole(role); }
  Result<policy::Role> ModifyRole(const std::string& name,
                                  const RoleStore::RoleChange& change) override {
    return inner_.ModifyRole(name, change);
  }
  Result<policy::Role> GetRole(const std::string& name) override { return inner_.GetRole(name); }
  Result<std::vector<policy::Role>> ListRoles() override { return inner_.ListRoles(); }
  Result<std::vector<policy::Role>> ListRolesAfter(const std::string& after,
                                                   std::size_t limit) override {
    return inner_.ListRolesAfter(after, limit);
  }
  Status DeleteRole(const std::string& name) override { return inner_.DeleteRole(name); }
  Status SetLock(const LockRecord& lock) override { return inner_.SetLock(lock); }
  Status DeleteLock(const std::string& user) override { return inner_.DeleteLock(user); }
  Result<std::vector<LockRecord>> ListLocks() override { return inner_.ListLocks(); }
  Status CreateSignupToken(const SignupToken& token) override {
    return inner_.CreateSignupToken(token);
  }
  Result<SignupToken> GetSignupToken(const std::string& token_hash) override {
    return inner_.GetSignupToken(token_hash);
  }
  Result<SignupToken> OfferTotpSecret(const std::string& token_hash,
                                      const SecretString& secret) override {
    return inner_.OfferTotpSecret(token_hash, secret);
  }
  Status CompleteSignup(const std::string& token_hash, const TokenStore::SignupTokenCheck& check,
                        const std::string& password_hash, const SecretString& totp_secret,
                        std::int64_t totp_step, std::int64_t used_at) override {
    return inner_.CompleteSignup(token_hash, check, password_hash, totp_secret, totp_step, used_at);
  }
  Status DeleteExpiredSignupTokens(std::int64_t now) override {
    return inner_.DeleteExpiredSignupTokens(now);
  }
  Status CreateNodeToken(const NodeToken& token) override { return inner_.CreateNodeToken(token); }
  Result<NodeToken> GetNodeToken(const std::string& token_hash) override {
    return inner_.GetNodeToken(token_hash);
  }
  Result<NodeToken> ConsumeNodeToken(const std::string& token_hash) override {
    return inner_.ConsumeNodeToken(token_hash);
  }
  Status DeleteExpiredNodeTokens(std::int64_t now) override {
    return inner_.DeleteExpiredNodeTokens(now);
  }
  Status CreateNode(const NodeRecord& node) override { return inner_.CreateNode(node); }
  Result<NodeRecord> GetNode(const std::string& host_uuid) override {
    return inner_.GetNode(host_uuid);
  }
  Result<std::vector<NodeRecord>> ListNodes() override { return inner_.ListNodes(); }
  Status DeleteNode(const std::string& host_uuid) override { return inner_.DeleteNode(host_uuid); }
  Status RecordNodeSync(const std::string& host_uuid, std::int64_t now,
                        std::int64_t revision) override {
    return inner_.RecordNodeSync(host_uuid, now, revision);
  }
  Status SetNodePrincipals(const std::string& host_uuid,
                           const std::vector<std::string>& principals) override {
    return inner_.SetNodePrincipals(host_uuid, principals);
  }
  Status SetNodeRecorderKey(const std::string& host_uuid, const std::string& key) override {
    return inner_.SetNodeRecorderKey(host_uuid, key);
  }
  Status SetNodeSshAddress(const std::string& host_uuid, const std::string& address) override {
    return inner_.SetNodeSshAddress(host_uuid, address);
  }
  Status CreateSession(const SessionRecord& session) override {
    return inner_.CreateSession(session);
  }
  Result<SessionRecord> GetSession(const std::string& id) override { return inner_.GetSession(id); }
  Status SetSessionSize(const std::string& id, std::int64_t size) override {
    return inner_.SetSessionSize(id, size);
  }
  Status CompleteSession(const SessionRecord& session) override {
    return inner_.CompleteSession(session);
  }
  Result<std::vector<SessionRecord>> ListSessions(const SessionFilter& filter) override {
    return inner_.ListSessions(filter);
  }
  Result<std::int64_t> CountLiveSessions(const std::string& host_uuid) override {
    return inner_.CountLiveSessions(host_uuid);
  }
  Result<std::vector<SessionRecord>> ListSessionsCompletedBefore(std::int64_t before,
                                                                 std::size_t limit) override {
    return inner_.ListSessionsCompletedBefore(before, limit);
  }
  Status DeleteSession(const std::string& id) override { return inner_.DeleteSession(id); }
  Status RecordCertificate(const IssuedCertificate& cert) override {
    return inner_.RecordCertificate(cert);
  }
  Result<std::vector<IssuedCertificate>> ListCertificates(const std::string& user) override {
    return inner_.ListCertificates(user);
  }
  Result<IssuedCertificate> GetCertificate(std::uint64_t serial) override {
    return inner_.GetCertificate(serial);
  }
  Result<Revocation> GetRevocation(std::uint64_t serial) override {
    return inner_.GetRevocation(serial);
  }
  Status AddRevocation(const Revocation& revocation) override {
    return inner_.AddRevocation(revocation);
  }
  Result<std::uint64_t> BumpRevocationVersion() override { return inner_.BumpRevocationVersion(); }
  Result<RevocationList> ListRevocations(std::int64_t now) override {
    return inner_.ListRevocations(now);
  }
  Status AppendAudit(const AuditEvent& event) override { return inner_.AppendAudit(event); }
  Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query) override {
    return inner_.ListAudit(query);
  }
  using AuditStore::ListAudit;
  Result<PolicyRevision> GetPolicyRevision() override { return inner_.GetPolicyRevision(); }
  Result<std::vector<PolicyChange>> ListPolicyChanges(std::int64_t since,
                                                      std::size_t limit) override {
    return inner_.ListPolicyChanges(since, limit);
  }
  Status PrunePolicyChanges(std::int64_t keep) override { return inner_.PrunePolicyChanges(keep); }
  Status CreateWebSession(const WebSessionRecord& session) override {
    return inner_.CreateWebSession(session);
  }
  Result<WebSessionRecord> GetWebSession(const std::string& id_hash) override {
    return inner_.GetWebSession(id_hash);
  }
  Result<std::vector<WebSessionRecord>> ListUserWebSessions(const std::string& user) override {
    return inner_.ListUserWebSessions(user);
  }
  Status TouchWebSession(const std::string& id_hash, std::int64_t last_seen_at) override {
    return inner_.TouchWebSession(id_hash, last_seen_at);
  }
  Status DeleteWebSession(const std::string& id_hash) override {
    return inner_.DeleteWebSession(id_hash);
  }
  Status DeleteUserWebSessions(const std::string& user) override {
    return inner_.DeleteUserWebSessions(user);
  }
  Result<int> DeleteStaleWebSessions(std::int64_t expired_by, std::int64_t idle_since) override {
    return inner_.DeleteStaleWebSessions(expired_by, idle_since);
  }

 protected:
  StoreOperations& inner_;
};

}  // namespace gate::ca

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_FORWARDING_H_
