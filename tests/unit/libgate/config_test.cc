#include "gate/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <fstream>
#include <string>
#include <thread>

namespace gate {
namespace {

using std::chrono::seconds;

std::string ThisHost() {
  char buf[HOST_NAME_MAX + 1] = {};
  EXPECT_EQ(gethostname(buf, sizeof(buf) - 1), 0);
  return buf;
}

// The error message ParseConfig gives for text (which must fail).
std::string ErrorOf(const std::string& text) {
  auto c = ParseConfig(text, "gate.yaml");
  if (c.has_value()) return "<parsed without error>";
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  return c.error().message();
}

TEST(ConfigTest, DefaultConfigFillsHostFields) {
  Config c = DefaultConfig();
  EXPECT_EQ(c.cluster_name, ThisHost());
  EXPECT_EQ(c.public_addr.host, ThisHost());
  EXPECT_EQ(c.public_addr.port, 3080);
  EXPECT_EQ(c.listen_addr.ToString(), "0.0.0.0:3080");
  EXPECT_EQ(c.data_dir, "/var/lib/gate");
  EXPECT_EQ(c.cert_ttl, seconds(12 * 3600));
  EXPECT_EQ(c.max_cert_ttl, seconds(30 * 3600));
  EXPECT_EQ(c.signup_token_ttl, seconds(3600));
  EXPECT_EQ(c.authentication.type, "local");
  EXPECT_EQ(c.authentication.second_factor, SecondFactor::kOtp);
  EXPECT_EQ(c.authentication.password_min_length, 12);
  EXPECT_EQ(c.authentication.lockout_attempts, 5);
  EXPECT_EQ(c.authentication.lockout_duration, seconds(300));
  EXPECT_EQ(c.rate_limit.per_minute, 30);
  EXPECT_EQ(c.rate_limit.burst, 10);
}

TEST(ConfigTest, EmptyFileAndEmptySectionsGiveDefaults) {
  for (const char* text : {"", "# nothing\n", "auth_service:\n", "---\n"}) {
    auto c = ParseConfig(text, "gate.yaml");
    ASSERT_TRUE(c.has_value()) << text << ": " << c.error().ToString();
    EXPECT_EQ(c->cluster_name, ThisHost());
    EXPECT_EQ(c->public_addr.ToString(), ThisHost() + ":3080");
    EXPECT_FALSE(c->public_addr_set);
    EXPECT_EQ(c->cert_ttl, seconds(12 * 3600));
  }
}

TEST(ConfigTest, ParsesEveryKey) {
  auto c = ParseConfig(R"(cluster_name: grav-00
data_dir: /srv/gate
auth_service:
  listen_addr: 127.0.0.1:4080
  public_addr: ca.example.com:443
  https_cert_file: /etc/gate/tls.crt
  https_key_file: /etc/gate/tls.key
  cert_ttl: 1h
  max_cert_ttl: 1h30m
  signup_token_ttl: 30m
  authentication:
    type: local
    second_factor: off
    password_min_length: 16
    lockout_attempts: 3
    lockout_duration: 15m
  rate_limit:
    per_minute: 60
    burst: 5
)",
                       "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->cluster_name, "grav-00");
  EXPECT_EQ(c->data_dir, "/srv/gate");
  EXPECT_EQ(c->listen_addr.host, "127.0.0.1");
  EXPECT_EQ(c->listen_addr.port, 4080);
  EXPECT_EQ(c->public_addr.ToString(), "ca.example.com:443");
  // gate-ca derives public_addr from the bound port only when the file
  // names none: one it names must survive start-up.
  EXPECT_TRUE(c->public_addr_set);
  EXPECT_EQ(c->https_cert_file, "/etc/gate/tls.crt");
  EXPECT_EQ(c->https_key_file, "/etc/gate/tls.key");
  EXPECT_EQ(c->cert_ttl, seconds(3600));
  EXPECT_EQ(c->max_cert_ttl, seconds(5400));
  EXPECT_EQ(c->signup_token_ttl, seconds(1800));
  EXPECT_EQ(c->authentication.second_factor, SecondFactor::kOff);
  EXPECT_EQ(c->authentication.password_min_length, 16);
  EXPECT_EQ(c->authentication.lockout_attempts, 3);
  EXPECT_EQ(c->authentication.lockout_duration, seconds(900));
  EXPECT_EQ(c->rate_limit.per_minute, 60);
  EXPECT_EQ(c->rate_limit.burst, 5);
}

TEST(ConfigTest, ServingLimitDefaultsFollowTheCoreCount) {
  const ServingLimits one = DefaultServingLimits(1);
  EXPECT_EQ(one.worker_threads, 4);
  EXPECT_EQ(one.login.concurrency, 1);
  EXPECT_EQ(one.login.queue, 32);
  EXPECT_EQ(one.node.concurrency, 2);
  EXPECT_EQ(one.upload.concurrency, 1);
  EXPECT_EQ(one.api.concurrency, 2);
  EXPECT_EQ(one.admin.concurrency, 2);
  EXPECT_EQ(DefaultServingLimits(0).worker_threads, one.worker_threads);

  const ServingLimits eight = DefaultServingLimits(8);
  EXPECT_EQ(eight.worker_threads, 16);
  EXPECT_EQ(eight.login.concurrency, 4);  // half the cores stay free of argon2
  EXPECT_EQ(eight.login.queue, 128);
  EXPECT_EQ(eight.node.concurrency, 8);
  EXPECT_EQ(eight.upload.concurrency, 4);
  EXPECT_EQ(eight.max_connections, 1024);
  EXPECT_EQ(eight.max_connections_per_source, 64);
  EXPECT_EQ(eight.connection_reserve, 128);
  EXPECT_EQ(eight.header_timeout, seconds(10));

  // Every default passes the start-up checks, whatever the machine.
  for (unsigned cores : {1u, 2u, 3u, 8u, 64u, 256u, 1000u}) {
    const ServingLimits l = DefaultServingLimits(cores);
    EXPECT_LT(l.login.concurrency, l.worker_threads) << cores;
    EXPECT_LE(l.node.concurrency, l.worker_threads) << cores;
    EXPECT_LE(l.api.concurrency, l.worker_threads) << cores;
  }
  auto c = ParseConfig("", "gate.yaml");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->limits.worker_threads,
            DefaultServingLimits(std::thread::hardware_concurrency()).worker_threads);
}

TEST(ConfigTest, ParsesServingLimits) {
  auto c = ParseConfig(R"(auth_service:
  limits:
    worker_threads: 6
    max_connections: 300
    max_connections_per_source: 20
    connection_reserve: 30
    handshake_timeout: 3s
    header_timeout: 4s
    body_timeout: 2m
    idle_timeout: 15s
    queue_timeout: 7s
    login: {concurrency: 2, queue: 10}
    node:
      concurrency: 3
      queue: 40
    upload: {concurrency: 1, queue: 0}
    api: {concurrency: 6, queue: 5}
    admin: {concurrency: 1, queue: 2}
)",
                       "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  const ServingLimits& l = c->limits;
  EXPECT_EQ(l.worker_threads, 6);
  EXPECT_EQ(l.max_connections, 300);
  EXPECT_EQ(l.max_connections_per_source, 20);
  EXPECT_EQ(l.connection_reserve, 30);
  EXPECT_EQ(l.handshake_timeout, seconds(3));
  EXPECT_EQ(l.header_timeout, seconds(4));
  EXPECT_EQ(l.body_timeout, seconds(120));
  EXPECT_EQ(l.idle_timeout, seconds(15));
  EXPECT_EQ(l.queue_timeout, seconds(7));
  EXPECT_EQ(l.login.concurrency, 2);
  EXPECT_EQ(l.login.queue, 10);
  EXPECT_EQ(l.node.concurrency, 3);
  EXPECT_EQ(l.node.queue, 40);
  EXPECT_EQ(l.upload.queue, 0);
  EXPECT_EQ(l.api.concurrency, 6);
  EXPECT_EQ(l.admin.queue, 2);
  EXPECT_EQ(l.login.nice, 10);  // the default: argon2 yields the CPU
  EXPECT_EQ(l.node.nice, 0);
}

TEST(ConfigTest, ParsesTheLoginWorkersNiceValue) {
  auto c = ParseConfig("auth_service:\n  limits:\n    login: {nice: 0}\n", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->limits.login.nice, 0);
  c = ParseConfig("auth_service:\n  limits:\n    login: {nice: 19}\n", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->limits.login.nice, 19);
  EXPECT_EQ(DefaultServingLimits(2).login.nice, 10);
  // Lowering a thread's nice value below the process's needs a privilege.
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    login: {nice: -5}\n"),
            "gate.yaml:3: nice: -5 is out of range (0-19)");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    login: {nice: 20}\n"),
            "gate.yaml:3: nice: 20 is out of range (0-19)");
  // Only logins run on workers of their own.
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    node: {nice: 5}\n"),
            "gate.yaml:3: unknown key 'nice' in auth_service.limits.node");
}

