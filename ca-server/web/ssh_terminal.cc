#include "ca-server/web/ssh_terminal.h"

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <array>
#include <utility>

#include "gate/bytes.h"
#include "gate/cptr.h"

namespace gate::ca::web {
namespace {

using SessionPtr = CPtr<ssh_session_struct, ssh_free>;
using KeyPtr = CPtr<ssh_key_struct, ssh_key_free>;
using ChannelPtr = CPtr<ssh_channel_struct, ssh_channel_free>;
using EventPtr = CPtr<ssh_event_struct, ssh_event_free>;

constexpr const char* kHostKeyAlgorithms = "ssh-ed25519";
constexpr const char* kUserKeyAlgorithms = "ssh-ed25519-cert-v01@openssh.com";
constexpr const char* kTerminalType = "xterm-256color";
constexpr std::size_t kReadChunk = 32 * 1024;

// The base64 wire blob of key, or empty.
std::string KeyBase64(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || b64 == nullptr) return {};
  std::string out(b64);
  ssh_string_free_char(b64);
  return out;
}

}  // namespace

struct SshTerminal::Impl {
  SessionPtr session;
  KeyPtr key;
  ChannelPtr channel;
  // Drives the session once it is open: reads and handles every packet
  // that arrived (data, window changes, exit status, EOF, close) and
  // writes what libssh holds. Reading the channel alone stops handling
  // packets once EOF has come, which would leave the exit status and the
  // close unread.
  EventPtr event;
  ssh_channel_callbacks_struct callbacks{};
  bool eof = false;

  std::string Error() const { return ssh_get_error(session.get()); }
};

Result<std::unique_ptr<SshTerminal>> SshTerminal::Create(SshTerminalOptions options) {
  auto impl = std::make_unique<Impl>();
  ssh_key key = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK || key == nullptr) {
    return Err(Internal("libssh could not generate an Ed25519 key"));
  }
  impl->key.reset(key);
  auto blob = Base64Decode(KeyBase64(key));
  if (!blob) return Err(Internal("libssh's public key is not base64"));
  auto public_key = ssh::Ed25519PublicKey::FromBlob(*blob);
  if (!public_key) return Err(Internal("libssh's public key: " + public_key.error().message()));
  return std::unique_ptr<SshTerminal>(
      new SshTerminal(std::move(options), std::move(impl), *std::move(public_key)));
}

SshTerminal::SshTerminal(SshTerminalOptions options, std::unique_ptr<Impl> impl,
                         ssh::Ed25519PublicKey public_key)
    : options_(std::move(options)), impl_(std::move(impl)), public_key_(std::move(public_key)) {}

SshTerminal::~SshTerminal() {
  if (impl_->event) {
    ssh_event_remove_session(impl_->event.get(), impl_->session.get());
    impl_->event.reset();
  }
  if (impl_->channel) {
    ssh_channel_close(impl_->channel.get());
    impl_->channel.reset();
  }
  if (impl_->session) ssh_disconnect(impl_->session.get());
}

