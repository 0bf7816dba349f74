// Logins in progress (ca-server/connectors/sso_flows.h): state single-use,
// expiring and bound to its starter; PKCE S256; the table's bound. Time is
// passed in, never slept.
#include "ca-server/connectors/sso_flows.h"

#include <gtest/gtest.h>

#include <string>

#include "ca-server/connectors/sso_cli_results.h"
#include "gate/bytes.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

TEST(SsoFlowsTest, TakenOnceWithItsBinding) {
  SsoFlows flows;
  auto f = flows.Begin("corp", "ctx", kNow);
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  EXPECT_EQ(f->state.size(), 43u);
  EXPECT_EQ(f->nonce.size(), 43u);
  EXPECT_NE(f->state, f->nonce);
  auto got = flows.Take(f->state, f->binding.view(), kNow + 30);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->connector, "corp");
  EXPECT_EQ(got->nonce, f->nonce);
  EXPECT_EQ(got->context, "ctx");
  // The challenge sent to the provider is S256 of the verifier kept here.
  EXPECT_EQ(SsoFlows::CodeChallenge(got->code_verifier.view()), f->code_challenge);
  // Replayed state: gone.
  auto again = flows.Take(f->state, f->binding.view(), kNow + 31);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(flows.pending(), 0u);
}

TEST(SsoFlowsTest, WrongBindingSpendsTheState) {
  SsoFlows flows;
  auto f = flows.Begin("corp", "", kNow);
  ASSERT_TRUE(f.has_value());
  // Another browser (an attacker's cookie, or none) cannot finish this login...
  EXPECT_FALSE(flows.Take(f->state, "", kNow).has_value());
  auto g = flows.Begin("corp", "", kNow);
  ASSERT_TRUE(g.has_value());
  EXPECT_FALSE(flows.Take(g->state, f->binding.view(), kNow).has_value());
  // ...and its attempt spends the state, so the victim's callback cannot be
  // raced into someone else's session either.
  EXPECT_FALSE(flows.Take(g->state, g->binding.view(), kNow).has_value());
  EXPECT_FALSE(flows.Take("unknown-state", g->binding.view(), kNow).has_value());
}

TEST(SsoFlowsTest, ExpiresAfterTtl) {
  SsoFlows flows({std::chrono::seconds(600), 10});
  auto f = flows.Begin("corp", "", kNow);
  auto g = flows.Begin("corp", "", kNow);
  ASSERT_TRUE(f.has_value() && g.has_value());
  EXPECT_TRUE(flows.Take(f->state, f->binding.view(), kNow + 600).has_value());
  EXPECT_FALSE(flows.Take(g->state, g->binding.view(), kNow + 601).has_value());
}

TEST(SsoFlowsTest, BoundedTable) {
  SsoFlows flows({std::chrono::seconds(600), 3});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(flows.Begin("corp", "", kNow).has_value());
  auto full = flows.Begin("corp", "", kNow);
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code(), Code::kResourceExhausted);
  // Expired logins make room.
  EXPECT_TRUE(flows.Begin("corp", "", kNow + 601).has_value());
  EXPECT_EQ(flows.pending(), 1u);
}

TEST(SsoFlowsTest, Rfc7636AppendixB) {
  // RFC 7636's own example of S256.
  EXPECT_EQ(SsoFlows::CodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(SsoFlowsTest, CliLoginsAreBoundAtCollect) {
  SsoFlows flows;
  auto f = flows.Begin("corp", "cli", kNow, SsoBinding::kAtCollect);
  ASSERT_TRUE(f.has_value());
  // The browser that comes back has no binding; the flow carries its hash on.
  auto got = flows.Take(f->state, "", kNow);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->binding, SsoBinding::kAtCollect);
  EXPECT_EQ(got->binding_hash, SsoFlows::BindingHash(f->binding.view()));
  EXPECT_FALSE(flows.Take(f->state, "", kNow).has_value());
}

TEST(SsoCliResultsTest, CollectedOnceWithTheSecretInTime) {
  SsoCliResults results(std::chrono::seconds(120), 2);
  const std::string hash = SsoFlows::BindingHash("the-secret");
  auto code = results.Park({"alice", "corp", "ssh-ed25519 AAAA", 0, hash, 0}, kNow);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(code->size(), 43u);
  auto got = results.Collect(*code, "the-secret", kNow + 5);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->user, "alice");
  EXPECT_EQ(results.Collect(*code, "the-secret", kNow + 5).error().code(), Code::kUnauthenticated);
  // A wrong secret spends the code.
  auto other = results.Park({"bob", "corp", "k", 0, hash, 0}, kNow);
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(results.Collect(*other, "guess", kNow).has_value());
  EXPECT_FALSE(results.Collect(*other, "the-secret", kNow).has_value());
  // Too late.
  auto late = results.Park({"carol", "corp", "k", 0, hash, 0}, kNow);
  ASSERT_TRUE(late.has_value());
  EXPECT_FALSE(results.Collect(*late, "the-secret", kNow + 121).has_value());
  // Bounded.
  ASSERT_TRUE(results.Park({"d", "corp", "k", 0, hash, 0}, kNow).has_value());
  ASSERT_TRUE(results.Park({"e", "corp", "k", 0, hash, 0}, kNow).has_value());
  EXPECT_EQ(results.Park({"f", "corp", "k", 0, hash, 0}, kNow).error().code(),
            Code::kResourceExhausted);
}

TEST(Base64UrlTest, RoundTripAndStrictness) {
  const std::string raw("\xfb\xff\x00\x01", 4);
  EXPECT_EQ(Base64UrlEncode(raw), "-_8AAQ");
  EXPECT_EQ(Base64UrlDecode("-_8AAQ").value_or("x"), raw);
  for (const char* bad : {"-_8AAQ==", "+/8AAQ", "a", "ab c"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace gate::ca