TEST(ConfigTest, ServingLimitDefaultsFitTheKeysThatAreSet) {
  auto c = ParseConfig("auth_service:\n  limits:\n    worker_threads: 1\n", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->limits.login.concurrency, 1);
  EXPECT_EQ(c->limits.node.concurrency, 1);
  EXPECT_EQ(c->limits.admin.concurrency, 1);

  c = ParseConfig("auth_service:\n  limits:\n    worker_threads: 3\n", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_LE(c->limits.login.concurrency, 2);
  EXPECT_LE(c->limits.node.concurrency, 3);

  c = ParseConfig("auth_service:\n  limits:\n    max_connections: 16\n", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->limits.max_connections_per_source, 16);
  EXPECT_EQ(c->limits.connection_reserve, 2);
}

TEST(ConfigTest, ServingLimitErrors) {
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    worker_threads: 0\n"),
            "gate.yaml:3: worker_threads: 0 is out of range (1-1024)");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    login: {concurrency: 1, queue: -1}\n"),
            "gate.yaml:3: queue: -1 is out of range (0-100000)");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    nodes: {concurrency: 1}\n"),
            "gate.yaml:3: unknown key 'nodes' in auth_service.limits");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    node: {concurency: 1}\n"),
            "gate.yaml:3: unknown key 'concurency' in auth_service.limits.node");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    header_timeout: 2h\n"),
            "gate.yaml:3: header_timeout: 2h0m0s is longer than 1h0m0s");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    idle_timeout: 0s\n")
                .rfind("gate.yaml:3: idle_timeout: ", 0),
            0u);
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    worker_threads: 4\n"
                    "    login: {concurrency: 4}\n"),
            "gate.yaml:4: login.concurrency (4) must be less than worker_threads (4), so logins "
            "cannot hold every worker");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    worker_threads: 2\n"
                    "    node: {concurrency: 3}\n"),
            "gate.yaml:4: node.concurrency (3) is more than worker_threads (2)");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    max_connections: 10\n"
                    "    max_connections_per_source: 11\n    connection_reserve: 1\n"),
            "gate.yaml:4: max_connections_per_source (11) is more than max_connections (10)");
  EXPECT_EQ(ErrorOf("auth_service:\n  limits:\n    max_connections: 10\n"
                    "    max_connections_per_source: 5\n    connection_reserve: 10\n"),
            "gate.yaml:5: connection_reserve (10) must be less than max_connections (10)");
}

