#include "gate/otp_relay.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "gate/names.h"

namespace gate {
namespace {

constexpr std::string_view kVerify = "verify";
constexpr std::size_t kMaxCodeDigits = 16;

constexpr std::array<std::pair<OtpVerdict, std::string_view>, 5> kVerdicts{{
    {OtpVerdict::kAccepted, "accepted"},
    {OtpVerdict::kRefused, "refused"},
    {OtpVerdict::kLockedOut, "locked-out"},
    {OtpVerdict::kUnavailable, "unavailable"},
    {OtpVerdict::kError, "error"},
}};

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status CheckCode(std::string_view code) {
  if (!IsOtpCodeShape(code)) {
    return InvalidArgument("the OTP code must be 1 to 16 digits");
  }
  return Status::Ok();
}

Status CheckTimeout(std::chrono::milliseconds timeout) {
  if (timeout < kOtpRelayMinTimeout || timeout > kOtpRelayMaxTimeout) {
    return InvalidArgument("the timeout must be 1 to 60000 ms");
  }
  return Status::Ok();
}

// Splits off the text before the next space; false when there is no space.
bool TakeField(std::string_view* rest, std::string_view* field) {
  const std::size_t space = rest->find(' ');
  if (space == std::string_view::npos) return false;
  *field = rest->substr(0, space);
  rest->remove_prefix(space + 1);
  return true;
}

}  // namespace

bool IsOtpCodeShape(std::string_view code) {
  return code.size() <= kMaxCodeDigits && IsDigits(code);
}

std::string_view OtpVerdictName(OtpVerdict verdict) {
  for (const auto& [v, name] : kVerdicts) {
    if (v == verdict) return name;
  }
  return "error";
}

Result<SecretString> FormatOtpRelayRequest(std::string_view user, std::string_view code,
                                           std::chrono::milliseconds timeout) {
  GATE_RETURN_IF_ERROR(ValidateUserName(user));
  GATE_RETURN_IF_ERROR(CheckCode(code));
  GATE_RETURN_IF_ERROR(CheckTimeout(timeout));
  SecretString line;
  line.reserve(kOtpRelayMaxLine);
  line.append(kVerify).append(" ").append(user).append(" ").append(code).append(" ");
  const std::string ms = std::to_string(timeout.count());
  line.append(ms).append("\n");
  return line;
}

Result<OtpRelayRequest> ParseOtpRelayRequest(std::string_view line) {
  const Status malformed =
      InvalidArgument("malformed request (want \"verify <user> <code> <timeout-ms>\")");
  if (line.size() >= kOtpRelayMaxLine) return Err(malformed);
  std::string_view rest = line, verb, user, code;
  if (!TakeField(&rest, &verb) || verb != kVerify || !TakeField(&rest, &user) ||
      !TakeField(&rest, &code)) {
    return Err(malformed);
  }
  if (Status s = ValidateUserName(user); !s.ok()) return Err(s);
  if (Status s = CheckCode(code); !s.ok()) return Err(s);
  long long ms = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), ms);
  // Canonical decimal only: "015" is not 15, so every request has one form.
  if (ec != std::errc() || end != rest.data() + rest.size() || !IsDigits(rest) ||
      (rest.size() > 1 && rest.front() == '0')) {
    return Err(malformed);
  }
  const std::chrono::milliseconds timeout(ms);
  if (Status s = CheckTimeout(timeout); !s.ok()) return Err(s);
  return OtpRelayRequest{std::string(user), SecretString(code), timeout};
}

std::string FormatOtpRelayReply(const OtpRelayReply& reply) {
  std::string line(OtpVerdictName(reply.verdict));
  line.append(" ").append(reply.user.empty() ? kOtpRelayNoUser : reply.user).append(" ");
  // Room for the message: the line, its newline, nothing more.
  const std::size_t room = kOtpRelayMaxLine - 1 - std::min(line.size(), kOtpRelayMaxLine - 1);
  for (char c : std::string_view(reply.message).substr(0, room)) {
    const auto u = static_cast<unsigned char>(c);
    line.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  line.push_back('\n');
  return line;
}

Result<OtpRelayReply> ParseOtpRelayReply(std::string_view line) {
  const Status malformed = InvalidArgument("malformed reply from the OTP relay");
  if (line.size() >= kOtpRelayMaxLine) return Err(malformed);
  std::string_view rest = line, verdict, user;
  if (!TakeField(&rest, &verdict) || !TakeField(&rest, &user)) return Err(malformed);
  OtpRelayReply reply;
  const auto known = std::find_if(kVerdicts.begin(), kVerdicts.end(),
                                  [&](const auto& v) { return v.second == verdict; });
  if (known == kVerdicts.end()) return Err(malformed);
  if (user != kOtpRelayNoUser && !ValidateUserName(user).ok()) return Err(malformed);
  reply.verdict = known->first;
  if (user != kOtpRelayNoUser) reply.user = std::string(user);
  reply.message = std::string(rest);
  return reply;
}

}  // namespace gate
