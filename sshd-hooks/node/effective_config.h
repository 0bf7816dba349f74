// Whether the sshd that will run is the one gate configured. sshd keeps the
// first value it reads for most keywords, a Match block overrides them for
// the connections it matches, and AuthorizedPrincipalsFile adds principals
// beside gate-principals' answer; so a host's own earlier drop-in or Match
// block can quietly undo gate's revocation list, CA or login decisions. This
// asks sshd itself (`sshd -T`, and `-T -C` for each Match block) what it
// will do, and names the file and line that stand in the way.
#ifndef GATE_SSHD_HOOKS_NODE_EFFECTIVE_CONFIG_H_
#define GATE_SSHD_HOOKS_NODE_EFFECTIVE_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "gate/status.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::hooks {

// One directive of sshd's configuration, in the order sshd reads them.
struct ConfigLine {
  std::string file;
  int line = 0;
  std::string keyword;  // lower case
  std::string value;    // the rest, as written
  // The Match line this directive is under ("" at top level), as "file:line".
  std::string match_at;
};

// Reads config and every file it Includes (globs expanded in lexical order;
// relative paths from ssh_dir, as sshd does from /etc/ssh), at most 16 deep.
// A directive in an included file inherits the Match block of the Include.
// NotFound/Unavailable naming the file that cannot be read.
Result<std::vector<ConfigLine>> ReadSshdConfig(const std::string& config,
                                               const std::string& ssh_dir);

// A `sshd -T -C` connection spec for which the Match line's criteria hold
// ("user=alice,host=probe.invalid,addr=192.0.2.1"), or "" when none can be
// made (e.g. a Group with no members): such a block is left unchecked and
// reported as a warning.
std::string MatchSpec(const std::string& criteria);

// `<binary> -T -f <config>` (with `-C spec` unless spec is empty): keyword
// (lower case) -> value, the first line of each keyword. FailedPrecondition
// with sshd's output when it fails; Unavailable when it cannot run.
Result<std::map<std::string, std::string>> RunSshdT(const std::string& binary,
                                                    const std::string& config,
                                                    const std::string& spec = "");

// What gate needs, as `sshd -T` prints it: keyword (lower case) -> value.
struct ExpectedSetting {
  std::string keyword;
  std::string value;
};
std::vector<ExpectedSetting> ExpectedSettings(const DropInSettings& drop_in);

// A setting sshd will not take from gate's drop-in.
struct Bypass {
  std::string keyword;
  std::string want;
  std::string effective;   // what sshd -T printed instead
  std::string connection;  // "" for every connection, else the -C spec
  std::string culprit;     // "file:line: Keyword value", or the explanation
};

struct EffectiveConfig {
  std::vector<Bypass> bypasses;
  std::vector<std::string> warnings;  // e.g. AuthorizedKeysFile left enabled
};

// Runs `<binary> -T -f <config>` and `-T -C <spec>` for each Match block,
// and compares with ExpectedSettings. drop_in_path is gate's own file (its
// lines are never the culprit). Unavailable/FailedPrecondition when sshd -T
// cannot run or fails.
Result<EffectiveConfig> CheckEffectiveConfig(const std::string& binary, const std::string& config,
                                             const std::string& ssh_dir,
                                             const std::string& drop_in_path,
                                             const DropInSettings& drop_in);

// One line per bypass: "sshd ignores gate's RevokedKeys ...: FILE:LINE sets
// RevokedKeys site.krl first; remove it or ...".
std::string DescribeBypasses(const std::vector<Bypass>& bypasses);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_EFFECTIVE_CONFIG_H_