TEST(ConfigTest, PublicAddrDefaultsToListenPort) {
  // public_addr before listen_addr: the listen port is still the default.
  auto c = ParseConfig(
      "auth_service:\n  public_addr: ca.example.com\n"
      "  listen_addr: 0.0.0.0:4443\n",
      "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->public_addr.ToString(), "ca.example.com:4443");

  c = ParseConfig("auth_service:\n  listen_addr: '[::]:4443'\n", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->listen_addr.ToString(), "[::]:4443");
  EXPECT_EQ(c->public_addr.ToString(), ThisHost() + ":4443");
}

TEST(ConfigTest, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(ErrorOf("cluster_name: a\nclustr: b\n"), "gate.yaml:2: unknown key 'clustr'");
  EXPECT_EQ(ErrorOf("auth_service:\n  cert_ttl: 1h\n  certttl: 2h\n"),
            "gate.yaml:3: unknown key 'certttl' in auth_service");
  EXPECT_EQ(ErrorOf(R"(cluster_name: grav-00
data_dir: /var/lib/gate
auth_service:
  listen_addr: 0.0.0.0:3080
  authentication:
    type: local
    secnd_factor: otp
)"),
            "gate.yaml:7: unknown key 'secnd_factor' in auth_service.authentication");
  EXPECT_EQ(ErrorOf("auth_service:\n  rate_limit:\n    burst: 1\n    per_hour: 1\n"),
            "gate.yaml:4: unknown key 'per_hour' in auth_service.rate_limit");
}

TEST(ConfigTest, DuplicateKey) {
  EXPECT_EQ(ErrorOf("cluster_name: a\ncluster_name: b\n"),
            "gate.yaml:2: duplicate key 'cluster_name'");
}

TEST(ConfigTest, BadDuration) {
  EXPECT_EQ(ErrorOf("cluster_name: a\ndata_dir: /d\nauth_service:\n  cert_ttl: abc\n"),
            "gate.yaml:4: cert_ttl: invalid duration 'abc' (use e.g. 12h, 30m)");
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    lockout_duration: 5\n"),
            "gate.yaml:3: lockout_duration: invalid duration '5' (use e.g. 12h, 30m)");
  EXPECT_EQ(ErrorOf("auth_service:\n  signup_token_ttl: 0s\n"),
            "gate.yaml:2: signup_token_ttl: duration '0s' must be greater than zero");
}

TEST(ConfigTest, SecondFactorAndType) {
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    second_factor: webauthn\n"),
            "gate.yaml:3: second_factor: 'webauthn' (security keys only) is not supported by "
            "this version: keys cannot yet be registered at signup; use on or otp");
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    second_factor: u2f\n"),
            "gate.yaml:3: second_factor: 'u2f' is not supported (use on, otp or off)");
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    second_factor: sms\n"),
            "gate.yaml:3: second_factor: unknown second factor 'sms' (use otp, on, optional or "
            "off)");
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n\n    type: github\n"),
            "gate.yaml:4: type: 'github' is not supported by this version (use local or oidc)");
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    type: ldap\n"),
            "gate.yaml:3: type: unknown authentication type 'ldap' (use local or oidc)");
}

