// gate-principals: sshd's AuthorizedPrincipalsCommand. Parses argv, asks
// DecidePrincipals (sshd-hooks/principals/principals.h), prints the login on
// success (with command="RECORDER" when the session must be recorded) and
// logs every decision to syslog. It runs on every certificate
// login, so it stays lean: no network, no config file, no curl.
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <string>
#include <string_view>

#include "gate/log.h"
#include "gate/refusal_spool.h"
#include "sshd-hooks/principals/principals.h"

namespace {

constexpr std::string_view kHelp =
    R"HELP(NAME
    gate-principals - decide gate certificate logins for sshd

SYNOPSIS
    gate-principals [--cache DIR] [--stale-cache allow|deny]
                    [--max-cache-age DURATION] [--record-command PATH]
                    [--record-config FILE] USER KEYTYPE BASE64KEY
    gate-principals --help

DESCRIPTION
    sshd's AuthorizedPrincipalsCommand on a node joined with gate-node join,
    which writes this line into /etc/ssh/sshd_config.d/50-gate.conf:

      AuthorizedPrincipalsCommand /usr/sbin/gate-principals --cache /var/lib/gate-node/cache %u %t %k
      AuthorizedPrincipalsCommandUser gate-principals

    sshd runs it for every certificate offered for login and accepts the
    certificate for USER only if it prints USER. gate-principals prints USER
    (and exits 0) if and only if all of these hold:

      - KEYTYPE is ssh-ed25519-cert-v01@openssh.com;
      - BASE64KEY decodes to a well-formed certificate whose signature
        verifies;
      - it is a user certificate, valid now, and USER is one of its
        principals;
      - the cache is not stale, or --stale-cache is allow (see below);
      - the CA that signed it is listed in DIR/user_ca.pub;
      - the policy in DIR/policy.db allows the certificate's user (its key
        id) to log in as USER on this node: the user exists, is not locked,
        the certificate's serial is not revoked, and USER is one of the
        user's own logins or a login of one of the user's roles whose node
        selector matches this node's labels.

    When the login is allowed and the session must be recorded, the line
    carries a key option (sshd(8), AUTHORIZED_KEYS FILE FORMAT), so that
    sshd runs the recorder instead of the shell or command the client asked
    for (the recorder runs that itself, inside the recording):

      no-port-forwarding,command="/usr/libexec/gate/gate-record" USER

    A session must be recorded when one of the user's roles whose node
    selector matches this node's labels has record_sessions (gatectl roles
    add --record-sessions), whichever login is asked for: the user's own,
    or one another role grants. A node that records every session
    (gate-node record on) also has ForceCommand in its sshd drop-in, which
    takes precedence; the two name the same recorder.

    Otherwise it prints nothing and exits non-zero. It never uses the
    network: the cache is kept fresh by gate-node sync (every 30 s from
    gate-node-sync.timer), and a node that cannot reach gate-ca keeps
    deciding from its last good copy.

    A stale cache: the cache is as old as the last successful gate-node
    sync, which writes DIR/synced-at (not when gate-ca generated the
    policy: a sync that finds nothing new still counts). Past
    --max-cache-age, users locked, roles changed and certificates revoked
    since then are not known here. With --stale-cache allow (the default)
    every login decided from such a cache logs a warning and is decided as
    usual: most sites would rather keep logins working through a gate-ca
    outage. With --stale-cache deny every login is refused until a sync
    succeeds, including during a gate-ca outage or a network partition, so
    nobody (admins included) logs in with a gate certificate then; a
    missing, unreadable or corrupt DIR/synced-at then denies too. The node
    operator chooses with gate-node join --stale-cache, which writes these
    flags into the drop-in.

    It fails closed. Bad or missing arguments, a missing, truncated or
    corrupt cache file (or only the policy.json of an older gate-node,
    until gate-node sync replaces it), or a cache file or directory that
    is a symbolic link, is not owned by root, is writable by group or
    others, or is readable by others, or a directory whose group is not
    gate-cache, all
    deny. Every decision is logged to syslog (facility authpriv, ident
    gate-principals) with the login, the certificate's key id, serial and,
    for a denial, the CA's fingerprint (as gate-node sync recorded it in
    DIR/user_ca.pub; a CA not listed there with one is named by its public
    key's base64) and the reason; the certificate itself is never logged. Each denial is also appended to the refusal spool
    (DIR/../refusals/spool, owned by this user, at most 1 MiB), which
    gate-node sync ships to gate-ca: gatectl audit --failed lists refused
    node logins with the node's name.

    sshd passes %k (the certificate) rather than %i (its key id) because
    sshd substitutes tokens without quoting: a key id containing spaces
    would change the command's arguments.

