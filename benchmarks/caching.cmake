# Caching: the trace replay tool and the hit-ratio table (built with the tests; ctest runs
# them on tests/data/traces and the trap workloads) and the memory-tier benchmarks.
salama_add_tool(trace_replay SOURCES ${CMAKE_CURRENT_LIST_DIR}/trace_replay.cpp)
salama_add_tool(trace_table SOURCES ${CMAKE_CURRENT_LIST_DIR}/trace_table.cpp)
salama_add_benchmark(caching_memory SOURCES ${CMAKE_CURRENT_LIST_DIR}/caching_memory.cpp)
