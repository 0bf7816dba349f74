// Owning pointers for libfido2's objects, shared by `gate mfa add`
// (registration) and pam_gate's FIDO2 factor (assertion). Header-only: only
// code that already links libfido2 includes it, so libgate itself does not.
#ifndef GATE_FIDO_PTR_H_
#define GATE_FIDO_PTR_H_

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>

#include <cstddef>

#include "gate/cptr.h"

namespace gate::fido {

// Keys plugged in at once; beyond this many we do not look.
inline constexpr std::size_t kMaxDevices = 16;
// How long a key waits for a touch (or PIN/biometric) before giving up.
inline constexpr int kTouchTimeoutMs = 30'000;

// libfido2's destructors take T** (they null the caller's pointer); CPtr
// hands its deleter a T*.
template <typename T, void (*Free)(T**)>
void FreeIndirect(T* p) {
  Free(&p);
}
inline void FreeDevInfo(fido_dev_info_t* p) { fido_dev_info_free(&p, kMaxDevices); }
inline void CloseAndFreeDev(fido_dev_t* p) {
  // fido_dev_close on a device that never opened only returns an error.
  fido_dev_close(p);
  fido_dev_free(&p);
}

using Cred = CPtr<fido_cred_t, FreeIndirect<fido_cred_t, fido_cred_free>>;
using Assert = CPtr<fido_assert_t, FreeIndirect<fido_assert_t, fido_assert_free>>;
using Es256Pk = CPtr<es256_pk_t, FreeIndirect<es256_pk_t, es256_pk_free>>;
using EddsaPk = CPtr<eddsa_pk_t, FreeIndirect<eddsa_pk_t, eddsa_pk_free>>;
using DevInfo = CPtr<fido_dev_info_t, FreeDevInfo>;  // of kMaxDevices entries
using Dev = CPtr<fido_dev_t, CloseAndFreeDev>;

}  // namespace gate::fido

#endif  // GATE_FIDO_PTR_H_
