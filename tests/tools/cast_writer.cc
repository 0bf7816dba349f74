// gate-test-cast: writes a session recording the way gate-record does
// (cast::Writer, the recorder's own writer, LOCK_SH held while it writes),
// for integration tests that need recordings without a recorded ssh session:
// many at once, live ones held open on command, cut-short ones.
//
//   gate-test-cast --out FILE --key RECORDER_KEY --id SESSION_ID --node HOST_UUID
//                  [--node-name N] [--user U] [--login L] [--join USER]...
//                  [--outputs N] [--live] [--cut-short]
//
// --live: after the first outputs, print "ready" and wait for a line on
// stdin before finishing (the lock is held all the while). --cut-short: end
// without the exit event, as a killed recorder does. Built only with tests.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "gate/asciicast.h"
#include "gate/ed25519.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace {

int Die(const std::string& what) {
  std::cerr << "gate-test-cast: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gate;
  CLI::App app{"gate-test-cast: write a gate recording for tests", "gate-test-cast"};
  std::string out, key_path;
  cast::Header h;
  h.timestamp = std::time(nullptr);
  h.env = {{"TERM", "xterm-256color"}, {"SHELL", "/bin/sh"}};
  h.node_name = "node1";
  h.user = "alice";
  h.login = "root";
  h.cluster = "test-cluster";
  h.cert_serial = "1";
  h.mode = "interactive";
  std::vector<std::string> joins;
  int outputs = 3;
  bool live = false, cut_short = false;
  app.add_option("--out", out)->required();
  app.add_option("--key", key_path)->required();
  app.add_option("--id", h.session_id)->required();
  app.add_option("--node", h.node)->required();
  app.add_option("--node-name", h.node_name);
  app.add_option("--user", h.user);
  app.add_option("--login", h.login);
  app.add_option("--join", joins);
  app.add_option("--outputs", outputs);
  app.add_flag("--live", live);
  app.add_flag("--cut-short", cut_short);
  CLI11_PARSE(app, argc, argv);
  h.title = h.user + "@" + h.node_name;

  FilePolicy policy;
  auto pem = ReadSecureFile(key_path, policy);
  if (!pem) return Die(pem.error().ToString());
  auto key = ssh::DecodeOpenSshPrivateKey(pem->view());
  if (!key) return Die(key.error().ToString());
  auto file = Env::Default()->NewWritableFile(out, WriteMode::kCreateExclusive, 0600);
  if (!file || ::flock((*file)->fd(), LOCK_SH | LOCK_NB) != 0) return Die("cannot create " + out);
  // The lock belongs to the open file description; keep one for ourselves.
  UniqueFd lock(::dup((*file)->fd()));
  auto writer = cast::Writer::Create(std::move(*file), h, *key);
  if (!writer) return Die(writer.error().ToString());
  double t = 0.2;
  auto burst = [&](const std::string& tag) -> bool {
    for (int i = 0; i < outputs; ++i) {
      writer->Output(t, tag + " line " + std::to_string(i) + " " + std::string(64, 'x') + "\r\n");
      t += 0.1;
    }
    return writer->Flush(t).ok();
  };
  if (!burst("first")) return Die("write failed");
  for (const std::string& user : joins) {
    writer->Join(t, R"({"event":"join","user":")" + user + R"(","mode":"observer"})");
    writer->Join(t + 0.1, R"({"event":"leave","user":")" + user + R"(","mode":"observer"})");
    t += 0.2;
  }
  if (!writer->Flush(t).ok()) return Die("write failed");
  if (live) {
    std::cout << "ready" << std::endl;
    std::string line;
    std::getline(std::cin, line);
    if (!burst("second")) return Die("write failed");
  }
  if (cut_short) return 0;
  writer->Exit(t + 0.5, R"({"exit_status":0})");
  if (Status s = writer->Close(t + 0.5); !s.ok()) return Die(s.ToString());
  return 0;
}
