# ctest fixtures: throwaway redis-server instances on 127.0.0.1 with free ports.
#   fixture "redis"       no password        SALAMA_REDIS_DIR
#   fixture "redis_auth"  with requirepass   SALAMA_REDIS_AUTH_DIR (password in its
#                                            password file, never on a command line we log)
# Tests that need one are tagged [redis] (salama_add_area_tests gives them an entry with
# the fixtures); they report "SKIPPED: ..." and return when redis-server is missing.
set(SALAMA_REDIS_DIR ${CMAKE_BINARY_DIR}/fixtures/redis)
set(SALAMA_REDIS_AUTH_DIR ${CMAKE_BINARY_DIR}/fixtures/redis_auth)
set(_fx ${CMAKE_CURRENT_LIST_DIR}/redis_fixture.sh)
string(RANDOM LENGTH 24 _pw)
file(WRITE ${SALAMA_REDIS_AUTH_DIR}/password "${_pw}")

add_test(NAME fixture.redis.start COMMAND ${_fx} start ${SALAMA_REDIS_DIR})
add_test(NAME fixture.redis.stop COMMAND ${_fx} stop ${SALAMA_REDIS_DIR})
set_tests_properties(fixture.redis.start PROPERTIES FIXTURES_SETUP redis LABELS fixture)
set_tests_properties(fixture.redis.stop PROPERTIES FIXTURES_CLEANUP redis LABELS fixture)

add_test(NAME fixture.redis_auth.start
         COMMAND ${_fx} start ${SALAMA_REDIS_AUTH_DIR} ${SALAMA_REDIS_AUTH_DIR}/password)
add_test(NAME fixture.redis_auth.stop COMMAND ${_fx} stop ${SALAMA_REDIS_AUTH_DIR})
set_tests_properties(fixture.redis_auth.start PROPERTIES FIXTURES_SETUP redis_auth LABELS fixture)
set_tests_properties(fixture.redis_auth.stop PROPERTIES FIXTURES_CLEANUP redis_auth LABELS fixture)

# salama_catch_test(<test name> <executable> [<catch filter>] [LABELS ...])
# One ctest entry running a Catch2 executable (optionally filtered by tags). A test case
# without a single assertion fails (-w NoAssertions): it could not have caught anything.
function(salama_catch_test name exe)
  cmake_parse_arguments(ARG "" "" "LABELS;FIXTURES;ENVIRONMENT" ${ARGN})
  add_test(NAME ${name} COMMAND ${exe} -w NoAssertions ${ARG_UNPARSED_ARGUMENTS})
  # A test that cannot run here says "SKIPPED: <why>" and returns; the others still run.
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 SKIP_REGULAR_EXPRESSION "SKIPPED: "
                       LABELS "${ARG_LABELS}")
  if(ARG_FIXTURES)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${ARG_FIXTURES}")
  endif()
  if(ARG_ENVIRONMENT)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
  endif()
endfunction()

# salama_redis_test(<test name> <executable> <catch filter> [LABELS ...])
# A Catch2 run that needs both Redis fixtures; labelled "redis".
function(salama_redis_test name exe)
  cmake_parse_arguments(ARG "" "" "LABELS" ${ARGN})
  salama_catch_test(${name} ${exe} ${ARG_UNPARSED_ARGUMENTS}
    LABELS redis ${ARG_LABELS}
    FIXTURES redis redis_auth
    ENVIRONMENT "SALAMA_REDIS_DIR=${SALAMA_REDIS_DIR};SALAMA_REDIS_AUTH_DIR=${SALAMA_REDIS_AUTH_DIR}")
endfunction()
