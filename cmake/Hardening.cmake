# Hardened build for every binary: we ship setuid-adjacent hooks and a PAM
# module, so _FORTIFY_SOURCE, stack protector, PIE and full RELRO are not optional.
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_library(gate_hardening INTERFACE)
target_compile_options(gate_hardening INTERFACE
  -fstack-protector-strong -fstack-clash-protection -fcf-protection
  $<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2>)
target_link_options(gate_hardening INTERFACE
  -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed)
