// gatectl's connection to the local gate-ca: the admin API over the
// root-only Unix socket in the data dir.
#ifndef GATE_CLI_GATECTL_ADMIN_CLIENT_H_
#define GATE_CLI_GATECTL_ADMIN_CLIENT_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "gate/http_client.h"
#include "gate/status.h"

namespace gate::cli {

inline constexpr std::string_view kDefaultDataDir = "/var/lib/gate";

// Names the variable that sets gate-ca's data dir for every gatectl command
// (the demo exports it), below a --data-dir on the command line.
inline constexpr std::string_view kDataDirEnv = "GATE_DATA_DIR";

// gatectl's global flags: --data-dir, anywhere on the command line
// (`gatectl --data-dir D users ls` or `gatectl users ls --data-dir D`), else
// $GATE_DATA_DIR, else /var/lib/gate. DefineGlobalAdminFlags runs once on the root app
// before the commands are added, and makes every subcommand pass the flags it
// does not know to its parent (CLI11's fallthrough).
void DefineGlobalAdminFlags(CLI::App& app);

// Every gatectl command's view of --data-dir. Define adds it to the
// command's own subcommand too, so `--help` there lists it; DataDir() is the
// value that applies once parsing is done (the command's own flag, then the
// global one, then the environment, then the default). Not thread-safe; lives
// as long as the CLI::App it was defined on.
class AdminFlags {
 public:
  void Define(CLI::App& sub);
  std::string DataDir() const;

 private:
  std::string own_;
  const CLI::Option* own_option_ = nullptr;
  const CLI::Option* global_option_ = nullptr;
};

// Calls the admin API. Unavailable carries the hint to start gate-ca or to
// run as root.
Result<Json::Value> AdminCall(const AdminFlags& flags, std::string_view method,
                              std::string_view path, const Json::Value* body = nullptr);

// "1 hours" for whole hours (as the reference prints it), else "30m0s".
std::string TokenTtlText(std::int64_t seconds);

// Prints the signup URL block shared by `users add` and `users reset`.
void PrintSignupToken(const Json::Value& reply);

// The strings of a JSON array joined with sep, or `empty` for none.
std::string JoinArray(const Json::Value& array, std::string_view sep = ",",
                      std::string_view empty = "-");

// A JSON object of labels as "env=prod,team=db", or `empty` for none.
std::string JoinLabels(const Json::Value& labels, std::string_view empty = "-");

// "--flag a, b,c": the items trimmed, each passed to validate (its error
// names flag), duplicates dropped, as a JSON array; an empty item is
// InvalidArgument. "" is the empty list.
Result<Json::Value> ListFlag(std::string_view flag, const std::string& text,
                             const std::function<Status(std::string_view)>& validate);

// "--roles dev,prod": each a valid role name (policy::ValidateRoleName),
// duplicates dropped, as a JSON array. "" is the empty list (taking every
// role away in `users update`).
Result<Json::Value> RolesFlag(const std::string& text);

// "--labels env=prod,team=*" as the JSON object the admin API takes;
// InvalidArgument (naming flag) for text policy::ParseLabels refuses.
Result<Json::Value> LabelsFlag(std::string_view flag, const std::string& text);

}  // namespace gate::cli

#endif  // GATE_CLI_GATECTL_ADMIN_CLIENT_H_
