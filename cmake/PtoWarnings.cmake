# Warnings are errors everywhere, with gcc and clang alike.
set(PTO_WARNING_FLAGS -Wall -Wextra -Werror -Wundef -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla)

if(PTO_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(PTO_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT PTO_SANITIZE STREQUAL "")
  message(FATAL_ERROR "PTO_SANITIZE must be '', 'address' or 'thread'")
endif()

if(PTO_FUZZER)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PTO_FUZZER needs clang (-DCMAKE_C_COMPILER=clang)")
  endif()
  # Coverage feedback from the whole library, not just the harness.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

function(pto_target_warnings target)
  target_compile_options(${target} PRIVATE ${PTO_WARNING_FLAGS})
endfunction()
