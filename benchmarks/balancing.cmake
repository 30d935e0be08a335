# Load balancing: pick latency against the seed's score-every-node approach (Google
# Benchmark), and the hash pickers' quality (a measurement tool ctest runs with --check).
salama_add_benchmark(balancing_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/balancing_bench.cpp)
salama_add_tool(balancing_quality SOURCES ${CMAKE_CURRENT_LIST_DIR}/balancing_quality.cpp)
if(SALAMA_BUILD_TESTS)
  add_test(NAME balancing.quality COMMAND balancing_quality --check --quick)
  set_tests_properties(balancing.quality PROPERTIES LABELS balancing)
endif()