TEST(ConfigTest, BadPorts) {
  EXPECT_EQ(ErrorOf("auth_service:\n  listen_addr: 0.0.0.0:70000\n"),
            "gate.yaml:2: listen_addr: port in '0.0.0.0:70000' is out of range (1-65535)");
  EXPECT_EQ(ErrorOf("auth_service:\n  listen_addr: 0.0.0.0:0\n"),
            "gate.yaml:2: listen_addr: port in '0.0.0.0:0' is out of range (1-65535)");
  EXPECT_EQ(ErrorOf("# c\nauth_service:\n  public_addr: host:http\n"),
            "gate.yaml:3: public_addr: invalid port in 'host:http' (use host:port)");
}

TEST(ConfigTest, TtlCrossCheck) {
  EXPECT_EQ(ErrorOf("auth_service:\n  max_cert_ttl: 30h\n  cert_ttl: 36h\n"),
            "gate.yaml:3: cert_ttl (36h0m0s) is longer than max_cert_ttl (30h0m0s)");
  // Only max_cert_ttl given: the error points at it.
  EXPECT_EQ(ErrorOf("\nauth_service:\n  max_cert_ttl: 1h\n"),
            "gate.yaml:3: cert_ttl (12h0m0s) is longer than max_cert_ttl (1h0m0s)");
}

TEST(ConfigTest, WebSessionTimeouts) {
  Config d = DefaultConfig();
  EXPECT_EQ(d.web_idle_timeout, seconds(30 * 60));
  EXPECT_EQ(d.web_session_ttl, seconds(12 * 3600));
  auto c =
      ParseConfig("auth_service:\n  web_idle_timeout: 15m\n  web_session_ttl: 8h\n", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->web_idle_timeout, seconds(15 * 60));
  EXPECT_EQ(c->web_session_ttl, seconds(8 * 3600));
  EXPECT_EQ(ErrorOf("auth_service:\n  web_idle_timeout: 30s\n"),
            "gate.yaml:2: web_idle_timeout (30s) must be at least 1m");
  EXPECT_EQ(ErrorOf("auth_service:\n  web_session_ttl: 200h\n"),
            "gate.yaml:2: web_session_ttl (200h0m0s) must be at most 7 days (168h)");
  EXPECT_EQ(ErrorOf("auth_service:\n  web_idle_timeout: 2h\n  web_session_ttl: 1h\n"),
            "gate.yaml:2: web_idle_timeout (2h0m0s) is longer than web_session_ttl (1h0m0s)");
  EXPECT_EQ(ErrorOf("auth_service:\n  web_session_ttl: 10m\n"),
            "gate.yaml:2: web_idle_timeout (30m0s) is longer than web_session_ttl (10m0s)");
}

TEST(ConfigTest, HttpsFilesBothOrNeither) {
  EXPECT_EQ(ErrorOf("auth_service:\n  https_cert_file: /etc/gate/tls.crt\n"),
            "gate.yaml:2: https_cert_file is set but https_key_file is not; set both or "
            "neither");
  EXPECT_EQ(ErrorOf("auth_service:\n  cert_ttl: 1h\n  https_key_file: /k\n"),
            "gate.yaml:3: https_key_file is set but https_cert_file is not; set both or "
            "neither");
}

TEST(ConfigTest, IntRanges) {
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    password_min_length: 6\n"),
            "gate.yaml:3: password_min_length: 6 is out of range (8-1024)");
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    lockout_attempts: 0\n"),
            "gate.yaml:3: lockout_attempts: 0 is out of range (1-1000000)");
  EXPECT_EQ(ErrorOf("auth_service:\n  rate_limit:\n    per_minute: -5\n"),
            "gate.yaml:3: per_minute: -5 is out of range (1-1000000)");
  EXPECT_EQ(ErrorOf("auth_service:\n  rate_limit:\n    burst: 2.5\n"),
            "gate.yaml:3: burst: expected a whole number, got '2.5'");
  EXPECT_EQ(ErrorOf("auth_service:\n  rate_limit:\n    burst: 99999999999999999999\n"),
            "gate.yaml:3: burst: 99999999999999999999 is out of range (1-1000000)");
}

