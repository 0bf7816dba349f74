// One SSH session from gate-ca to a node's stock sshd, as a client (libssh):
// the browser terminal's and the live join's connection (docs/security.md,
// "Browser terminal"). gate-ca is never the node's SSH server; the node's
// gate-principals, PAM and recorder apply exactly as for plain ssh.
//
//   auto term = SshTerminal::Create(options);           // a fresh key, in memory
//   ... issue a certificate for term->public_key() ...
//   Status s = term->Open(certificate);                 // connect, pin, auth, pty
//   loop: poll(term->fd()), term->ReadOutput(...), term->Write(...), term->Resize(...)
//
// The private key is made by libssh in this process's memory, never written
// anywhere, and dies with the object. The server must prove the node's
// registered host key: only the ssh-ed25519 host key algorithm is offered,
// and the key it presents must equal options.host_key.
//
// Thread safety: none. A libssh session is not thread-safe, so every call
// on one object must come from one thread (the bridge's).
#ifndef GATE_CA_WEB_SSH_TERMINAL_H_
#define GATE_CA_WEB_SSH_TERMINAL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ca-server/web/terminal_protocol.h"
#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::ca::web {

struct SshTerminalOptions {
  std::string host;  // the node's SSH address (NodeRecord::ssh_address)
  std::uint16_t port = 22;
  std::string node_name;           // for messages
  ssh::Ed25519PublicKey host_key;  // the node's registered host key (pinned)
  std::string login;               // the OS account
  std::string command;             // empty: the login shell
  TerminalSize size;
  std::chrono::seconds timeout{10};  // connecting, and each step of Open
};

class SshTerminal {
 public:
  // A terminal with a fresh Ed25519 key; Internal if libssh cannot make one.
  static Result<std::unique_ptr<SshTerminal>> Create(SshTerminalOptions options);
  ~SshTerminal();
  SshTerminal(const SshTerminal&) = delete;
  SshTerminal& operator=(const SshTerminal&) = delete;

  const ssh::Ed25519PublicKey& public_key() const { return public_key_; }

  // Connects, checks the host key, authenticates with certificate (which
  // must certify public_key()), opens a session channel with a pty of
  // options.size ("xterm-256color") and starts the login shell or the
  // command; then the session is non-blocking. Errors, with a message for
  // the browser: Unavailable (the node cannot be reached or the connection
  // broke), PermissionDenied (the host key is not the registered one,
  // "host key of NODE does not match the key it joined with"; the node
  // refused the certificate or wants more than it, such as a second
  // factor; the node refused the pty or the command), Internal. Call once.
  Status Open(const ssh::Certificate& certificate);

  // The connection's socket, for poll() (after a successful Open).
  int fd() const;
  // Whether poll() should wait for the socket to take more (libssh holds
  // unsent data).
  bool WantsWrite() const;

  // Hands on whatever the node sent (stdout and stderr, which a pty merges)
  // to sink, in pieces, without blocking; sink returns false to stop (the
  // rest stays buffered for the next call). Flushes pending writes too.
  // Unavailable when the connection broke.
  Status Pump(const std::function<bool(std::string_view)>& sink);

  // Writes as much of data as the channel's window takes now (maybe none);
  // *written says how much. Unavailable when the connection broke.
  Status Write(std::string_view data, std::size_t* written);

  // The pty's new size (a window-change request).
  Status Resize(TerminalSize size);

  // True once the node has closed the channel and every byte
  // it sent was handed to Pump's sink.
  bool Ended() const;
  // What the node reported when the command ended: its exit status, or
  // the signal that killed it ("HUP", ...); neither if it said nothing.
  std::optional<int> exit_status() const { return exit_status_; }
  const std::string& exit_signal() const { return exit_signal_; }

 private:
  struct Impl;
  SshTerminal(SshTerminalOptions options, std::unique_ptr<Impl> impl,
              ssh::Ed25519PublicKey public_key);

  SshTerminalOptions options_;
  std::unique_ptr<Impl> impl_;
  ssh::Ed25519PublicKey public_key_;
  std::optional<int> exit_status_;
  std::string exit_signal_;
  bool remote_closed_ = false;  // the node sent its channel close
};

}  // namespace gate::ca::web

#endif  // GATE_CA_WEB_SSH_TERMINAL_H_
