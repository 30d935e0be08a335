# Caching: the trace replay tool and the hit-ratio table (built with the tests; ctest runs
# them on tests/data/traces and the trap workloads) and the memory-tier benchmarks.
salama_add_tool(trace_replay SOURCES ${CMAKE_CURRENT_LIST_DIR}/trace_replay.cpp)
salama_add_tool(trace_table SOURCES ${CMAKE_CURRENT_LIST_DIR}/trace_table.cpp)
# The replays run hundreds of thousands of requests through seven caches per row: optimize
# them even in Debug builds so that each ctest row takes seconds.
foreach(_tool trace_replay trace_table)
  target_compile_options(${_tool} PRIVATE $<$<CONFIG:Debug>:-O2>)
endforeach()
salama_add_benchmark(caching_memory SOURCES ${CMAKE_CURRENT_LIST_DIR}/caching_memory.cpp)