TEST(ConfigTest, WrongTypes) {
  EXPECT_EQ(ErrorOf("cluster_name:\n  - a\n  - b\n"),
            "gate.yaml:2: cluster_name: expected a single value, not a list or mapping");
  EXPECT_EQ(ErrorOf("auth_service: 5\n"),
            "gate.yaml:1: auth_service: expected a mapping of keys to values");
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "gate.yaml:1: the top level must be a mapping of keys to values");
  EXPECT_EQ(ErrorOf("data_dir: relative/dir\n"),
            "gate.yaml:1: data_dir: must be an absolute path, got 'relative/dir'");
  EXPECT_EQ(ErrorOf("cluster_name: ''\n"), "gate.yaml:1: cluster_name: must not be empty");
  EXPECT_EQ(ErrorOf("data_dir: /d\ncluster_name: a b\n"),
            "gate.yaml:2: cluster_name: 'a b' is not a valid name (use letters, digits, '.', "
            "'_', '-')");
  // yaml-cpp accepts an unterminated quote; the name check still catches it.
  EXPECT_EQ(ErrorOf("cluster_name: \"grav\ndata_dir: /x\n").rfind("gate.yaml:1: cluster_name:", 0),
            0u);
  EXPECT_NE(ErrorOf("cluster_name:\n").find("gate.yaml:"), std::string::npos);
}

