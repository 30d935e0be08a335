# The Knative conformance runner: replays Knative Serving's KPA vectors of tests/data/knative/
# through salama's KPA core and fails on any mismatch. Without contraction, as Go on amd64.
add_executable(knative_conformance ${CMAKE_CURRENT_LIST_DIR}/knative_conformance.cpp)
target_link_libraries(knative_conformance PRIVATE salama::salama)
target_include_directories(knative_conformance PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../support)
if(TARGET salama_build_flags)
  target_link_libraries(knative_conformance PRIVATE salama_build_flags)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(knative_conformance PRIVATE -ffp-contract=off)
endif()
if(TARGET Boost::json)
  target_link_libraries(knative_conformance PRIVATE Boost::json)
else()
  # Without the compiled library, Boost.JSON builds from its headers in this one program.
  target_compile_definitions(knative_conformance PRIVATE SALAMA_KNATIVE_JSON_HEADER_ONLY=1)
endif()
# Every shipped vector, each excess burst capacity exactly as Go computes it.
add_test(NAME scaling.knative.vectors
         COMMAND knative_conformance --expect 20 --exact-ebc ${SALAMA_TEST_DATA_DIR}/knative/knative_cases.json)
# Further vectors transcribed the same way from the same tests (error paths, activation scale,
# the gradual scale-down delay, panic exit, construction).
add_test(NAME scaling.knative.more_vectors
         COMMAND knative_conformance --expect 14 --exact-ebc ${SALAMA_TEST_DATA_DIR}/knative/more_cases.json)
set_tests_properties(scaling.knative.more_vectors PROPERTIES LABELS scaling TIMEOUT 60)
# A file of deliberately wrong expectations: the runner must notice.
add_test(NAME scaling.knative.wrong_vector_fails
         COMMAND knative_conformance --expect 3 ${SALAMA_TEST_DATA_DIR}/knative/wrong_cases.json)
# A misspelled key is an error naming its path, not a dropped assertion.
add_test(NAME scaling.knative.unknown_key_fails
         COMMAND knative_conformance ${SALAMA_TEST_DATA_DIR}/knative/unknown_key_cases.json)
# A vector lost from the file fails the pinned count.
add_test(NAME scaling.knative.count_pinned
         COMMAND knative_conformance --expect 21 ${SALAMA_TEST_DATA_DIR}/knative/knative_cases.json)
set_tests_properties(scaling.knative.vectors scaling.knative.wrong_vector_fails scaling.knative.unknown_key_fails
                     scaling.knative.count_pinned PROPERTIES LABELS scaling TIMEOUT 60)
set_tests_properties(scaling.knative.wrong_vector_fails scaling.knative.count_pinned PROPERTIES WILL_FAIL TRUE)
# The same file, failing for its expectations (not for its schema): all three reported.
add_test(NAME scaling.knative.wrong_vector_reported
         COMMAND knative_conformance ${SALAMA_TEST_DATA_DIR}/knative/wrong_cases.json)
set_tests_properties(scaling.knative.wrong_vector_reported PROPERTIES LABELS scaling TIMEOUT 60
                     PASS_REGULAR_EXPRESSION "\n0 passed, 3 failed\n")
set_tests_properties(scaling.knative.unknown_key_fails PROPERTIES
                     PASS_REGULAR_EXPRESSION "vectors\\[0\\]\\.steps\\[0\\]\\.expect\\.desired_pods: unknown field")
# The KPA unit tests check Go's rounding too: their file is compiled without contraction.
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/policies_test.cpp PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
endif()
