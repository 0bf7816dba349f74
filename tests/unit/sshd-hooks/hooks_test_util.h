// Fixtures for the sshd-hooks tests: a scratch directory, files with an
// explicit mode, and a node cache (CA, policy snapshot, KRL) built in-test.
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

#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/json.h"
#include "gate/krl.h"
#include "gate/policy.h"

namespace gate::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/gate-hooks-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
    // mkdtemp makes 0700; the cache checks want no group/other write, and
    // root-run tests want others to traverse like sshd's command user would.
    chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, std::string_view content, mode_t mode = 0644) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) std::abort();
  }
  if (chmod(path.c_str(), mode) != 0) std::abort();
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

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

inline std::string SnapshotText(const policy::Snapshot& s) {
  return json::Write(policy::SnapshotToJson(s)) + "\n";
}

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_SSHD_HOOKS_HOOKS_TEST_UTIL_H_