TEST(ConfigTest, YamlSyntaxError) {
  std::string e = ErrorOf("cluster_name: a\nauth_service:\n  cert_ttl: [1h\n  x: y\n");
  EXPECT_EQ(e.rfind("gate.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;

  // Reported where the parser gives up: the end of the input.
  e = ErrorOf("cluster_name: a\nauth_service: {cert_ttl: 1h\n");
  EXPECT_EQ(e.rfind("gate.yaml:3: invalid YAML: end of map flow not found", 0), 0u) << e;

  e = ErrorOf("# comment\ncluster_name: a: b\n");
  EXPECT_EQ(e, "gate.yaml:2: invalid YAML: illegal map value") << e;

  e = ErrorOf("a: b\n  c: d\n");
  EXPECT_EQ(e.rfind("gate.yaml:2: invalid YAML", 0), 0u) << e;

  EXPECT_EQ(ErrorOf("cluster_name: a\n---\ncluster_name: b\n"),
            "gate.yaml:3: only one YAML document is allowed");
}

TEST(ParseHostPortTest, Forms) {
  EXPECT_EQ(ParseHostPort("example.com:443")->ToString(), "example.com:443");
  EXPECT_EQ(ParseHostPort("[::1]:3080")->host, "::1");
  EXPECT_EQ(ParseHostPort("[::1]:3080")->ToString(), "[::1]:3080");
  EXPECT_EQ(ParseHostPort("example.com", 3080)->ToString(), "example.com:3080");
  EXPECT_EQ(ParseHostPort("[fe80::1]", 22)->ToString(), "[fe80::1]:22");
  EXPECT_EQ(ParseHostPort("h:65535")->port, 65535);
  EXPECT_EQ(ParseHostPort("h:1", 3080)->port, 1);
}

TEST(ParseHostPortTest, Rejects) {
  for (const char* text : {"", "example.com", ":3080", "h:", "h:0", "h:65536", "h:-1", "h:+1",
                           "h:80x", "::1", "::1:3080", "[::1", "[::1]x", "[::1]:", "[host]:80",
                           "a b:80", "a/b:80", "u@h:22", "h:99999999999"}) {
    auto hp = ParseHostPort(text);
    ASSERT_FALSE(hp.has_value()) << "'" << text << "'";
    EXPECT_EQ(hp.error().code(), Code::kInvalidArgument);
  }
  EXPECT_FALSE(ParseHostPort("", 3080).has_value());
  EXPECT_FALSE(ParseHostPort("::1", 3080).has_value());
}

TEST(CanonicalSshAddressTest, AddsPort22AndKeepsOneForm) {
  EXPECT_EQ(*CanonicalSshAddress("db-1"), "db-1:22");
  EXPECT_EQ(*CanonicalSshAddress("10.0.0.5:2222"), "10.0.0.5:2222");
  EXPECT_EQ(*CanonicalSshAddress("[fd00::5]"), "[fd00::5]:22");
  for (const char* text : {"", "::1", "h:0", "h:65536", "a b", "u@h", "h:22/x"}) {
    auto address = CanonicalSshAddress(text);
    ASSERT_FALSE(address.has_value()) << "'" << text << "'";
    EXPECT_EQ(address.error().code(), Code::kInvalidArgument);
    EXPECT_NE(address.error().message().find("ssh address"), std::string::npos);
  }
}

TEST(ConfigTest, SecondFactorName) {
  EXPECT_EQ(SecondFactorName(SecondFactor::kOtp), "otp");
  EXPECT_EQ(SecondFactorName(SecondFactor::kOff), "off");
  EXPECT_EQ(SecondFactorName(SecondFactor::kOn), "on");
  EXPECT_EQ(SecondFactorName(SecondFactor::kOptional), "optional");
  EXPECT_EQ(SecondFactorName(SecondFactor::kWebauthn), "webauthn");
  EXPECT_TRUE(SecondFactorRequired(SecondFactor::kOtp));
  EXPECT_TRUE(SecondFactorRequired(SecondFactor::kOn));
  EXPECT_TRUE(SecondFactorRequired(SecondFactor::kWebauthn));
  EXPECT_FALSE(SecondFactorRequired(SecondFactor::kOptional));
  EXPECT_FALSE(SecondFactorRequired(SecondFactor::kOff));
}

TEST(ConfigTest, SecondFactorOnAndOptionalWithWebauthnDefaults) {
  for (const char* mode : {"on", "optional"}) {
    auto c = ParseConfig(std::string("auth_service:\n  public_addr: gate.example.com:3080\n"
                                     "  authentication:\n    second_factor: ") +
                             mode + "\n",
                         "gate.yaml");
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    EXPECT_EQ(SecondFactorName(c->authentication.second_factor), mode);
    EXPECT_EQ(c->authentication.webauthn.rp_id, "gate.example.com");
    EXPECT_EQ(c->authentication.webauthn.origins,
              (std::vector<std::string>{"https://gate.example.com:3080"}));
  }
  auto c = ParseConfig("auth_service:\n  public_addr: gate.example.com:443\n", "gate.yaml");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->authentication.webauthn.origins,
            (std::vector<std::string>{"https://gate.example.com"}));
  // With otp or off, an address WebAuthn cannot use harms nothing.
  EXPECT_TRUE(ParseConfig("auth_service:\n  public_addr: 192.0.2.1:3080\n", "gate.yaml"));
}

TEST(ConfigTest, WebauthnRelyingParty) {
  auto c = ParseConfig(
      "auth_service:\n  authentication:\n    second_factor: on\n    webauthn:\n"
      "      rp_id: example.com\n"
      "      origins: [https://gate.example.com:3080, https://example.com]\n",
      "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->authentication.webauthn.rp_id, "example.com");
  EXPECT_EQ(c->authentication.webauthn.origins.size(), 2u);
  // http only for localhost, whose RP ID is localhost.
  auto local = ParseConfig(
      "auth_service:\n  authentication:\n    second_factor: on\n    webauthn:\n"
      "      rp_id: localhost\n      origins: [http://localhost:8080]\n",
      "gate.yaml");
  ASSERT_TRUE(local.has_value()) << local.error().ToString();
  auto only_rp = ParseConfig(
      "auth_service:\n  authentication:\n    webauthn:\n      rp_id: gate.example.com\n",
      "gate.yaml");
  ASSERT_TRUE(only_rp.has_value()) << only_rp.error().ToString();
  EXPECT_EQ(only_rp->authentication.webauthn.origins,
            (std::vector<std::string>{"https://gate.example.com"}));
}

TEST(ConfigTest, WebauthnErrors) {
  const std::string on = "auth_service:\n  authentication:\n    second_factor: on\n";
  const std::string rp = on + "    webauthn:\n      rp_id: ";
  EXPECT_EQ(ErrorOf(rp + "192.0.2.1\n"),
            "gate.yaml:5: webauthn.rp_id '192.0.2.1' is an IP address; WebAuthn needs the host "
            "name users reach gate-ca by");
  for (const char* bad : {"Gate.example.com", "-gate.example.com", "gate..example.com",
                          "gate.example.com.", "gate_1.example.com", "'[::1]'"}) {
    EXPECT_NE(ErrorOf(rp + bad + "\n").find("is not a host name"), std::string::npos) << bad;
  }
  const std::string origins = rp + "example.com\n      origins: ";
  for (const auto& [list, why] : std::vector<std::pair<std::string, std::string>>{
           {"[http://example.com]", "must use https"},
           {"[ftp://example.com]", "must start with https://"},
           {"[https://evil.com]", "is not rp_id 'example.com' or a name under it"},
           {"[https://badexample.com]", "is not rp_id 'example.com' or a name under it"},
           {"[https://example.com/login]", "with a host name and no path"},
           {"[https://example.com:0]", "bad port"},
           {"[https://example.com:99999]", "bad port"},
           {"[]", "expected a list of 1 to 16 origins"},
           {"https://example.com", "expected a list of 1 to 16 origins"},
       }) {
    const std::string error = ErrorOf(origins + list + "\n");
    EXPECT_NE(error.find(why), std::string::npos) << list << ": " << error;
  }
  // on/optional with a public_addr WebAuthn cannot use: told to set rp_id.
  EXPECT_EQ(ErrorOf("auth_service:\n  public_addr: 192.0.2.1:3080\n  authentication:\n"
                    "    second_factor: optional\n"),
            "gate.yaml:4: webauthn.rp_id '192.0.2.1' is an IP address; WebAuthn needs the host "
            "name users reach gate-ca by (from public_addr; set webauthn.rp_id)");
  EXPECT_NE(ErrorOf(on + "    webauthn:\n      rp_idd: x\n").find("unknown key 'rp_idd'"),
            std::string::npos);
}

class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gate_config_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(LoadConfigTest, ReadsFileAndNamesItInErrors) {
  std::string path = Write("gate.yaml", "cluster_name: x\n", 0644);
  auto c = LoadConfig(path, false);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->cluster_name, "x");

  path = Write("bad.yaml", "cluster_name: x\nbogus: 1\n", 0644);
  c = LoadConfig(path, false);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), path + ":2: unknown key 'bogus'");
}

