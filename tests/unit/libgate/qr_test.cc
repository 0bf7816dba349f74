// QR matrices (gate/qr.h).
#include "gate/qr.h"

#include <gtest/gtest.h>

#include <string>

namespace gate {
namespace {

// The 7x7 finder pattern: a dark ring, a light ring, a dark 3x3 core.
bool FinderAt(const QrMatrix& qr, int x0, int y0) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      const bool ring = x == 0 || y == 0 || x == 6 || y == 6;
      const bool core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
      if (qr.Dark(x0 + x, y0 + y) != (ring || core)) return false;
    }
  }
  return true;
}

TEST(QrTest, EncodesAUriIntoAVersionSizedMatrix) {
  auto qr = EncodeQr(
      "otpauth://totp/grav-00:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=grav-00"
      "&algorithm=SHA1&digits=6&period=30");
  ASSERT_TRUE(qr.has_value()) << qr.error().ToString();
  EXPECT_GE(qr->size, 21);
  EXPECT_EQ((qr->size - 21) % 4, 0);  // version v is 17 + 4v modules
  EXPECT_EQ(qr->dark.size(), static_cast<std::size_t>(qr->size * qr->size));
  EXPECT_TRUE(FinderAt(*qr, 0, 0));
  EXPECT_TRUE(FinderAt(*qr, qr->size - 7, 0));
  EXPECT_TRUE(FinderAt(*qr, 0, qr->size - 7));
  EXPECT_FALSE(qr->Dark(-1, 0));
  EXPECT_FALSE(qr->Dark(qr->size, 0));
}

TEST(QrTest, TooLongIsAnError) {
  auto qr = EncodeQr(std::string(8000, 'x'));
  ASSERT_FALSE(qr.has_value());
  EXPECT_EQ(qr.error().code(), Code::kInternal);
}

}  // namespace
}  // namespace gate
