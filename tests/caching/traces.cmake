# Hit-ratio checks: trace_replay on the traces of tests/data/traces. Each LRU run must
# reproduce the published LRU hit ratio (to 0.001), and each W-TinyLFU run must reach
# max(LRU, Caffeine 2.6.2) - 0.01 (trace_replay --expect-min fails below it). Bad
# arguments and bad files must fail with a clear message (checked by this same file run
# in script mode, below).

if(CMAKE_SCRIPT_MODE_FILE)
  # Script mode: cmake -DEXE=... -DARGS=a;b;c -DEXPECT_RC=n -DEXPECT_ERR=regex -P traces.cmake
  execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL EXPECT_RC)
    message(FATAL_ERROR "expected exit status ${EXPECT_RC}, got ${rc}\nstdout: ${out}\nstderr: ${err}")
  endif()
  if(NOT err MATCHES "${EXPECT_ERR}")
    message(FATAL_ERROR "stderr does not match '${EXPECT_ERR}':\n${err}")
  endif()
  return()
endif()

set(_traces ${SALAMA_TEST_DATA_DIR}/traces)
# trace | format | capacity | LRU | Caffeine 2.6.2
set(_cases
  "lirs_gli.trace.gz|lirs|1000|0.112|0.401"
  "lirs_gli.trace.gz|lirs|2000|0.574|0.571"
  "lirs_multi2.trace.gz|lirs|500|0.360|0.502"
  "lirs_multi2.trace.gz|lirs|2000|0.490|0.693"
  "lirs_loop.trace.gz|lirs|512|0.000|0.499"
  "cache2k_web07.trace.xz|i32be|1024|0.506|0.525"
  "cache2k_web07.trace.xz|i32be|4096|0.610|0.609")

foreach(_case IN LISTS _cases)
  string(REPLACE "|" ";" _f "${_case}")
  list(GET _f 0 _file)
  list(GET _f 1 _format)
  list(GET _f 2 _capacity)
  list(GET _f 3 _lru)
  list(GET _f 4 _caffeine)
  string(REGEX REPLACE "\\.trace\\..*$" "" _name "${_file}")
  # Fixed-point arithmetic on thousandths: CMake's math() knows only integers.
  string(REPLACE "." "" _lru_m "${_lru}")
  string(REPLACE "." "" _caf_m "${_caffeine}")
  math(EXPR _lru_m "${_lru_m}")
  math(EXPR _caf_m "${_caf_m}")
  set(_best ${_lru_m})
  if(_caf_m GREATER _best)
    set(_best ${_caf_m})
  endif()
  math(EXPR _target "${_best} - 10")
  math(EXPR _lru_floor "${_lru_m} - 1")
  if(_lru_floor LESS 0)
    set(_lru_floor 0)
  endif()
  foreach(_pair "wtinylfu;${_target}" "lru;${_lru_floor}")
    list(GET _pair 0 _policy)
    list(GET _pair 1 _min)
    math(EXPR _int "${_min} / 1000")
    math(EXPR _frac "${_min} % 1000")
    string(LENGTH "${_frac}" _len)
    if(_len EQUAL 1)
      set(_frac "00${_frac}")
    elseif(_len EQUAL 2)
      set(_frac "0${_frac}")
    endif()
    set(_test caching.trace.${_name}.${_capacity}.${_policy})
    add_test(NAME ${_test}
             COMMAND trace_replay --format ${_format} --capacity ${_capacity} --policy ${_policy}
                     --expect-min ${_int}.${_frac} ${_traces}/${_file})
    set_tests_properties(${_test} PROPERTIES LABELS caching)
  endforeach()
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

# The address format end to end: 0x1 0x2 0x1 0x2 0x3 0x1 at capacity 2 under LRU hit on
# the 3rd and 4th accesses only (2 / 6).
set(_addresses ${CMAKE_CURRENT_BINARY_DIR}/caching_addresses.trace)
file(WRITE ${_addresses} "# addresses\n0x1\n0x2\n0X1\n2\n\n0x3\n0x1\n")
add_test(NAME caching.trace_replay.address_format
         COMMAND trace_replay --format address --capacity 2 --policy lru ${_addresses})
set_tests_properties(caching.trace_replay.address_format PROPERTIES LABELS caching
                     PASS_REGULAR_EXPRESSION "hit_ratio=0\\.3333 accesses=6")
