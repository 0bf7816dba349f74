#include "gate/node_state.h"

#include "gate/json.h"
#include "gate/secret.h"
#include "gate/secure_file.h"

namespace gate {
namespace {

Result<bool> OptionalBool(const Json::Value& obj, const char* name) {
  if (!obj.isMember(name)) return false;
  if (!obj[name].isBool()) {
    return Err(InvalidArgument(std::string("field '") + name + "' must be a boolean"));
  }
  return obj[name].asBool();
}

}  // namespace

SecretString NodeState::BearerToken() const {
  SecretString token(host_uuid);
  token += '.';
  token += node_secret;
  return token;
}

Json::Value NodeStateToJson(const NodeState& s) {
  Json::Value v(Json::objectValue);
  v["version"] = 1;
  v["proxy"] = s.proxy;
  v["insecure"] = s.insecure;
  v["ca_pin"] = s.ca_pin;
  v["host_uuid"] = s.host_uuid;
  v["node_secret"] = std::string(s.node_secret.view());
  v["cluster_name"] = s.cluster_name;
  Json::Value labels(Json::objectValue);
  for (const auto& [k, val] : s.labels) labels[k] = val;
  v["labels"] = labels;
  v["principals"] = json::StringArray(s.principals);
  v["stale_cache"] = s.deny_stale_cache ? "deny" : "allow";
  v["max_cache_age_seconds"] = Json::Int64(s.max_cache_age_seconds);
  Json::Value join(Json::objectValue);
  join["created_principals_user"] = s.created_principals_user;
  join["created_cache_group"] = s.created_cache_group;
  join["created_data_dir"] = s.created_data_dir;
  join["host_cert_backed_up"] = s.host_cert_backed_up;
  join["drop_in_backed_up"] = s.drop_in_backed_up;
  v["join"] = join;
  return v;
}

Result<NodeState> NodeStateFromJson(const Json::Value& v) {
  if (!v.isObject()) return Err(InvalidArgument("node state must be a JSON object"));
  auto version = json::OptionalInt(v, "version", 1);
  if (!version) return Err(version.error());
  if (*version != 1) {
    return Err(InvalidArgument("unsupported node state version " + std::to_string(*version)));
  }
  NodeState s;
  auto proxy = json::GetString(v, "proxy");
  if (!proxy) return Err(proxy.error());
  s.proxy = *proxy;
  auto insecure = OptionalBool(v, "insecure");
  if (!insecure) return Err(insecure.error());
  s.insecure = *insecure;
  auto pin = json::OptionalString(v, "ca_pin");
  if (!pin) return Err(pin.error());
  s.ca_pin = *pin;
  auto uuid = json::GetString(v, "host_uuid");
  if (!uuid) return Err(uuid.error());
  s.host_uuid = *uuid;
  auto secret = json::GetString(v, "node_secret");
  if (!secret) return Err(secret.error());
  s.node_secret = SecretString(*secret);
  Wipe(secret->data(), secret->size());
  if (s.proxy.empty() || s.host_uuid.empty() || s.node_secret.empty()) {
    return Err(InvalidArgument("proxy, host_uuid and node_secret must not be empty"));
  }
  auto cluster = json::OptionalString(v, "cluster_name");
  if (!cluster) return Err(cluster.error());
  s.cluster_name = *cluster;
  if (v.isMember("labels")) {
    const Json::Value& labels = v["labels"];
    if (!labels.isObject()) return Err(InvalidArgument("field 'labels' must be an object"));
    for (const auto& name : labels.getMemberNames()) {
      if (!labels[name].isString()) {
        return Err(InvalidArgument("label '" + name + "' must be a string"));
      }
      s.labels[name] = labels[name].asString();
    }
  }
  auto principals = json::OptionalStringArray(v, "principals");
  if (!principals) return Err(principals.error());
  s.principals = *principals;
  auto stale = json::OptionalString(v, "stale_cache");
  if (!stale) return Err(stale.error());
  if (*stale != "" && *stale != "allow" && *stale != "deny") {
    return Err(InvalidArgument("field 'stale_cache' must be allow or deny"));
  }
  s.deny_stale_cache = *stale == "deny";
  if (v.isMember("max_cache_age_seconds")) {
    const Json::Value& age = v["max_cache_age_seconds"];
    if (!age.isInt64() || age.asInt64() < 0) {
      return Err(InvalidArgument("field 'max_cache_age_seconds' must be a number of seconds"));
    }
    s.max_cache_age_seconds = age.asInt64();
  }
  if (v.isMember("join")) {
    const Json::Value& join = v["join"];
    if (!join.isObject()) return Err(InvalidArgument("field 'join' must be an object"));
    auto user = json::OptionalString(join, "created_principals_user");
    if (!user) return Err(user.error());
    auto dir = OptionalBool(join, "created_data_dir");
    auto cert = OptionalBool(join, "host_cert_backed_up");
    auto drop_in = OptionalBool(join, "drop_in_backed_up");
    auto group = OptionalBool(join, "created_cache_group");
    for (const auto* r : {&dir, &cert, &drop_in, &group}) {
      if (!*r) return Err(r->error());
    }
    s.created_principals_user = *user;
    s.created_data_dir = *dir;
    s.host_cert_backed_up = *cert;
    s.drop_in_backed_up = *drop_in;
    s.created_cache_group = *group;
  }
  return s;
}

Result<NodeState> ReadNodeState(const std::string& path) {
  FilePolicy policy;  // owned by us (root), 0600
  policy.secret = true;
  policy.max_size = 64 * 1024;
  auto text = ReadSecureFile(path, policy);
  if (!text) return Err(text.error());
  auto doc = json::Parse(text->view());
  if (!doc) return Err(DataLoss(path + ": " + doc.error().message()));
  auto state = NodeStateFromJson(*doc);
  if (!state) return Err(DataLoss(path + ": " + state.error().message()));
  return state;
}

Status WriteNodeState(const std::string& path, const NodeState& state) {
  std::string text = json::Write(NodeStateToJson(state));
  text += '\n';
  Status s = WriteFileAtomic(path, text, 0600);
  Wipe(text.data(), text.size());
  return s;
}

HttpClientOptions NodeClientOptions(const NodeState& state) {
  HttpClientOptions o;
  o.base_url = "https://" + state.proxy;
  o.insecure = state.insecure;
  o.ca_pin = state.ca_pin;
  o.bearer_token = state.BearerToken();
  return o;
}

}  // namespace gate
