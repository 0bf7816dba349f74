// gate-test-castwrite KEY OUT < SCRIPT: writes a recording with the real
// gate::cast::Writer, so integration tests can play it with gate play and
// asciinema. KEY is an OpenSSH Ed25519 private key (ssh-keygen -N '').
// SCRIPT has one call per line; data is base64 so any bytes fit:
//   o T BASE64      Output        i T BASE64   Input
//   r T COLS ROWS   Resize        j T BASE64   Join (JSON)
//   x T BASE64      Exit (JSON)   flush T      Flush     close T   Close
// Stops at the first error with exit status 1; without `close` the file is
// left as a crashed recorder would leave it.
#include <fcntl.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "gate/asciicast.h"
#include "gate/bytes.h"
#include "gate/ed25519.h"
#include "gate/secure_file.h"

namespace {

int Fail(const std::string& what) {
  std::cerr << "gate-test-castwrite: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return Fail("usage: gate-test-castwrite KEY OUT < SCRIPT");
  auto pem = gate::ReadFile(argv[1]);
  if (!pem) return Fail(pem.error().ToString());
  auto key = gate::ssh::DecodeOpenSshPrivateKey(*pem);
  if (!key) return Fail(key.error().ToString());

  gate::cast::Header header;
  header.width = 80;
  header.height = 24;
  header.timestamp = 1764089000;
  header.env = {{"TERM", "xterm-256color"}, {"SHELL", "/bin/bash"}};
  header.title = "alice@db-1";
  header.session_id = "6f1c1f3e-8d2a-4c61-9a57-0b6f3a2f9d10";
  header.user = "alice";
  header.login = "root";
  header.node = "4a6f0c2e-1111-2222-3333-444455556666";
  header.node_name = "db-1";
  header.cluster = "grav-00";
  header.cert_serial = "123";
  header.mode = "interactive";
  auto file =
      gate::Env::Default()->NewWritableFile(argv[2], gate::WriteMode::kCreateExclusive, 0600);
  if (!file) return Fail(file.error().ToString());
  auto w = gate::cast::Writer::Create(std::move(*file), header, *key);
  if (!w) return Fail(w.error().ToString());

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string op, arg;
    double t = 0;
    if (!(in >> op >> t)) return Fail("bad line: " + line);
    gate::Status s;
    if (op == "flush") {
      s = w->Flush(t);
    } else if (op == "close") {
      s = w->Close(t);
    } else if (op == "r") {
      int cols = 0, rows = 0;
      if (!(in >> cols >> rows)) return Fail("bad line: " + line);
      w->Resize(t, cols, rows);
    } else {
      in >> arg;  // empty data is an empty base64 string
      auto data = gate::Base64Decode(arg);
      if (!data) return Fail("bad base64: " + line);
      if (op == "o") {
        w->Output(t, *data);
      } else if (op == "i") {
        w->Input(t, *data);
      } else if (op == "j") {
        w->Join(t, *data);
      } else if (op == "x") {
        w->Exit(t, *data);
      } else {
        return Fail("unknown call: " + line);
      }
    }
    if (!s.ok()) return Fail(s.ToString());
  }
  return 0;
}
