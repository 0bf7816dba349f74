#include "recorder/session/identity.h"

#include <algorithm>
#include <optional>

#include "gate/auth_info.h"
#include "gate/certificate.h"
#include "gate/policy.h"
#include "gate/process_info.h"
#include "gate/secure_file.h"

namespace gate::recorder {
namespace {

Status Denied(std::string why) { return PermissionDenied(std::move(why)); }

}  // namespace

Result<Identity> ResolveIdentity(std::string_view auth_info, const std::string& login,
                                 const node::CacheLocation& cache, std::int64_t now) {
  if (auth_info.size() > kMaxAuthInfoSize) return Err(Denied("SSH_USER_AUTH file is too large"));
  if (login.empty()) return Err(Denied("no OS login"));
  std::optional<ssh::Certificate> cert;
  for (const ssh::AuthInfoCertificate& line : ssh::AuthInfoCertificates(auth_info)) {
    if (cert) return Err(Denied("SSH_USER_AUTH holds more than one certificate"));
    // A full parse, signature included: unlike gate-principals, nothing
    // guarantees sshd verified what this file says.
    auto parsed = ssh::ParseCertificateLine(line.key);
    if (!parsed) {
      return Err(Denied("SSH_USER_AUTH line " + std::to_string(line.line) +
                        ": bad certificate: " + parsed.error().message()));
    }
    cert = std::move(*parsed);
  }
  if (!cert) return Err(Denied("the session was not authenticated with a Gate certificate"));
  if (cert->spec.type != ssh::CertType::kUser) return Err(Denied("not a user certificate"));
  if (now < 0) return Err(Denied("clock before the epoch"));
  if (Status s = ssh::CheckValidity(*cert, static_cast<std::uint64_t>(now)); !s.ok()) {
    return Err(Denied(s.message()));
  }
  const auto& principals = cert->spec.principals;
  if (std::find(principals.begin(), principals.end(), login) == principals.end()) {
    return Err(Denied("login " + login + " is not one of the certificate's principals"));
  }
  if (Status s = node::CheckCacheDir(cache); !s.ok()) return Err(Denied("cache: " + s.message()));
  auto cas = node::ReadUserCaKeys(cache);
  if (!cas) return Err(Denied("cache: " + cas.error().message()));
  if (std::find(cas->begin(), cas->end(), cert->signature_key) == cas->end()) {
    return Err(Denied("certificate signed by a CA not in " + cache.UserCaPath()));
  }
  auto snapshot = node::ReadLoginSnapshot(cache, cert->spec.key_id, cert->spec.serial);
  if (!snapshot) return Err(Denied("cache: " + snapshot.error().message()));
  policy::LoginRequest request;
  request.user = cert->spec.key_id;
  request.login = login;
  request.serial = cert->spec.serial;
  request.now = now;
  const policy::Decision decision = policy::DecideLogin(*snapshot, request);
  if (!decision.allow) return Err(Denied("policy: " + decision.reason));

  Identity id;
  id.user = cert->spec.key_id;
  id.login = login;
  id.serial = cert->spec.serial;
  id.cluster = snapshot->cluster_name;
  id.permit_port_forwarding =
      cert->spec.extensions.contains(std::string(ssh::kPermitPortForwarding));
  return id;
}

Result<std::string> ReadAuthInfoFile(const std::string& path, uid_t user) {
  FilePolicy policy;
  policy.allowed_owners = {user};
  policy.secret = true;
  policy.max_size = kMaxAuthInfoSize;
  auto text = ReadSecureFile(path, policy);
  if (!text) return Err(Denied("cannot read SSH_USER_AUTH: " + text.error().message()));
  return std::string(text->view());
}

namespace {

bool AllUids(const ProcessView& p, uid_t uid) {
  return p.ruid == uid && p.euid == uid && p.suid == uid;
}

bool NamedSshd(const ProcessView& p) { return proc::NamedSshd(p.argv0); }

bool IsSshdMonitor(const ProcessView& p) { return AllUids(p, 0) && NamedSshd(p); }

Status NotFromSshd(const std::string& why) {
  return Denied("gate-record was not started by sshd for this session (" + why +
                "); it must be sshd's ForceCommand, not run by hand or from another session");
}

}  // namespace

Status CheckStartedBySshd(pid_t parent, uid_t user, const ProcessLookup& lookup) {
  auto first = lookup(parent);
  if (!first) return NotFromSshd("cannot read its parent process " + std::to_string(parent));
  if (!AllUids(*first, user)) return NotFromSshd("its parent is not the user's sshd process");
  auto second = lookup(first->ppid);
  if (!second) return NotFromSshd("cannot read process " + std::to_string(first->ppid));
  // The shell exec'd us: our parent is sshd's session process.
  if (IsSshdMonitor(*second)) return Status::Ok();
  // Or the shell forked us: it must be the login shell sshd ran, not the
  // session's own child before it runs the shell (named like sshd, and
  // where ~/.ssh/rc runs).
  if (NamedSshd(*first)) return NotFromSshd("started from within sshd's session setup");
  if (!AllUids(*second, user)) return NotFromSshd("no sshd session process above it");
  auto third = lookup(second->ppid);
  if (!third) return NotFromSshd("cannot read process " + std::to_string(second->ppid));
  if (IsSshdMonitor(*third)) return Status::Ok();
  return NotFromSshd("no sshd session process above it");
}

Status CheckStartedBySshd(pid_t parent, uid_t user) {
  return CheckStartedBySshd(parent, user, [](pid_t pid) -> Result<ProcessView> {
    auto info = proc::ReadProcessInfo(pid);
    if (!info) return Err(info.error());
    auto argv0 = proc::ReadCommandName(pid);
    if (!argv0) return Err(argv0.error());
    ProcessView view;
    view.ppid = info->ppid;
    view.ruid = info->ruid;
    view.euid = info->euid;
    view.suid = info->suid;
    view.argv0 = std::move(*argv0);
    return view;
  });
}

}  // namespace gate::recorder
