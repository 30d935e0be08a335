# Core tests that need something from the machine ([redis], [promtool]) get their ctest
# entries from salama_add_area_tests (tests/CMakeLists.txt), as in every area.
