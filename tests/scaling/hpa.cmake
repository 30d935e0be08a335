# The HPA conformance runner: replays the Kubernetes HPA reference vectors of
# tests/data/hpa/ through salama's public HPA API and fails on any mismatch.
add_executable(hpa_conformance ${CMAKE_CURRENT_LIST_DIR}/hpa_conformance.cpp)
target_link_libraries(hpa_conformance PRIVATE salama::salama)
target_include_directories(hpa_conformance PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../support)
if(TARGET salama_build_flags)
  target_link_libraries(hpa_conformance PRIVATE salama_build_flags)
endif()
if(TARGET Boost::json)
  target_link_libraries(hpa_conformance PRIVATE Boost::json)
else()
  # Without the compiled library, Boost.JSON builds from its headers in this one program.
  target_compile_definitions(hpa_conformance PRIVATE SALAMA_HPA_JSON_HEADER_ONLY=1)
endif()
# Every shipped vector, the count pinned so that a vector lost from the file fails the run.
add_test(NAME scaling.hpa_conformance
         COMMAND hpa_conformance --expect 70 ${SALAMA_TEST_DATA_DIR}/hpa/hpa_cases.json)
# A file of deliberately wrong vectors: the runner must fail on it.
add_test(NAME scaling.hpa_conformance.wrong_vector_fails
         COMMAND hpa_conformance ${SALAMA_TEST_DATA_DIR}/hpa/wrong_cases.json)
set_tests_properties(scaling.hpa_conformance scaling.hpa_conformance.wrong_vector_fails
                     PROPERTIES LABELS scaling TIMEOUT 60)
set_tests_properties(scaling.hpa_conformance.wrong_vector_fails PROPERTIES WILL_FAIL TRUE)
# The same file: each wrong vector reported for its own reason, the misspelled key by its path.
add_test(NAME scaling.hpa_conformance.wrong_vector_reported
         COMMAND hpa_conformance ${SALAMA_TEST_DATA_DIR}/hpa/wrong_cases.json)
set_tests_properties(scaling.hpa_conformance.wrong_vector_reported PROPERTIES LABELS scaling TIMEOUT 60
                     PASS_REGULAR_EXPRESSION "replica_calculator_cases\\[0\\]\\.expected\\.utilisation: unknown field.*replica_calculator_cases\\[1\\]\\.function: kind resource_utilization calls GetResourceReplicas.*expected replicas=5.*\n0 passed, 3 failed\n")
