#include "pam_module/options.h"

#include <charconv>
#include <set>
#include <string_view>

namespace gate::pam {
namespace {

Status Bad(std::string_view arg, std::string_view why) {
  return InvalidArgument("option '" + std::string(arg) + "': " + std::string(why));
}

// Strict decimal in [lo, hi]: no sign, no spaces, no trailing garbage.
Result<int> ParseInt(std::string_view arg, std::string_view value, int lo, int hi) {
  int out = 0;
  const char* end = value.data() + value.size();
  if (value.empty() || value.front() < '0' || value.front() > '9') {
    return Err(Bad(arg, "expected a number"));
  }
  auto [ptr, ec] = std::from_chars(value.data(), end, out);
  if (ec == std::errc::result_out_of_range) return Err(Bad(arg, "number out of range"));
  if (ec != std::errc() || ptr != end) return Err(Bad(arg, "expected a number"));
  if (out < lo || out > hi) {
    return Err(Bad(arg, "must be between " + std::to_string(lo) + " and " + std::to_string(hi)));
  }
  return out;
}

const std::set<std::string_view> kFlags = {"nullok", "cue", "debug", "user_verification"};
const std::set<std::string_view> kValued = {"second_factor", "source",    "authfile", "state_dir",
                                            "window",        "max_tries", "lockout",  "timeout",
                                            "offline",       "relay",     "appid",    "origin"};

Status RequireAbsolutePath(std::string_view arg, std::string_view value) {
  if (value.empty() || value.front() != '/') return Bad(arg, "expected an absolute path");
  return Status::Ok();
}

}  // namespace

Result<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  bool origin_set = false;
  std::set<std::string, std::less<>> seen;
  for (const std::string& arg : args) {
    const std::size_t eq = arg.find('=');
    const std::string_view name = std::string_view(arg).substr(0, eq);
    const bool has_value = eq != std::string::npos;
    const std::string_view value =
        has_value ? std::string_view(arg).substr(eq + 1) : std::string_view();
    Status s;
    if (kFlags.count(name) != 0) {
      if (has_value) return Err(Bad(arg, "takes no value"));
    } else if (kValued.count(name) != 0) {
      if (value.empty()) return Err(Bad(arg, "needs a value"));
    } else {
      return Err(Bad(arg, "unknown option"));
    }
    // A repeated option would leave the reader of /etc/pam.d guessing which
    // one wins; refuse it like any other malformed line.
    if (!seen.insert(std::string(name)).second) return Err(Bad(arg, "given more than once"));

    if (name == "nullok") {
      o.nullok = true;
    } else if (name == "cue") {
      o.cue = true;
    } else if (name == "debug") {
      o.debug = true;
    } else if (name == "user_verification") {
      o.user_verification = true;
    } else if (name == "second_factor") {
      if (value == "otp") {
        o.second_factor = SecondFactor::kOtp;
      } else if (value == "u2f") {
        o.second_factor = SecondFactor::kU2f;
      } else if (value == "off") {
        o.second_factor = SecondFactor::kOff;
      } else {
        s = Bad(arg, "expected otp, u2f or off");
      }
    } else if (name == "source") {
      if (value == "central") {
        o.source = Source::kCentral;
      } else if (value == "local") {
        o.source = Source::kLocal;
      } else {
        s = Bad(arg, "expected central or local");
      }
    } else if (name == "offline") {
      if (value == "deny") {
        o.offline = Offline::kDeny;
      } else if (value == "local") {
        o.offline = Offline::kLocal;
      } else {
        s = Bad(arg, "expected deny or local");
      }
    } else if (name == "authfile") {
      s = RequireAbsolutePath(arg, value);
      o.authfile = std::string(value);
    } else if (name == "state_dir") {
      s = RequireAbsolutePath(arg, value);
      o.state_dir = std::string(value);
    } else if (name == "relay") {
      s = RequireAbsolutePath(arg, value);
      o.relay = std::string(value);
    } else if (name == "window") {
      auto n = ParseInt(arg, value, 0, 3);
      if (n)
        o.window = *n;
      else
        s = n.error();
    } else if (name == "max_tries") {
      auto n = ParseInt(arg, value, 1, 100);
      if (n)
        o.max_tries = *n;
      else
        s = n.error();
    } else if (name == "lockout") {
      // Seconds; 0 would make max_tries meaningless, a day is plenty.
      auto n = ParseInt(arg, value, 1, 86400);
      if (n)
        o.lockout = std::chrono::seconds(*n);
      else
        s = n.error();
    } else if (name == "timeout") {
      // Milliseconds for the whole central request: sshd's LoginGraceTime
      // and a waiting user bound it from above.
      auto n = ParseInt(arg, value, 100, 30000);
      if (n)
        o.timeout = std::chrono::milliseconds(*n);
      else
        s = n.error();
    } else if (name == "appid") {
      o.appid = std::string(value);
    } else if (name == "origin") {
      o.origin = std::string(value);
      origin_set = true;
    } else {
      s = Bad(arg, "unknown option");
    }
    if (!s.ok()) return Err(s);
  }
  if (!origin_set && !o.appid.empty()) o.origin = "pam://" + o.appid;
  return o;
}

}  // namespace gate::pam
