// The CLI's one-shot single sign-on listener (cli/common/sso_callback.h),
// driven over a real socket on 127.0.0.1.
#include "cli/common/sso_callback.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace gate::cli {
namespace {

// Sends request to 127.0.0.1:port and returns the whole reply.
std::string Send(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  char buf[1024];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return reply;
}

TEST(SsoCallbackTest, ReturnsTheCodeAfterIgnoringOtherPaths) {
  auto listener = SsoCallbackListener::Open();
  ASSERT_TRUE(listener.has_value()) << listener.error().ToString();
  const int port = listener->port();
  std::string favicon, callback;
  std::thread browser([&] {
    favicon = Send(port, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n");
    callback = Send(port, "GET /callback?code=abc-_9 HTTP/1.1\r\nHost: x\r\n\r\n");
  });
  auto code = listener->Wait(std::chrono::seconds(30));
  browser.join();
  ASSERT_TRUE(code.has_value()) << code.error().ToString();
  EXPECT_EQ(*code, "abc-_9");
  EXPECT_EQ(favicon.rfind("HTTP/1.1 404", 0), 0u) << favicon;
  EXPECT_EQ(callback.rfind("HTTP/1.1 200", 0), 0u) << callback;
  EXPECT_NE(callback.find("the login is finished"), std::string::npos);
}

TEST(SsoCallbackTest, ErrorFromGateCaIsTheAnswer) {
  auto listener = SsoCallbackListener::Open();
  ASSERT_TRUE(listener.has_value());
  const int port = listener->port();
  std::thread browser(
      [&] { Send(port, "GET /callback?error=no%20role%20is%20mapped+to+eve HTTP/1.1\r\n\r\n"); });
  auto code = listener->Wait(std::chrono::seconds(30));
  browser.join();
  ASSERT_FALSE(code.has_value());
  EXPECT_EQ(code.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(code.error().message(), "single sign-on failed: no role is mapped to eve");
}

TEST(SsoCallbackTest, DecodeQueryValue) {
  EXPECT_EQ(*DecodeQueryValue("a%2Fb+c"), "a/b c");
  EXPECT_FALSE(DecodeQueryValue("a%2").has_value());
  EXPECT_FALSE(DecodeQueryValue("a%zz").has_value());
  EXPECT_FALSE(DecodeQueryValue("a%0Ab").has_value());
}

}  // namespace
}  // namespace gate::cli