ARGUMENTS
    USER         the account being logged in to (sshd's %u)
    KEYTYPE      the offered key's type (sshd's %t)
    BASE64KEY    the offered certificate, base64 (sshd's %k)

OPTIONS
    --cache DIR
        The policy cache written by gate-node sync.
        Default: /var/lib/gate-node/cache.
    --cache-owner UID
        For tests only: the uid the cache directory and files must belong
        to instead of root (0). Production nodes never set it; the sshd
        drop-in does not.
    --cache-group GID
        For tests only: the gid the cache directory must have instead of
        the group gate-cache's.
    --stale-cache allow|deny
        What to do with a login once the cache is older than
        --max-cache-age: allow decides from it and logs a warning; deny
        refuses it (see above). Default: allow.
    --max-cache-age DURATION
        How old the last successful sync may be before the cache is stale:
        90s, 10m, 1h30m. Default: 10m.
    --record-command PATH
        The recorder named in command="PATH" for recorded sessions.
        Default: /usr/libexec/gate/gate-record. gate-node record on writes
        it into the drop-in when another path is given there. PATH must be
        absolute and free of whitespace, quotes, backslashes, '%' and '#'
        (it goes inside the option's double quotes unescaped); anything
        else is a usage error.
    --record-config FILE
        Adds --config FILE to the recorder's command line, for a recorder
        settings file other than /etc/gate/recorder.json (gate-node record
        on --recorder-config writes it into the drop-in). Same rules as
        --record-command.
    -h, --help
        Print this help and exit 0.

FILES
    DIR/              root:gate-cache 0750: only root and the group gate-cache
                      (this user; gate-record is setgid to it) read the cache
    DIR/user_ca.pub   trusted user CA keys, each with its fingerprint as
                      the comment (root:gate-cache, 0640)
    DIR/policy.db     users, roles, node labels, locks, revoked serials: an
                      indexed SQLite file gate-node sync writes whole and
                      renames into place; each login reads only the rows of
                      the certificate's user, its roles and locks, and the
                      serial (root:gate-cache, 0640). A policy.json left by
                      an older gate-node is not read: logins are denied
                      until the next sync writes policy.db.
    DIR/synced-at     when the last sync succeeded, unix seconds
                      (root:gate-cache, 0640)
    DIR/revoked.krl   the KRL sshd itself checks (RevokedKeys); not read here
    DIR/../refusals/spool
                      refused logins for gate-ca's audit log (this user, 0600)

EXIT STATUS
    0  USER was printed: the login is allowed
    1  denied (including any error reading the cache); nothing printed
    2  usage error; nothing printed

EXAMPLES
    Check by hand what sshd would decide for alice's certificate:
      gate-principals alice ssh-ed25519-cert-v01@openssh.com \
          "$(cut -d' ' -f2 ~alice/.gate/key-cert.pub)"; echo "exit $?"
    The reason for a denial is in the journal:
      journalctl -t gate-principals

SEE ALSO
    gate-node(8), sshd_config(5) AuthorizedPrincipalsCommand,
    docs/node-protocol.md
)HELP";

// write(2) until done: stdout is a pipe to sshd.
bool WriteAll(std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int Run(int argc, char** argv) {
  using namespace gate::hooks;
  gate::log::Init(gate::log::Sink::kSyslog, "gate-principals");
  auto args = ParsePrincipalsArgs(argc, argv);
  if (!args) {
    gate::log::Error("usage error: " + args.error().message());
    std::string usage = "gate-principals: " + args.error().message() +
                        "\nusage: gate-principals [--cache DIR] [--stale-cache allow|deny] "
                        "[--max-cache-age DURATION] [--record-command PATH] USER KEYTYPE "
                        "BASE64KEY (see --help)\n";
    // sshd discards a hook's stderr; this is for a person running it by hand.
    if (::write(STDERR_FILENO, usage.data(), usage.size()) < 0) {
      return kPrincipalsUsage;
    }
    return kPrincipalsUsage;
  }
  if (args->help) return WriteAll(kHelp) ? 0 : kPrincipalsUsage;

  PrincipalsQuery query;
  query.login = std::move(args->login);
  query.key_type = std::move(args->key_type);
  query.key_base64 = std::move(args->key_base64);
  query.now = static_cast<std::int64_t>(::time(nullptr));
  const PrincipalsDecision decision = DecidePrincipals(args->cache, query, args->staleness);
  // Under stale_cache allow, on every login decided from a stale cache: the
  // journal shows how long this node has gone without gate-ca's updates.
  if (!decision.warning.empty()) {
    gate::log::Warning("login=" + query.login + ": " + decision.warning +
                       "; deciding from it (stale_cache is allow)");
  }
  if (decision.allow &&
      !WriteAll(FormatPrincipalLine(query, decision, args->record_command, args->record_config))) {
    gate::log::Error("deny login=" + query.login + ": cannot write to sshd");
    return kPrincipalsDenied;
  }
  const std::string line = FormatDecisionLog(query, decision);
  if (decision.allow) {
    gate::log::Info(line);
    return kPrincipalsAllowed;
  }
  gate::log::Warning(line);
  // For gatectl audit --failed, by way of gate-node sync; the login is
  // denied whatever happens here.
  const gate::node::Refusal refusal{query.now, decision.key_id, query.login, decision.reason,
                                    decision.serial};
  if (gate::Status s =
          gate::node::AppendRefusal(gate::node::RefusalSpoolDir(args->cache.dir), refusal);
      !s.ok()) {
    gate::log::Warning("refusal not queued for gate-ca's audit log: " + s.message());
  }
  return kPrincipalsDenied;
}

}  // namespace

// sshd's C entry point into us: nothing may escape, and failing means denying.
int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (...) {
    return gate::hooks::kPrincipalsDenied;
  }
}
