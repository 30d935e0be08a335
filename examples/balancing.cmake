# Load-balancing examples.
salama_add_example(load_balancer SOURCES ${CMAKE_CURRENT_LIST_DIR}/load_balancer.cpp)
