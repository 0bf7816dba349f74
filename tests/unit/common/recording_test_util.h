// Real recordings for tests, written with cast::Writer (the recorder's own
// writer), so what gate-ca and the uploader are tested against is what a
// node produces.
#ifndef GATE_TESTS_UNIT_COMMON_RECORDING_TEST_UTIL_H_
#define GATE_TESTS_UNIT_COMMON_RECORDING_TEST_UTIL_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gate/asciicast.h"
#include "gate/ed25519.h"
#include "gate/env.h"
#include "gate/unique_fd.h"

namespace gate::testing {

struct RecordingScript {
  std::vector<std::string> outputs = {"$ id\r\n", "uid=0(root) gid=0(root)\r\n"};
  std::vector<std::string> joins;  // data of "j" events, written after the outputs
  bool finish = true;              // an "x" event and Close; else cut short
  std::string exit = R"({"exit_status":0})";
};

inline cast::Header TestHeader(const std::string& session_id, const std::string& node,
                               const std::string& user = "alice") {
  cast::Header h;
  h.timestamp = 1'700'000'000;
  h.env = {{"TERM", "xterm-256color"}, {"SHELL", "/bin/bash"}};
  h.title = user + "@db-1";
  h.session_id = session_id;
  h.user = user;
  h.login = "root";
  h.node = node;
  h.node_name = "db-1";
  h.cluster = "grav-00";
  h.cert_serial = "123";
  h.mode = "interactive";
  return h;
}

// Writes the recording to path (created 0600, replaced if present) and
// returns its bytes. Aborts the test binary on a write error: the helper
// is not what is under test.
inline std::string WriteRecording(const std::string& path, const cast::Header& header,
                                  const ssh::Ed25519PrivateKey& key,
                                  const RecordingScript& script = {}) {
  auto file = Env::Default()->NewWritableFile(path, WriteMode::kCreateOrTruncate, 0600);
  if (!file) std::abort();
  auto writer = cast::Writer::Create(std::move(*file), header, key);
  if (!writer) std::abort();
  double t = 0.5;
  for (const std::string& out : script.outputs) {
    writer->Output(t, out);
    if (!writer->Flush(t).ok()) std::abort();
    t += 0.5;
  }
  for (const std::string& join : script.joins) {
    writer->Join(t, join);
    t += 0.25;
  }
  if (!writer->Flush(t).ok()) std::abort();
  if (script.finish) {
    writer->Exit(t + 1, script.exit);
    if (!writer->Close(t + 1).ok()) std::abort();
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_COMMON_RECORDING_TEST_UTIL_H_
