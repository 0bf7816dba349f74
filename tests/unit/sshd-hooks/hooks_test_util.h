// Fixtures for the sshd-hooks tests: a scratch directory, files with an
// explicit mode, and a node cache (CA, policy snapshot, KRL) built in-test.
// The policy cache is built by node::EncodePolicyCache, the encoder sync uses.
#ifndef GATE_TESTS_UNIT_SSHD_HOOKS_HOOKS_TEST_UTIL_H_
#define GATE_TESTS_UNIT_SSHD_HOOKS_HOOKS_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "common/test_util.h"
#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/json.h"
#include "gate/krl.h"
#include "gate/node_cache.h"
#include "gate/policy.h"

namespace gate::testing {

inline ssh::Ed25519PrivateKey NewKey() { return ssh::Ed25519PrivateKey::Generate().value(); }

// A cluster as the node sees it: alice with her own login and the dba role
// (postgres on env=prod nodes); this node is env=prod.
inline policy::Snapshot DefaultSnapshot() {
  policy::Snapshot s;
  s.cluster_name = "grav-00";
  s.host_uuid = "4a6f0000-0000-4000-8000-000000000001";
  s.generated_at = 1764000000;
  s.node_labels = {{"env", "prod"}};
  s.users.push_back({"alice", {"alice"}, {"dba"}});
  s.users.push_back({"bob", {"bob"}, {}});
  policy::Role dba;
  dba.name = "dba";
  dba.logins = {"postgres"};
  dba.node_labels = {{"env", "prod"}};
  s.roles.push_back(dba);
  return s;
}

// An empty node cache directory "cache" under tmp, as gate-node keeps it
// (kCacheDirMode), owned by this uid and group (the tests' stand-ins for
// root and gate-cache). An empty dir in the result means it could not be
// made.
inline node::CacheLocation MakeCacheDir(const TempDir& tmp) {
  node::CacheLocation cache;
  cache.dir = tmp.File("cache");
  cache.owner = geteuid();
  cache.group = getegid();
  if (mkdir(cache.dir.c_str(), node::kCacheDirMode) != 0 ||
      chmod(cache.dir.c_str(), node::kCacheDirMode) != 0) {
    cache.dir.clear();
  }
  return cache;
}

// The bytes of cache/policy.db for s.
inline std::string SnapshotText(const policy::Snapshot& s) {
  return node::EncodePolicyCache(s).value();
}

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_SSHD_HOOKS_HOOKS_TEST_UTIL_H_
