// SecretString / SecretBytes: containers for passwords, TOTP secrets, private
// key bytes and tokens. They wipe their memory (Wipe) when they
// change size, are reassigned, or are destroyed, so a secret does not linger
// in freed heap. They are deliberately not streamable: printing one is a bug.
#ifndef GATE_SECRET_H_
#define GATE_SECRET_H_

#include <string.h>  // explicit_bzero

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gate {

// Overwrites n bytes at p with zeros in a way the compiler may not remove
// (glibc's explicit_bzero). Not OPENSSL_cleanse: pam_gate.so includes this
// header and must not load libcrypto for it (docs/benchmarks.md).
inline void Wipe(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) ::explicit_bzero(p, n);
}

// An allocator that wipes every block before giving it back.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    Wipe(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

// std::basic_string with a wiping allocator. Note: short strings live inside
// the object (SSO); the destructor below wipes that buffer too.
class SecretString : public std::basic_string<char, std::char_traits<char>, WipingAllocator<char>> {
  using Base = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

 public:
  using Base::Base;
  SecretString() = default;
  explicit SecretString(std::string_view s) : Base(s.data(), s.size()) {}
  SecretString(const SecretString&) = default;
  SecretString(SecretString&&) = default;
  SecretString& operator=(const SecretString&) = default;
  SecretString& operator=(SecretString&&) = default;
  ~SecretString() { Wipe(Base::data(), Base::capacity()); }

  std::string_view view() const { return {Base::data(), Base::size()}; }
};

using SecretBytes = std::vector<std::uint8_t, WipingAllocator<std::uint8_t>>;

// Constant-time equality for secrets and their hashes: the time taken does
// not depend on where the inputs first differ (only on their lengths).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace gate

#endif  // GATE_SECRET_H_
