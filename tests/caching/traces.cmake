# Hit-ratio checks: trace_replay on the traces of tests/data/traces. Each LRU run must
# reproduce the published LRU hit ratio to 0.001 (trace_replay --expect), and each
# W-TinyLFU run must reach max(LRU, Caffeine 2.6.2) - 0.01 where Caffeine's ratio is
# published (--expect-min). Every row of the table in docs/caching.md (real traces and
# trap workloads) must show the adaptive window at or above max(LRU, fixed 1 % window)
# - 0.01 (trace_table --check). Bad arguments and bad files must fail with a clear
# message, and runs checked by their output must also exit 0 (this same file run in
# script mode, below).

if(CMAKE_SCRIPT_MODE_FILE)
  # Script mode: cmake -DEXE=... -DARGS=a;b;c -DEXPECT_RC=n [-DEXPECT_ERR=regex]
  #              [-DEXPECT_OUT=regex] -P traces.cmake
  execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL EXPECT_RC)
    message(FATAL_ERROR "expected exit status ${EXPECT_RC}, got ${rc}\nstdout: ${out}\nstderr: ${err}")
  endif()
  if(DEFINED EXPECT_ERR AND NOT err MATCHES "${EXPECT_ERR}")
    message(FATAL_ERROR "stderr does not match '${EXPECT_ERR}':\n${err}")
  endif()
  if(DEFINED EXPECT_OUT AND NOT out MATCHES "${EXPECT_OUT}")
    message(FATAL_ERROR "stdout does not match '${EXPECT_OUT}':\n${out}")
  endif()
  return()
endif()

set(_traces ${SALAMA_TEST_DATA_DIR}/traces)
# trace | format | capacity | LRU (published, 0.001) | Caffeine 2.6.2 ("-": not published)
set(_cases
  "lirs_gli.trace.gz|lirs|1000|0.112|0.401"
  "lirs_gli.trace.gz|lirs|2000|0.574|0.571"
  "lirs_multi2.trace.gz|lirs|500|0.360|0.502"
  "lirs_multi2.trace.gz|lirs|2000|0.490|0.693"
  "lirs_loop.trace.gz|lirs|512|0.000|0.499"
  "lirs_loop.trace.gz|lirs|768|0.000|-"
  "cache2k_web07.trace.xz|i32be|1024|0.506|0.525"
  "cache2k_web07.trace.xz|i32be|4096|0.610|0.609"
  "address_swim.trace.gz|address|128|0.8617|-"
  "address_swim.trace.gz|address|512|0.9069|-"
  "address_twolf.trace.gz|address|128|0.9424|-"
  "address_twolf.trace.gz|address|512|0.9784|-")

# Turns an integer count of thousandths into a decimal ratio, e.g. 574 into 0.574 (CMake's
# math() knows only integers).
function(_salama_thousandths_to_ratio m out)
  math(EXPR _int "${m} / 1000")
  math(EXPR _frac "${m} % 1000")
  string(LENGTH "${_frac}" _len)
  if(_len EQUAL 1)
    set(_frac "00${_frac}")
  elseif(_len EQUAL 2)
    set(_frac "0${_frac}")
  endif()
  set(${out} "${_int}.${_frac}" PARENT_SCOPE)
endfunction()

foreach(_case IN LISTS _cases)
  string(REPLACE "|" ";" _f "${_case}")
  list(GET _f 0 _file)
  list(GET _f 1 _format)
  list(GET _f 2 _capacity)
  list(GET _f 3 _lru)
  list(GET _f 4 _caffeine)
  string(REGEX REPLACE "\\.trace\\..*$" "" _name "${_file}")
  set(_test caching.trace.${_name}.${_capacity}.lru)
  add_test(NAME ${_test}
           COMMAND trace_replay --format ${_format} --capacity ${_capacity} --policy lru
                   --expect ${_lru} ${_traces}/${_file})
  set_tests_properties(${_test} PROPERTIES LABELS caching)
  if(NOT _caffeine STREQUAL "-")
    string(REPLACE "." "" _lru_m "${_lru}")
    string(REPLACE "." "" _caf_m "${_caffeine}")
    math(EXPR _lru_m "${_lru_m}")
    math(EXPR _caf_m "${_caf_m}")
    set(_best ${_lru_m})
    if(_caf_m GREATER _best)
      set(_best ${_caf_m})
    endif()
    math(EXPR _target "${_best} - 10")
    _salama_thousandths_to_ratio(${_target} _min)
    set(_test caching.trace.${_name}.${_capacity}.wtinylfu)
    add_test(NAME ${_test}
             COMMAND trace_replay --format ${_format} --capacity ${_capacity} --policy wtinylfu
                     --expect-min ${_min} ${_traces}/${_file})
    set_tests_properties(${_test} PROPERTIES LABELS caching)
  endif()
  # The table row: adaptive window against max(LRU, fixed 1 %) - 0.01.
  set(_test caching.trace_table.${_name}.${_capacity})
  add_test(NAME ${_test}
           COMMAND trace_table --data ${_traces} --quick --check --rows ${_name}.${_capacity})
  set_tests_properties(${_test} PROPERTIES LABELS caching)
endforeach()

# The trap workloads (five seeds each, medians), same margin.
foreach(_trap zigzag loop scan_bursts drift alternating reuse_band)
  set(_test caching.trace_table.trap.${_trap})
  add_test(NAME ${_test} COMMAND trace_table --data ${_traces} --quick --check --rows trap.${_trap})
  set_tests_properties(${_test} PROPERTIES LABELS caching)
endforeach()

