// The OTP relay's wire format: how pam_gate.so (source=central) hands a typed
// code to `gate-node otp-relay`, which checks it with gate-ca using the
// node's credentials and answers (docs/pam.md, "Central OTP").
//
// Why a relay: every pamtester, sudo or sshd authentication is a fresh
// process, and speaking HTTPS from it meant loading and setting up OpenSSL
// each time (about 3.5 ms of a 7.5 ms authentication). The relay is a
// long-running root service that has done that once, so the module itself
// stays free of libssl, libcurl and JSON, and the node secret is read by one
// process instead of by every PAM caller.
//
// One request and one reply per connection, each a single line of at most
// kOtpRelayMaxLine bytes, fields separated by one space:
//   request: "verify <gate-user> <code> <timeout-ms>\n"
//   reply:   "<verdict> <gate-user> <message>\n"
// <verdict> is one of the words of OtpVerdictName; <gate-user> is "-" when
// the request was refused before a user was known; <message> is free text for
// logs (no newline) and may be empty. The code never appears in a reply.
#ifndef GATE_OTP_RELAY_H_
#define GATE_OTP_RELAY_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate {

// Where the relay listens (gate-otp-relay.socket), root 0600.
inline constexpr char kDefaultOtpRelaySocket[] = "/run/gate/otp-relay.sock";
inline constexpr std::size_t kOtpRelayMaxLine = 512;
inline constexpr char kOtpRelayNoUser[] = "-";
// What a request may ask for: gate-ca's answer within 1 ms .. 60 s.
inline constexpr std::chrono::milliseconds kOtpRelayMinTimeout{1};
inline constexpr std::chrono::milliseconds kOtpRelayMaxTimeout{60000};

enum class OtpVerdict {
  kAccepted,     // gate-ca accepted the code for this user
  kRefused,      // wrong or reused code, unknown user, or an admin lock
  kLockedOut,    // gate-ca would not check: the user's lockout or a rate limit
  kUnavailable,  // gate-ca could not be reached in time, or failed (5xx)
  kError,        // anything else: bad request, unreadable node credentials...
};

// "accepted", "refused", "locked-out", "unavailable", "error".
std::string_view OtpVerdictName(OtpVerdict verdict);

struct OtpRelayRequest {
  std::string user;
  SecretString code;
  std::chrono::milliseconds timeout{0};
};

struct OtpRelayReply {
  OtpVerdict verdict = OtpVerdict::kError;
  std::string user;  // empty before a user is known ("-" on the wire)
  std::string message;
};

// Whether code can be an OTP code at all: 1 to 16 ASCII digits.
bool IsOtpCodeShape(std::string_view code);

// The request line, newline included. InvalidArgument for a user name that
// ValidateUserName refuses, a code that is not 1-16 ASCII digits, or a
// timeout outside [kOtpRelayMinTimeout, kOtpRelayMaxTimeout].
Result<SecretString> FormatOtpRelayRequest(std::string_view user, std::string_view code,
                                           std::chrono::milliseconds timeout);

// line without its newline. InvalidArgument (never naming the code) for
// anything but exactly the request above with the same rules.
Result<OtpRelayRequest> ParseOtpRelayRequest(std::string_view line);

// The reply line, newline included. Newlines and control characters in
// message become spaces; it is cut so the line fits kOtpRelayMaxLine.
std::string FormatOtpRelayReply(const OtpRelayReply& reply);

// line without its newline ("-" comes back as an empty user).
// InvalidArgument for an unknown verdict, a bad user name or a missing field.
Result<OtpRelayReply> ParseOtpRelayReply(std::string_view line);

// Both ends' socket I/O, bounded by deadline (steady clock). fd may be
// blocking or not.
// ReadOtpRelayLine: one line, returned without its newline (in a
// SecretString: a request carries a code). Unavailable when the time is up
// ("timed out ..."), at end of file before the newline or on a read error;
// InvalidArgument for a line of kOtpRelayMaxLine bytes or more.
Result<SecretString> ReadOtpRelayLine(int fd, std::chrono::steady_clock::time_point deadline);
// WriteOtpRelayLine: all of data (MSG_NOSIGNAL: a peer that went away is
// Unavailable, not SIGPIPE), as is running out of time.
Status WriteOtpRelayLine(int fd, std::string_view data,
                         std::chrono::steady_clock::time_point deadline);

}  // namespace gate

#endif  // GATE_OTP_RELAY_H_
