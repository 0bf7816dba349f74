// What both HTTP transports share: their error wording and the CA pin format.
#include "transport.h"

#include <algorithm>
#include <string>

#include "gate/bytes.h"

namespace gate::http {
namespace {

std::string SizeText(std::size_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

std::string UrlForErrors(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

Status Unreachable(std::string_view url, std::string_view reason) {
  return Unavailable("cannot reach " + UrlForErrors(url) + ": " + std::string(reason));
}

Status TimedOut(std::string_view url, std::chrono::milliseconds after) {
  return Unreachable(url, "timed out after " + std::to_string(after.count()) + " ms");
}

Status PinMismatch(std::string_view url, std::string_view pin) {
  return Unreachable(url, "the server's key does not match the pinned " + std::string(pin));
}

Status VerificationFailed(std::string_view url, std::string_view reason) {
  return Unreachable(url,
                     "TLS certificate verification failed (" + std::string(reason) +
                         "); trust it with --ca-pin sha256:... (gate-ca start prints the pin)");
}

Status ResponseTooLarge(std::string_view url, std::size_t limit) {
  return DataLoss("response from " + UrlForErrors(url) + " is larger than " + SizeText(limit));
}

Result<std::array<unsigned char, 32>> ParseCaPin(std::string_view pin) {
  constexpr std::string_view kPrefix = "sha256:";
  auto invalid = [&] {
    return Err(InvalidArgument("invalid CA pin '" + std::string(pin) +
                               "' (expected sha256:<64 hex digits>)"));
  };
  if (pin.substr(0, kPrefix.size()) != kPrefix) return invalid();
  const std::string_view hex = pin.substr(kPrefix.size());
  if (hex.size() != 64) return invalid();
  auto raw = HexDecode(hex);
  if (!raw || raw->size() != 32) return invalid();
  std::array<unsigned char, 32> digest{};
  std::copy(raw->begin(), raw->end(), digest.begin());
  return digest;
}

}  // namespace gate::http