Status SshTerminal::Open(const ssh::Certificate& certificate) {
  const std::string where = options_.node_name;
  impl_->session.reset(ssh_new());
  ssh_session s = impl_->session.get();
  if (s == nullptr) return Internal("libssh could not create a session");
  const unsigned int port = options_.port;
  const long timeout = static_cast<long>(options_.timeout.count());
  const int no = 0;
  const int yes = 1;
  const bool process_config = false;
  // No ~/.ssh/config, known_hosts, agent or GSSAPI: everything this
  // connection trusts is set here.
  if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &process_config) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_HOST, options_.host.c_str()) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_USER, options_.login.c_str()) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, kHostKeyAlgorithms) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES, kUserKeyAlgorithms) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_GSSAPI_DELEGATE_CREDENTIALS, &no) != SSH_OK ||
      // Keystrokes are single bytes: Nagle would hold each one for an ACK.
      ssh_options_set(s, SSH_OPTIONS_NODELAY, &yes) != SSH_OK) {
    return Internal("libssh options: " + impl_->Error());
  }
  if (ssh_connect(s) != SSH_OK) {
    return Unavailable("cannot reach " + where + " at " + options_.host + ":" +
                       std::to_string(options_.port) + ": " + impl_->Error());
  }
  // The host key first: nothing, not even the certificate, goes to a server
  // that is not the node.
  ssh_key server_key = nullptr;
  if (ssh_get_server_publickey(s, &server_key) != SSH_OK || server_key == nullptr) {
    return PermissionDenied("host key of " + where + " does not match the key it joined with");
  }
  KeyPtr server_key_owner(server_key);
  if (ssh_key_type(server_key) != SSH_KEYTYPE_ED25519 ||
      KeyBase64(server_key) != Base64Encode(options_.host_key.Blob())) {
    return PermissionDenied("host key of " + where + " does not match the key it joined with");
  }

  ssh_key cert = nullptr;
  if (ssh_pki_import_cert_base64(Base64Encode(certificate.blob).c_str(), SSH_KEYTYPE_ED25519_CERT01,
                                 &cert) != SSH_OK ||
      cert == nullptr) {
    return Internal("libssh could not read the certificate");
  }
  KeyPtr cert_owner(cert);
  if (ssh_pki_copy_cert_to_privkey(cert, impl_->key.get()) != SSH_OK) {
    return Internal("libssh could not attach the certificate to its key");
  }
  switch (ssh_userauth_publickey(s, nullptr, impl_->key.get())) {
    case SSH_AUTH_SUCCESS:
      break;
    case SSH_AUTH_PARTIAL:
      return PermissionDenied(where + " asks " + options_.login +
                              " for more than a certificate (such as a second factor), which "
                              "the browser terminal cannot answer");
    case SSH_AUTH_DENIED:
      return PermissionDenied(where + " refused the certificate for login " + options_.login);
    default:
      return Unavailable("authentication on " + where + " failed: " + impl_->Error());
  }

  impl_->channel.reset(ssh_channel_new(s));
  ssh_channel ch = impl_->channel.get();
  if (ch == nullptr) return Internal("libssh could not create a channel");
  impl_->callbacks.userdata = this;
  impl_->callbacks.channel_exit_status_function = [](ssh_session, ssh_channel, int status,
                                                     void* self) {
    static_cast<SshTerminal*>(self)->exit_status_ = status;
  };
  impl_->callbacks.channel_close_function = [](ssh_session, ssh_channel, void* self) {
    static_cast<SshTerminal*>(self)->remote_closed_ = true;
  };
  impl_->callbacks.channel_exit_signal_function = [](ssh_session, ssh_channel, const char* signal,
                                                     int, const char*, const char*, void* self) {
    static_cast<SshTerminal*>(self)->exit_signal_ = signal != nullptr ? signal : "";
  };
  ssh_callbacks_init(&impl_->callbacks);
  if (ssh_set_channel_callbacks(ch, &impl_->callbacks) != SSH_OK) {
    return Internal("libssh could not set the channel's callbacks");
  }
  if (ssh_channel_open_session(ch) != SSH_OK) {
    return Unavailable("cannot open a session on " + where + ": " + impl_->Error());
  }
  if (ssh_channel_request_pty_size(ch, kTerminalType, options_.size.cols, options_.size.rows) !=
      SSH_OK) {
    return PermissionDenied(where + " refused a terminal (pty) for " + options_.login);
  }
  const int started = options_.command.empty()
                          ? ssh_channel_request_shell(ch)
                          : ssh_channel_request_exec(ch, options_.command.c_str());
  if (started != SSH_OK) {
    return PermissionDenied(
        where + " refused to start " +
        (options_.command.empty() ? std::string("a shell") : "'" + options_.command + "'"));
  }
  ssh_set_blocking(s, 0);
  impl_->event.reset(ssh_event_new());
  if (!impl_->event || ssh_event_add_session(impl_->event.get(), s) != SSH_OK) {
    return Internal("libssh could not make an event loop");
  }
  return Status::Ok();
}

int SshTerminal::fd() const { return impl_->session ? ssh_get_fd(impl_->session.get()) : -1; }

bool SshTerminal::WantsWrite() const {
  return impl_->session && (ssh_get_poll_flags(impl_->session.get()) & SSH_WRITE_PENDING) != 0;
}

Status SshTerminal::Pump(const std::function<bool(std::string_view)>& sink) {
  ssh_channel ch = impl_->channel.get();
  if (ssh_event_dopoll(impl_->event.get(), 0) == SSH_ERROR && !remote_closed_ &&
      !ssh_channel_is_closed(ch)) {
    return Unavailable("the connection to " + options_.node_name + " broke: " + impl_->Error());
  }
  std::array<char, kReadChunk> buf;
  for (int is_stderr : {0, 1}) {
    for (;;) {
      const int n = ssh_channel_read_nonblocking(ch, buf.data(), buf.size(), is_stderr);
      if (n == SSH_EOF) {
        impl_->eof = true;
        break;
      }
      if (n < 0) {
        // A channel the node closed reads as an error once its data is out.
        if (ssh_channel_is_closed(ch) || ssh_channel_is_eof(ch)) {
          impl_->eof = true;
          break;
        }
        return Unavailable("the connection to " + options_.node_name + " broke: " + impl_->Error());
      }
      if (n == 0) break;
      if (!sink(std::string_view(buf.data(), static_cast<std::size_t>(n)))) return Status::Ok();
    }
  }
  return Status::Ok();
}

Status SshTerminal::Write(std::string_view data, std::size_t* written) {
  *written = 0;
  ssh_channel ch = impl_->channel.get();
  const std::size_t window = ssh_channel_window_size(ch);
  const std::size_t n = std::min(window, data.size());
  if (n == 0) return Status::Ok();
  const int rc = ssh_channel_write(ch, data.data(), static_cast<std::uint32_t>(n));
  if (rc == SSH_ERROR) {
    return Unavailable("the connection to " + options_.node_name + " broke: " + impl_->Error());
  }
  *written = static_cast<std::size_t>(rc);
  return Status::Ok();
}

Status SshTerminal::Resize(TerminalSize size) {
  if (ssh_channel_change_pty_size(impl_->channel.get(), size.cols, size.rows) == SSH_ERROR) {
    return Unavailable("the connection to " + options_.node_name + " broke: " + impl_->Error());
  }
  return Status::Ok();
}

bool SshTerminal::Ended() const {
  ssh_channel ch = impl_->channel.get();
  if (ch == nullptr) return true;
  // The close, not EOF: with a pty, sshd may send EOF before it has reaped
  // the shell and sent its exit status. The close is noted by its callback
  // because libssh keeps a channel whose close arrived with output still
  // buffered open (a delayed close).
  return (remote_closed_ || ssh_channel_is_closed(ch)) && ssh_channel_poll(ch, 0) <= 0 &&
         ssh_channel_poll(ch, 1) <= 0;
}

}  // namespace gate::ca::web
