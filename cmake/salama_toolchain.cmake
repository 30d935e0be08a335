# Build settings for salama's own tests, examples and benchmarks (not exported).

# ccache where present. Precompiled headers need these sloppiness settings to be cacheable.
find_program(SALAMA_CCACHE ccache)
if(SALAMA_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      # Relative paths in the hash: a fresh clone elsewhere reuses what an earlier build cached.
      "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}"
      ${SALAMA_CCACHE})
endif()

add_library(salama_build_flags INTERFACE)
target_compile_options(salama_build_flags INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic>)
if(SALAMA_SANITIZE)
  list(JOIN SALAMA_SANITIZE "," _san)
  target_compile_options(salama_build_flags INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(salama_build_flags INTERFACE -fsanitize=${_san})
  if("thread" IN_LIST SALAMA_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Asio's fences are fine under TSan (it models the atomics around them); g++ 12 warns anyway.
    target_compile_options(salama_build_flags INTERFACE -Wno-tsan)
  endif()
endif()
