// gate-principals' decision: which login (if any) sshd may accept for a
// certificate, answered from the node's local cache with no network.
//
// sshd runs `gate-principals --cache DIR %u %t %k` as its
// AuthorizedPrincipalsCommand and accepts the certificate for login %u only
// if we print %u. So the whole contract is: print USER iff
//   - the key type is ssh-ed25519-cert-v01@openssh.com,
//   - the base64 decodes to a certificate that parses and whose signature
//     verifies (ssh::ParseCertificate),
//   - it is a user certificate, valid now, listing USER as a principal,
//   - its signature key is listed in DIR/user_ca.pub,
//   - policy::DecideLogin on the key id's rows of DIR/policy.db
//     (node::ReadLoginSnapshot) allows {key id, USER, serial, now};
// and print nothing otherwise. When the policy also says the session must be
// recorded (policy::MustRecord: one of the user's roles that selects this
// node has record_sessions), the line carries a key option that makes sshd
// run the recorder instead of what the client asked for:
//   command="/usr/libexec/gate/gate-record" USER Any error (bad arguments, a cache file that is
// missing, corrupt, a symlink, not owned by the expected uid or writable by
// group/others) is a denial: the hook fails closed.
#ifndef GATE_SSHD_HOOKS_PRINCIPALS_PRINCIPALS_H_
#define GATE_SSHD_HOOKS_PRINCIPALS_PRINCIPALS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/node_cache.h"
#include "gate/status.h"
#include "sshd-hooks/principals/staleness.h"

namespace gate::hooks {

// What sshd tells us about one authentication attempt.
struct PrincipalsQuery {
  std::string login;       // %u: the account asked for
  std::string key_type;    // %t: the offered key's type
  std::string key_base64;  // %k: the offered certificate, base64 (a public value)
  std::int64_t now = 0;    // unix seconds
};

struct PrincipalsDecision {
  bool allow = false;
  // Only when allow: sshd must run the recorder (policy::Decision::record).
  bool record = false;
  // A few words for the log line: why it was allowed or denied. Never
  // contains the certificate or anything secret.
  std::string reason;
  // What the certificate said, once it parsed (empty/0 before), for the log.
  std::string key_id;
  std::uint64_t serial = 0;
  // The signing CA, for denials only: "SHA256:..." as gate-node sync
  // recorded it in cache/user_ca.pub (node::RecordedUserCaFingerprint), or,
  // for a CA the cache does not list with a fingerprint, its public key's
  // base64 (the second field of its .pub line).
  std::string ca_fingerprint;
  // Set when the cache is stale but the rule allows deciding from it: one
  // more log line, a warning.
  std::string warning;
};

// The decision. The certificate is checked first, so a bad one costs no file
// I/O; then node::CheckCacheDir, the sync stamp (JudgeStaleness against
// query.now: under StaleCache::kDeny a stale cache denies, under kAllow it
// sets decision.warning), cache.UserCaPath() and the key id's rows of
// cache.PolicyPath() (node::ReadLoginSnapshot) are read (revoked.krl is
// sshd's own RevokedKeys check and is not read here).
// Never throws: any exception becomes a denial.
PrincipalsDecision DecidePrincipals(const node::CacheLocation& cache, const PrincipalsQuery& query,
                                    const StalenessRule& staleness = {}) noexcept;

// One syslog line: "allow login=alice user=alice serial=12: <reason>" or
// "deny login=... user=... serial=... ca=SHA256:...: <reason>". Fields the
// decision did not get to are omitted.
std::string FormatDecisionLog(const PrincipalsQuery& query, const PrincipalsDecision& decision);

// What gate-principals prints for an allowed decision: "USER\n", or, when
// the decision says record, "command=\"RECORDER\" USER\n" (sshd(8),
// AUTHORIZED_KEYS FILE FORMAT: sshd takes the last word as the principal and
// what precedes it as key options), with " --config CONFIG" after RECORDER
// when record_config is not empty. Empty for a denial. Both paths must have
// passed ValidateRecordCommand.
std::string FormatPrincipalLine(const PrincipalsQuery& query, const PrincipalsDecision& decision,
                                std::string_view record_command,
                                std::string_view record_config = {});

inline constexpr std::string_view kDefaultRecordCommand = "/usr/libexec/gate/gate-record";

// OK if path can go between the double quotes of a command="..." option and
// after ForceCommand unchanged: absolute, and free of whitespace, quotes,
// backslashes, '%', '#' and control characters (ValidateConfigPath's rule).
// InvalidArgument naming `flag` otherwise.
Status ValidateRecordCommand(std::string_view path, std::string_view flag = "--record-command");

// The command line, as sshd (and a person testing by hand) passes it:
//   gate-principals [--cache DIR] [--cache-owner UID] [--cache-group GID]
//                   [--stale-cache allow|deny] [--max-cache-age DURATION]
//                   [--record-command PATH] [--record-config FILE]
//                   [--] USER KEYTYPE BASE64KEY
//   gate-principals --help
// Options may also be written --cache=DIR. Anything else (unknown options,
// a wrong number of positionals, a non-numeric UID or GID, a stale-cache
// policy other than allow/deny, a duration ParseDuration refuses, a record
// command that fails ValidateRecordCommand) is InvalidArgument.
struct PrincipalsArgs {
  bool help = false;
  node::CacheLocation cache;
  StalenessRule staleness;
  std::string record_command{kDefaultRecordCommand};
  std::string record_config;  // empty: the recorder's default settings file
  std::string login;
  std::string key_type;
  std::string key_base64;
};
Result<PrincipalsArgs> ParsePrincipalsArgs(int argc, const char* const* argv);

// Exit status of gate-principals for a decision: 0 allowed (USER was
// printed), 1 denied, 2 usage error (bad arguments; nothing decided).
inline constexpr int kPrincipalsAllowed = 0;
inline constexpr int kPrincipalsDenied = 1;
inline constexpr int kPrincipalsUsage = 2;

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_PRINCIPALS_PRINCIPALS_H_
