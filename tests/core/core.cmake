# Core tests that need something from the machine.
salama_redis_test(core.redis_fixture test_core "[redis]" LABELS core)
salama_catch_test(core.promtool test_core "[promtool]" LABELS core promtool)
