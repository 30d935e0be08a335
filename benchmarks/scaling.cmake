# Scaling benchmarks: one recommender evaluation against iterating the snapshot.
salama_add_benchmark(scaling_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/scaling_bench.cpp)
