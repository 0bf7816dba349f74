#include "cli/gatectl/admin_client.h"

#include <iostream>

#include "gate/duration.h"

namespace gate::cli {

void AdminFlags::Define(CLI::App& sub) {
  sub.add_option("--data-dir", data_dir,
                 "gate-ca's data directory, where its admin socket is (default /var/lib/gate)");
}

Result<Json::Value> AdminCall(const AdminFlags& flags, std::string_view method,
                              std::string_view path, const Json::Value* body) {
  HttpClientOptions options;
  options.base_url = "http://localhost";
  options.unix_socket = flags.data_dir + "/admin.sock";
  HttpClient client(options);
  auto reply = client.Call(method, path, body);
  if (!reply && reply.error().code() == Code::kUnavailable) {
    return Err(Unavailable("cannot reach gate-ca on " + options.unix_socket +
                           " (is gate-ca running with this --data-dir? are you root?): " +
                           reply.error().message()));
  }
  return reply;
}

std::string TokenTtlText(std::int64_t seconds) {
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + " hours";
  return FormatDuration(std::chrono::seconds(seconds));
}

void PrintSignupToken(const Json::Value& reply) {
  const std::string proxy = reply["proxy"].asString();
  std::cout << "Signup token has been created and is valid for "
            << TokenTtlText(reply["ttl_seconds"].asInt64())
            << ". Share this URL with the user:\n"
            << reply["url"].asString() << "\n\n"
            << "Or sign up in a terminal: gate signup --proxy " << proxy << " "
            << reply["token"].asString() << "\n\n"
            << "NOTE: Make sure " << proxy << " points at a gate proxy which users can access.\n";
}

}  // namespace gate::cli
