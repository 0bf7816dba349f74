# gate_warnings(target): the warning set every gate target compiles with.
add_library(gate_warnings INTERFACE)
target_compile_options(gate_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(GATE_WERROR)
  target_compile_options(gate_warnings INTERFACE -Werror)
endif()
