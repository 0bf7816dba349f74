#include "gate/qr.h"

#include <qrencode.h>

#include <string>

#include "gate/cptr.h"

namespace gate {

Result<QrMatrix> EncodeQr(std::string_view text) {
  const std::string input(text);
  CPtr<QRcode, QRcode_free> qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return Err(Internal("cannot encode the QR code"));
  QrMatrix out;
  out.size = qr->width;
  const std::size_t n = static_cast<std::size_t>(qr->width) * static_cast<std::size_t>(qr->width);
  out.dark.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.dark[i] = (qr->data[i] & 1) != 0;
  return out;
}

}  // namespace gate
