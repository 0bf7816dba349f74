#include "cli/gatectl/admin_client.h"

#include <algorithm>
#include <functional>
#include <iostream>
#include <vector>

#include "gate/curl_http.h"
#include "gate/duration.h"
#include "gate/policy.h"

namespace gate::cli {

namespace {

constexpr std::string_view kDataDirFlag = "--data-dir";
constexpr std::string_view kDataDirHelp =
    "gate-ca's data directory, where its admin socket is (default $GATE_DATA_DIR, else "
    "/var/lib/gate)";

}  // namespace

void DefineGlobalAdminFlags(CLI::App& app) {
  const std::string help(kDataDirHelp);
  app.add_option(std::string(kDataDirFlag), help)->envname(std::string(kDataDirEnv));
  app.fallthrough();
}

void AdminFlags::Define(CLI::App& sub) {
  own_option_ = sub.add_option(std::string(kDataDirFlag), own_, std::string(kDataDirHelp));
  const CLI::App* root = &sub;
  while (root->get_parent() != nullptr) root = root->get_parent();
  global_option_ = root->get_option_no_throw(std::string(kDataDirFlag));
}

std::string AdminFlags::DataDir() const {
  if (own_option_ != nullptr && own_option_->count() > 0) return own_;
  if (global_option_ != nullptr && global_option_->count() > 0) {
    return global_option_->as<std::string>();
  }
  return std::string(kDefaultDataDir);
}

Result<Json::Value> AdminCall(const AdminFlags& flags, std::string_view method,
                              std::string_view path, const Json::Value* body) {
  HttpClientOptions options;
  options.base_url = "http://localhost";
  options.unix_socket = flags.DataDir() + "/admin.sock";
  HttpClient client = CurlHttpClient(options);
  auto response = client.Request(method, path, body);
  // Only a failure to talk to gate-ca at all gets the hint; an error gate-ca
  // answered with (a full disk, a refused request) is reported as it said it.
  if (!response) {
    if (response.error().code() != Code::kUnavailable) return Err(response.error());
    return Err(Unavailable("cannot reach gate-ca on " + options.unix_socket +
                           " (is gate-ca running with this --data-dir? are you root?): " +
                           response.error().message()));
  }
  if (response->status >= 200 && response->status < 300) return std::move(response->body);
  return Err(StatusFromErrorReply(response->status, response->body, "gate-ca"));
}

std::string TokenTtlText(std::int64_t seconds) {
  if (seconds == 3600) return "1 hour";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + " hours";
  return FormatDuration(std::chrono::seconds(seconds));
}

void PrintSignupToken(const Json::Value& reply) {
  const std::string proxy = reply["proxy"].asString();
  // gate-ca sends its pin when its certificate is self-signed: without it the
  // user's `gate signup` could not verify the server.
  std::string pin_flag;
  if (reply.isMember("ca_pin")) pin_flag = " --ca-pin " + reply["ca_pin"].asString();
  std::cout << "Signup token has been created and is valid for "
            << TokenTtlText(reply["ttl_seconds"].asInt64()) << ". Share this URL with the user:\n"
            << reply["url"].asString() << "\n\n"
            << "Or sign up in a terminal: gate signup --proxy " << proxy << pin_flag
            << " (it asks for this URL; never put the token on a command line)\n\n"
            << "NOTE: Make sure " << proxy << " points at a gate proxy which users can access.\n";
}

std::string JoinArray(const Json::Value& array, std::string_view sep, std::string_view empty) {
  std::string out;
  for (const auto& v : array) {
    if (!out.empty()) out += sep;
    out += v.asString();
  }
  return out.empty() ? std::string(empty) : out;
}

std::string JoinLabels(const Json::Value& labels, std::string_view empty) {
  std::string out;
  if (!labels.isObject()) return std::string(empty);
  for (const auto& name : labels.getMemberNames()) {
    if (!out.empty()) out += ",";
    out += name + "=" + labels[name].asString();
  }
  return out.empty() ? std::string(empty) : out;
}

Result<Json::Value> ListFlag(std::string_view flag, const std::string& text,
                             const std::function<Status(std::string_view)>& validate) {
  Json::Value list(Json::arrayValue);
  std::vector<std::string> seen;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) return Err(InvalidArgument(std::string(flag) + ": empty item in list"));
    if (Status s = validate(item); !s.ok()) return Err(s.WithContext(flag));
    if (std::find(seen.begin(), seen.end(), item) == seen.end()) {
      seen.emplace_back(item);
      list.append(std::string(item));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) return Err(InvalidArgument(std::string(flag) + ": empty item in list"));
  }
  return list;
}

Result<Json::Value> RolesFlag(const std::string& text) {
  return ListFlag("--roles", text,
                  [](std::string_view role) { return policy::ValidateRoleName(role); });
}

Result<Json::Value> LabelsFlag(std::string_view flag, const std::string& text) {
  auto labels = policy::ParseLabels(text);
  if (!labels) return Err(labels.error().WithContext(flag));
  return policy::LabelsToJson(*labels);
}

}  // namespace gate::cli
