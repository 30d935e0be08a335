# The HPA conformance runner: replays the Kubernetes HPA reference vectors of
# tests/data/hpa/ through salama's public HPA API and fails on any mismatch.
add_executable(hpa_conformance ${CMAKE_CURRENT_LIST_DIR}/hpa_conformance.cpp)
target_link_libraries(hpa_conformance PRIVATE salama::salama)
if(TARGET salama_build_flags)
  target_link_libraries(hpa_conformance PRIVATE salama_build_flags)
endif()
if(TARGET Boost::json)
  target_link_libraries(hpa_conformance PRIVATE Boost::json)
else()
  # Without the compiled library, Boost.JSON builds from its headers in this one program.
  target_compile_definitions(hpa_conformance PRIVATE SALAMA_HPA_JSON_HEADER_ONLY=1)
endif()
add_test(NAME scaling.hpa_conformance
         COMMAND hpa_conformance ${SALAMA_TEST_DATA_DIR}/hpa/hpa_cases.json)
set_tests_properties(scaling.hpa_conformance PROPERTIES LABELS scaling TIMEOUT 60)