TEST_F(LoadConfigTest, MissingFile) {
  auto c = LoadConfig(dir_ + "/none.yaml", false);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), Code::kNotFound);
  c = LoadConfig(dir_ + "/none.yaml", true);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->cluster_name, ThisHost());
}

TEST_F(LoadConfigTest, RefusesWorldWritable) {
  std::string path = Write("gate.yaml", "cluster_name: x\n", 0666);
  auto c = LoadConfig(path, true);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace gate

namespace gate {
namespace {

TEST(ConfigTest, ParsesTheWebTerminalCaps) {
  auto c = ParseConfig("", "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->web_terminal.max_connections, 64);
  EXPECT_EQ(c->web_terminal.max_per_user, 8);
  c = ParseConfig("auth_service:\n  web_terminal:\n    max_connections: 3\n    max_per_user: 2\n",
                  "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->web_terminal.max_connections, 3);
  EXPECT_EQ(c->web_terminal.max_per_user, 2);
  EXPECT_EQ(ErrorOf("auth_service:\n  web_terminal:\n    max_connections: 0\n"),
            "gate.yaml:3: max_connections: 0 is out of range (1-4096)");
  EXPECT_EQ(ErrorOf("auth_service:\n  web_terminal:\n    max_connections: 4\n    "
                    "max_per_user: 5\n"),
            "gate.yaml:4: web_terminal.max_per_user (5) is more than "
            "web_terminal.max_connections (4)");
  EXPECT_EQ(ErrorOf("auth_service:\n  web_terminal:\n    max_sessions: 4\n"),
            "gate.yaml:3: unknown key 'max_sessions' in auth_service.web_terminal");
}

constexpr char kOidcConfig[] = R"(auth_service:
  authentication:
    type: oidc
    connectors:
      - name: corp
        type: oidc
        issuer_url: https://idp.example.com/realm
        client_id: gate
        client_secret_file: /etc/gate/corp.secret
        redirect_url: https://gate.example.com:3080/v1/sso/oidc/callback
        scope: [email, groups]
        username_claim: preferred_username
        logins_claim: unix_logins
        claims_to_roles:
          - {claim: groups, value: admins, roles: [access, editor]}
          - {claim: email, value: "*@example.com", roles: [access]}
        acr_values: [mfa]
        prompt: login
        ca_file: /etc/gate/idp-ca.pem
        token_endpoint_auth: client_secret_post
      - name: other
        type: oidc
        issuer_url: https://other.example.com
        client_id: x
        client_secret_file: /etc/gate/other.secret
        redirect_url: https://gate.example.com:3080/v1/sso/oidc/callback
        claims_to_roles: [{claim: sub, value: "*", roles: [access]}]
)";

TEST(ConfigTest, OidcConnectors) {
  auto c = ParseConfig(kOidcConfig, "gate.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  const AuthenticationConfig& a = c->authentication;
  EXPECT_EQ(a.type, "oidc");
  EXPECT_EQ(a.connector_name, "corp");  // the first oidc connector
  ASSERT_EQ(a.connectors.size(), 2u);
  const OidcConnectorConfig& o = a.connectors[0].oidc;
  EXPECT_EQ(a.connectors[0].name, "corp");
  EXPECT_EQ(o.issuer_url, "https://idp.example.com/realm");
  EXPECT_EQ(o.client_id, "gate");
  EXPECT_EQ(o.client_secret_file, "/etc/gate/corp.secret");
  EXPECT_EQ(o.scope, (std::vector<std::string>{"openid", "email", "groups"}));
  EXPECT_EQ(o.username_claim, "preferred_username");
  EXPECT_EQ(o.logins_claim, "unix_logins");
  ASSERT_EQ(o.claims_to_roles.size(), 2u);
  EXPECT_EQ(o.claims_to_roles[1].value, "*@example.com");
  EXPECT_EQ(o.claims_to_roles[0].roles, (std::vector<std::string>{"access", "editor"}));
  EXPECT_EQ(o.acr_values, std::vector<std::string>{"mfa"});
  EXPECT_EQ(o.prompt, "login");
  EXPECT_EQ(o.token_endpoint_auth, TokenEndpointAuth::kClientSecretPost);
  const OidcConnectorConfig& d = a.connectors[1].oidc;
  EXPECT_EQ(d.scope, (std::vector<std::string>{"openid", "email", "profile"}));
  EXPECT_EQ(d.username_claim, "email");
  EXPECT_EQ(d.token_endpoint_auth, TokenEndpointAuth::kClientSecretBasic);

  std::string pick = kOidcConfig;
  pick.insert(pick.find("    connectors:"), "    connector_name: other\n");
  auto other = ParseConfig(pick, "gate.yaml");
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  EXPECT_EQ(other->authentication.connector_name, "other");

  // Connectors may be declared while local stays the default.
  std::string local = kOidcConfig;
  local.replace(local.find("type: oidc"), 10, "type: local");
  auto l = ParseConfig(local, "gate.yaml");
  ASSERT_TRUE(l.has_value()) << l.error().ToString();
  EXPECT_EQ(l->authentication.connectors.size(), 2u);
  EXPECT_EQ(l->authentication.connector_name, "");
}

// kOidcConfig with `from` (first occurrence) replaced by `to`.
std::string OidcWith(const std::string& from, const std::string& to) {
  std::string text = kOidcConfig;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ConfigTest, OidcConnectorErrors) {
  EXPECT_EQ(ErrorOf(OidcWith("    type: oidc\n", "    type: oidc\n    connector_name: nope\n")),
            "gate.yaml:4: connector_name: no oidc connector named 'nope' in connectors");
  EXPECT_EQ(ErrorOf("auth_service:\n  authentication:\n    type: oidc\n"),
            "gate.yaml:3: type is oidc but connectors has no oidc connector");
  EXPECT_EQ(ErrorOf(OidcWith("    type: oidc\n", "    type: local\n    connector_name: corp\n")),
            "gate.yaml:4: connector_name is set but type is local");
  EXPECT_EQ(ErrorOf(OidcWith("issuer_url: https://idp.example.com/realm",
                             "issuer_url: http://idp.example.com")),
            "gate.yaml:7: issuer_url: 'http://idp.example.com' is not an https:// URL");
  EXPECT_EQ(ErrorOf(OidcWith("redirect_url: https://gate", "redirect_url: https:///gate")),
            "gate.yaml:10: redirect_url: 'https:///gate.example.com:3080/v1/sso/oidc/callback' "
            "is not an https:// URL");
  EXPECT_EQ(ErrorOf(OidcWith("        client_id: gate\n", "")),
            "gate.yaml:5: connector 1: missing client_id");
  EXPECT_EQ(ErrorOf(OidcWith("client_secret_file: /etc/gate/corp.secret",
                             "client_secret_file: corp.secret")),
            "gate.yaml:9: client_secret_file: must be an absolute path, got 'corp.secret'");
  EXPECT_EQ(
      ErrorOf(OidcWith("client_secret_file: /etc/gate/corp.secret", "client_secret: hunter2")),
      "gate.yaml:9: unknown key 'client_secret' in "
      "auth_service.authentication.connectors[0]");
  EXPECT_EQ(ErrorOf(OidcWith("name: other", "name: corp")),
            "gate.yaml:21: duplicate connector name 'corp'");
  EXPECT_EQ(ErrorOf(OidcWith("name: corp", "name: Corp!")),
            "gate.yaml:5: name: 'Corp!' is not a valid connector name (use a-z, 0-9, '-')");
  EXPECT_EQ(ErrorOf(OidcWith("        type: oidc\n", "        type: saml\n")),
            "gate.yaml:6: type: 'saml' connectors are not supported by this version (use oidc)");
  EXPECT_EQ(ErrorOf(OidcWith("token_endpoint_auth: client_secret_post",
                             "token_endpoint_auth: private_key_jwt")),
            "gate.yaml:20: token_endpoint_auth: unknown method 'private_key_jwt' (use "
            "client_secret_basic or client_secret_post)");
  EXPECT_EQ(ErrorOf(OidcWith("{claim: sub, value: \"*\", roles: [access]}", "{claim: sub}")),
            "gate.yaml:27: auth_service.authentication.connectors[1].claims_to_roles[0]: needs "
            "claim, value and roles");
  EXPECT_EQ(ErrorOf(OidcWith("claims_to_roles: [{claim: sub, value: \"*\", roles: [access]}]",
                             "claims_to_roles: []")),
            "gate.yaml:21: connector 'other': claims_to_roles is empty, so no one could log in "
            "through it");
  EXPECT_EQ(ErrorOf(OidcWith("scope: [email, groups]", "scope: email")),
            "gate.yaml:11: scope: expected a list ([a, b])");
}

}  // namespace
}  // namespace gate
