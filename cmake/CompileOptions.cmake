# Project-wide warning and sanitizer settings, applied per target through
# zicht_target_defaults() so that system headers keep their own rules.
set(ZICHT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough)
if(ZICHT_WERROR)
  list(APPEND ZICHT_WARNINGS -Werror)
endif()

if(ZICHT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(ZICHT_FUZZ)
  # libFuzzer's coverage feedback in every module the targets reach, with ASan
  # and UBSan (fatal) so that a memory error or UB is a crash the fuzzer keeps.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(ZICHT_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  # Boost.Asio's fenced blocks use std::atomic_thread_fence, which TSan does
  # not model; GCC 12 warns about every use (-Wtsan). The handlers it orders
  # also go through mutexes in the scheduler, which TSan does see.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
  add_link_options(-fsanitize=thread)
endif()

function(zicht_target_defaults target)
  target_compile_options(${target} PRIVATE ${ZICHT_WARNINGS})
endfunction()

# zicht_module(NAME SOURCES ... DEPS ...): one static library per module with
# its public headers under <module>/include.
function(zicht_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(zicht_${name} STATIC ${M_SOURCES})
  add_library(zicht::${name} ALIAS zicht_${name})
  target_include_directories(zicht_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(zicht_${name} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  zicht_target_defaults(zicht_${name})
endfunction()
