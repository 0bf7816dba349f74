// CPtr<T, Free>: unique ownership of an object from a C library
// (OpenSSL, curl, sqlite, libfido2, qrencode), freed by that library's own
// function. Move-only; a null CPtr frees nothing.
#ifndef GATE_CPTR_H_
#define GATE_CPTR_H_

#include <memory>

namespace gate {

template <auto FreeFn>
struct CFree {
  template <typename T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) FreeFn(p);
  }
};

// Example: using EvpPkey = CPtr<EVP_PKEY, EVP_PKEY_free>;
template <typename T, auto FreeFn>
using CPtr = std::unique_ptr<T, CFree<FreeFn>>;

}  // namespace gate

#endif  // GATE_CPTR_H_
