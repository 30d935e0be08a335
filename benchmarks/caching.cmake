# Caching: the trace replay tool (built with the tests; ctest runs it on tests/data/traces)
# and the memory-tier benchmarks.
salama_add_tool(trace_replay SOURCES ${CMAKE_CURRENT_LIST_DIR}/trace_replay.cpp)
salama_add_benchmark(caching_memory SOURCES ${CMAKE_CURRENT_LIST_DIR}/caching_memory.cpp)