# Bad input: name, arguments, expected exit status, expected message.
function(_salama_trace_replay_failure name rc regex)
  add_test(NAME caching.trace_replay.${name}
           COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:trace_replay> "-DARGS=${ARGN}"
                   -DEXPECT_RC=${rc} "-DEXPECT_ERR=${regex}" -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(caching.trace_replay.${name} PROPERTIES LABELS caching)
endfunction()
set(_web07 ${_traces}/cache2k_web07.trace.xz)
set(_fake_gz ${CMAKE_CURRENT_BINARY_DIR}/caching_not_gzip.trace.gz)
file(WRITE ${_fake_gz} "1\n2\n")
_salama_trace_replay_failure(missing_file 1 "cannot open"
  --format lirs --capacity 10 --policy lru ${_traces}/no_such.trace)
_salama_trace_replay_failure(wrong_format 1 "line 1: not an integer key"
  --format lirs --capacity 10 --policy lru ${_web07})
_salama_trace_replay_failure(not_compressed 1 "gzip -dc' failed"
  --format lirs --capacity 10 --policy lru ${_fake_gz})
_salama_trace_replay_failure(zero_capacity 2 "--capacity must be a positive integer"
  --format lirs --capacity 0 --policy lru ${_web07})
_salama_trace_replay_failure(bad_capacity 2 "--capacity must be a positive integer"
  --format lirs --capacity 12x --policy lru ${_web07})
_salama_trace_replay_failure(unknown_policy 2 "unknown --policy 'fifo'"
  --format lirs --capacity 10 --policy fifo ${_web07})
_salama_trace_replay_failure(unknown_format 2 "unknown --format 'csv'"
  --format csv --capacity 10 --policy lru ${_web07})
_salama_trace_replay_failure(missing_file_argument 2 "FILE is required"
  --format lirs --capacity 10 --policy lru)
_salama_trace_replay_failure(bad_expectation 2 "--expect-min must be a number"
  --format lirs --capacity 10 --policy lru --expect-min 1.5 ${_web07})
_salama_trace_replay_failure(below_expectation 1 "below the expected minimum"
  --format i32be --capacity 1024 --policy lru --expect-min 0.9 ${_web07})
_salama_trace_replay_failure(off_expectation 1 "differs from the expected 0.5030 by more than 0.001"
  --format i32be --capacity 1024 --policy lru --expect 0.503 ${_web07})
_salama_trace_replay_failure(window_without_fixed 2 "--window applies to --policy wtinylfu-fixed only"
  --format i32be --capacity 1024 --policy lru --window 0.2 ${_web07})
_salama_trace_replay_failure(bad_window 2 "--window must be a fraction in \\(0, 1\\]"
  --format i32be --capacity 1024 --policy wtinylfu-fixed --window 0 ${_web07})
_salama_trace_replay_failure(unknown_trap 2 "unknown --trap 'spiral'"
  --trap spiral --capacity 100 --policy lru)
_salama_trace_replay_failure(trap_and_file 2 "--trap replaces FILE and --format"
  --trap loop --capacity 100 --policy lru ${_web07})

# The address format end to end, through the script so that the exit status counts too:
# 0x1 0x2 0x1 0x2 0x3 0x1 at capacity 2 under LRU hit on the 3rd and 4th accesses only (2 / 6).
set(_addresses ${CMAKE_CURRENT_BINARY_DIR}/caching_addresses.trace)
file(WRITE ${_addresses} "# addresses\nl 0x1 4\ns 0x2 1\n0X1\n2\n\nl 0x3 8\nl 0x1 1\n")
add_test(NAME caching.trace_replay.address_format
         COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:trace_replay>
                 "-DARGS=--format;address;--capacity;2;--policy;lru;${_addresses}"
                 -DEXPECT_RC=0 "-DEXPECT_OUT=hit_ratio=0\\.3333 accesses=6" -P ${CMAKE_CURRENT_LIST_FILE})
set_tests_properties(caching.trace_replay.address_format PROPERTIES LABELS caching)

# S3-FIFO and a fixed window replay end to end (exit 0 and a ratio printed).
add_test(NAME caching.trace_replay.s3fifo
         COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:trace_replay>
                 "-DARGS=--format;lirs;--capacity;1000;--policy;s3fifo;${_traces}/lirs_gli.trace.gz"
                 -DEXPECT_RC=0 "-DEXPECT_OUT=hit_ratio=0\\.3511 accesses=6015" -P ${CMAKE_CURRENT_LIST_FILE})
add_test(NAME caching.trace_replay.fixed_window
         COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:trace_replay>
                 "-DARGS=--format;i32be;--capacity;1024;--policy;wtinylfu-fixed;--window;0.2;${_web07}"
                 -DEXPECT_RC=0 "-DEXPECT_OUT=hit_ratio=0\\.5381 accesses=76118" -P ${CMAKE_CURRENT_LIST_FILE})
set_tests_properties(caching.trace_replay.s3fifo caching.trace_replay.fixed_window PROPERTIES LABELS caching)

# Weighted entries: object and byte hit ratios on the sized workload (exit 0, both printed).
add_test(NAME caching.trace_table.weighted
         COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:trace_table> "-DARGS=--weighted"
                 -DEXPECT_RC=0 "-DEXPECT_OUT=W-TinyLFU, adaptive window \\| 0\\.[0-9]+ \\| 0\\.[0-9]+"
                 -P ${CMAKE_CURRENT_LIST_FILE})
set_tests_properties(caching.trace_table.weighted PROPERTIES LABELS caching)
