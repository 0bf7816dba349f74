// The SSH address gate-node join registers by default, from sshd -T's
// settings (run against real sshd in tests/integration/test_nodes.py).
#include "sshd-hooks/node/ssh_address.h"

#include <gtest/gtest.h>

namespace gate::hooks {
namespace {

TEST(DefaultSshAddressTest, OneSpecificListenAddressIsUsed) {
  EXPECT_EQ(DefaultSshAddress({{"port", "2322"}, {"listenaddress", "127.0.0.1:2322"}}, "db-1"),
            "127.0.0.1:2322");
  EXPECT_EQ(DefaultSshAddress({{"port", "22"}, {"listenaddress", "[fd00::5]:22"}}, "db-1"),
            "[fd00::5]:22");
}

TEST(DefaultSshAddressTest, WildcardListenAddressMeansHostnameAndPort) {
  EXPECT_EQ(DefaultSshAddress({{"port", "2222"}, {"listenaddress", "0.0.0.0:2222"}}, "db-1"),
            "db-1:2222");
  EXPECT_EQ(DefaultSshAddress({{"port", "22"}, {"listenaddress", "[::]:22"}}, "db-1"), "db-1:22");
}

TEST(DefaultSshAddressTest, MissingOrOddSettingsFallBackToPort22) {
  EXPECT_EQ(DefaultSshAddress({}, "db-1"), "db-1:22");
  EXPECT_EQ(DefaultSshAddress({{"port", "0"}}, "db-1"), "db-1:22");
  EXPECT_EQ(DefaultSshAddress({{"port", "70000"}}, "db-1"), "db-1:22");
  EXPECT_EQ(DefaultSshAddress({{"port", "22x"}, {"listenaddress", "garbage"}}, "db-1"), "db-1:22");
}

}  // namespace
}  // namespace gate::hooks
