# Scaling examples: the trace replay (runs in the suite on the small shipped trace).
salama_add_example(autoscale_replay SOURCES ${CMAKE_CURRENT_LIST_DIR}/autoscale_replay.cpp
  ARGS --trace ${CMAKE_CURRENT_LIST_DIR}/data/autoscale_trace.csv
       --config ${CMAKE_CURRENT_LIST_DIR}/data/autoscale_replay.json
       --decisions autoscale_decisions.csv --svg autoscale_replay.svg)
