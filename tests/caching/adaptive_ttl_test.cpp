// Adaptive TTL per key pattern, the cache manager built on it, and its metrics.
#include "catch.hpp"

#include <salama/caching/adaptive_ttl.hpp>
#include <salama/caching/cache_manager.hpp>
#include <salama/caching/key_pattern.hpp>
#include <salama/caching/lru_policy.hpp>
#include <salama/core/clock.hpp>
#include <salama/core/log.hpp>
#include <salama/core/metrics_registry.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace {

using namespace salama::caching;
using namespace std::chrono_literals;
using salama::manual_clock;

adaptive_ttl_options two_patterns() {
    return {
        .patterns = {{.match = "user:*", .initial_ttl = 300s, .min_ttl = 60s, .max_ttl = 1200s},
                     {.match = "session:", .kind = pattern_kind::prefix, .initial_ttl = 100s,
                      .min_ttl = 30s, .max_ttl = 400s}},
        .fallback = {.match = "*", .initial_ttl = 300s, .min_ttl = 300s, .max_ttl = 300s},
        .window = 60s,
        .min_requests = 10,
    };
}

void lookups(adaptive_ttl& p, std::string_view key, int hits, int misses) {
    const auto i = p.classify(key);
    for (int k = 0; k < hits; ++k) p.record(i, true);
    for (int k = 0; k < misses; ++k) p.record(i, false);
}

}  // namespace

TEST_CASE("key_pattern matches prefixes and globs", "[caching][ttl]") {
    CHECK(key_pattern("user:", pattern_kind::prefix).matches("user:42"));
    CHECK(!key_pattern("user:", pattern_kind::prefix).matches("users:42"));
    const key_pattern g("user:*:profile", pattern_kind::glob);
    CHECK(g.matches("user:42:profile"));
    CHECK(g.matches("user::profile"));
    CHECK(!g.matches("user:42:profile:x"));
    CHECK(!g.matches("user:42"));
    CHECK(key_pattern("a?c*", pattern_kind::glob).matches("abcdef"));
    CHECK(!key_pattern("a?c*", pattern_kind::glob).matches("ac"));
    CHECK(key_pattern("*", pattern_kind::glob).matches(""));
    CHECK(key_pattern::glob_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
    CHECK(!key_pattern::glob_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    CHECK_THROWS_WITH(key_pattern("", pattern_kind::glob), "invalid key_pattern.pattern: must not be empty");
}

TEST_CASE("adaptive_ttl classifies keys by the first matching pattern", "[caching][ttl]") {
    adaptive_ttl p(two_patterns());
    CHECK(p.pattern_count() == 3);
    CHECK(p.classify("user:1") == 0);
    CHECK(p.classify("session:abc") == 1);
    CHECK(p.classify("other") == 2);
    CHECK(p.ttl(0) == 300s);
    CHECK(p.ttl(1) == 100s);
    CHECK(p.stats(2).pattern == "*");
}

TEST_CASE("adaptive_ttl raises and lowers TTLs per pattern within bounds", "[caching][ttl]") {
    manual_clock clock;
    adaptive_ttl p(two_patterns());
    CHECK(p.evaluate(clock.now()).empty());  // opens the first window

    // user: 90 % hits -> raise x1.5; session: 10 % hits -> lower x0.5; other: 50 % -> keep.
    lookups(p, "user:1", 18, 2);
    lookups(p, "session:1", 2, 18);
    lookups(p, "x", 10, 10);
    clock.advance(59s);
    CHECK(p.evaluate(clock.now()).empty());  // window not over yet
    clock.advance(1s);
    auto changes = p.evaluate(clock.now());
    REQUIRE(changes.size() == 2);
    CHECK(changes[0].pattern == 0);
    CHECK(changes[0].before == 300s);
    CHECK(changes[0].after == 450s);
    CHECK(changes[0].hit_rate == Approx(0.9));
    CHECK(changes[0].requests == 20);
    CHECK(changes[1].pattern == 1);
    CHECK(changes[1].after == 50s);
    CHECK(p.ttl(2) == 300s);

    SECTION("repeated windows climb to the upper bound and stay there") {
        for (int w = 0; w < 6; ++w) {
            lookups(p, "user:1", 19, 1);
            clock.advance(60s);
            p.evaluate(clock.now());
            CHECK(p.ttl(0) <= 1200s);
        }
        CHECK(p.ttl(0) == 1200s);
        lookups(p, "user:1", 20, 0);
        clock.advance(60s);
        CHECK(p.evaluate(clock.now()).empty());  // already at max_ttl: no change
    }
    SECTION("repeated windows fall to the lower bound and stay there") {
        for (int w = 0; w < 4; ++w) {
            lookups(p, "session:1", 0, 20);
            clock.advance(60s);
            p.evaluate(clock.now());
            CHECK(p.ttl(1) >= 30s);
        }
        CHECK(p.ttl(1) == 30s);
    }
    SECTION("a pattern with too few lookups keeps its TTL") {
        lookups(p, "user:1", 9, 0);
        clock.advance(60s);
        CHECK(p.evaluate(clock.now()).empty());
        CHECK(p.ttl(0) == 450s);
    }
    SECTION("only the window's lookups count") {
        // The earlier 90 % window is forgotten: this window is 15 % -> lower.
        lookups(p, "user:1", 3, 17);
        clock.advance(60s);
        auto c = p.evaluate(clock.now());
        REQUIRE(c.size() == 1);
        CHECK(c[0].after == 225s);
        CHECK(p.stats(0).hits == 21);
        CHECK(p.stats(0).misses == 19);
    }
}

TEST_CASE("adaptive_ttl rejects bad options clearly", "[caching][ttl][validation]") {
    auto with = [](auto mutate) {
        auto o = two_patterns();
        mutate(o);
        return o;
    };
    CHECK_THROWS_WITH(adaptive_ttl(with([](auto& o) { o.patterns[1].match = ""; })),
                      "invalid adaptive_ttl_options.patterns[1].match: must not be empty");
    CHECK_THROWS_WITH(adaptive_ttl(with([](auto& o) { o.patterns[0].min_ttl = -1s; })),
                      "invalid adaptive_ttl_options.patterns[0].min_ttl: must be positive, got -1");
    CHECK_THROWS_WITH(adaptive_ttl(with([](auto& o) { o.patterns[0].max_ttl = 10s; })),
                      "invalid adaptive_ttl_options.patterns[0].max_ttl: must be >= min_ttl (60s), got 10s");
    CHECK_THROWS_WITH(
        adaptive_ttl(with([](auto& o) { o.patterns[0].initial_ttl = 5000s; })),
        "invalid adaptive_ttl_options.patterns[0].initial_ttl: must be within [min_ttl, max_ttl] = [60s, 1200s], got 5000s");
    CHECK_THROWS_WITH(adaptive_ttl(with([](auto& o) { o.raise_factor = 1.0; })),
                      "invalid adaptive_ttl_options.raise_factor: must be greater than 1, got 1");
    CHECK_THROWS_WITH(adaptive_ttl(with([](auto& o) { o.lower_factor = 0; })),
                      "invalid adaptive_ttl_options.lower_factor: must be within (0, 1), got 0");
    CHECK_THROWS_WITH(adaptive_ttl(with([](auto& o) { o.window = 0s; })),
                      "invalid adaptive_ttl_options.window: must be positive, got 0");
    CHECK_THROWS_WITH(adaptive_ttl(with([](auto& o) { o.lower_below = 0.9; })),
                      "invalid adaptive_ttl_options.lower_below: must not exceed raise_above (0.8), got 0.9");
    CHECK_THROWS_AS(fixed_ttl(-1s), salama::config_error);
}

TEST_CASE("cache_manager adapts TTLs from its own lookups and exports statistics", "[caching][ttl][manager]") {
    manual_clock clock;
    salama::metrics_registry registry;
    auto sink = std::make_shared<salama::memory_sink>();
    cache_manager<int> cache({.capacity = 1000}, adaptive_ttl(two_patterns()),
                             {.registry = &registry, .log = salama::logger(sink), .name = "l1"});
    cache.maintain(clock.now());  // opens the first window

    // Hot user keys: written once, then read again and again.
    for (int k = 0; k < 5; ++k) REQUIRE(cache.put("user:" + std::to_string(k), k, clock.now()));
    for (int r = 0; r < 10; ++r)
        for (int k = 0; k < 5; ++k) CHECK(cache.get("user:" + std::to_string(k), clock.now()) == k);
    // Session keys that are never found (each read misses, then loads).
    for (int k = 0; k < 20; ++k) {
        auto v = cache.get_or_load("session:" + std::to_string(k), clock.now(), [k] { return k; });
        CHECK(v.value() == k);
    }
    CHECK(cache.ttl_for("session:1") == 100s);
    clock.advance(60s);
    auto changes = cache.maintain(clock.now());
    REQUIRE(changes.size() == 2);
    CHECK(cache.ttl_for("user:9") == 450s);
    CHECK(cache.ttl_for("session:9") == 50s);
    CHECK(sink->contains("pattern 'user:*' TTL 300s -> 450s"));

    // New entries get the adapted TTL: a session written now expires after 50 s.
    REQUIRE(cache.put("session:new", 1, clock.now()));
    clock.advance(50s);
    CHECK(!cache.get("session:new", clock.now()));

    // The first 100 s session entries expired meanwhile and are reclaimed by maintenance.
    cache.maintain(clock.now());
    CHECK(cache.stats().expirations >= 20);

    const auto text = registry.render();
    CHECK(text.find("salama_cache_hits_total{name=\"l1\"} 50") != std::string::npos);
    CHECK(text.find("salama_cache_pattern_hits_total{name=\"l1\",pattern=\"user:*\"} 50") != std::string::npos);
    CHECK(text.find("salama_cache_pattern_misses_total{name=\"l1\",pattern=\"session:\"} 21") != std::string::npos);
    CHECK(text.find("salama_cache_pattern_ttl_seconds{name=\"l1\",pattern=\"user:*\"} 450") != std::string::npos);
    CHECK(text.find("salama_cache_ttl_changes_total{name=\"l1\",pattern=\"session:\",direction=\"down\"} 1") != std::string::npos);
    CHECK(text.find("salama_cache_loads_total{name=\"l1\"} 20") != std::string::npos);
    CHECK(text.find("salama_cache_misses_total{name=\"l1\"} 21") != std::string::npos);
    CHECK(text.find("salama_cache_expirations_total{name=\"l1\"}") != std::string::npos);
    const auto per_pattern = cache.pattern_statistics();
    REQUIRE(per_pattern.size() == 3);
    CHECK(per_pattern[0].hits == 50);
}

TEST_CASE("cache_manager works with a fixed TTL", "[caching][ttl][manager]") {
    manual_clock clock;
    salama::metrics_registry registry;
    cache_manager<std::string, fixed_ttl, lru_policy> cache({.capacity = 10}, fixed_ttl(300s), {.registry = &registry});
    REQUIRE(cache.put("a", "x", clock.now()));
    clock.advance(299s);
    CHECK(cache.get("a", clock.now()) == "x");
    clock.advance(1s);
    CHECK(!cache.get("a", clock.now()));
    CHECK(cache.maintain(clock.now()).empty());
    CHECK(cache.stats().expirations == 1);
}

TEST_CASE("cache_manager maintenance loop runs until cancelled", "[caching][ttl][manager]") {
    manual_clock clock;
    salama::metrics_registry registry;
    cache_manager<int> cache({.capacity = 10}, adaptive_ttl{}, {.registry = &registry, .name = "loop"});
    REQUIRE(cache.put("k", 1, clock.now()));
    clock.advance(400s);  // past the default 300 s TTL

    boost::asio::io_context io;
    boost::asio::cancellation_signal stop;
    bool finished = false;
    boost::asio::co_spawn(io, cache.run(1ms, clock),
                          boost::asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                              finished = true;
                              CHECK(!e);
                          }));
    // Run until one maintenance step reclaimed the expired entry, then cancel.
    while (cache.stats().expirations == 0) io.run_one();
    stop.emit(boost::asio::cancellation_type::terminal);
    io.run();
    CHECK(finished);
    CHECK(cache.memory().size() == 0);
    CHECK(registry.render().find("salama_cache_expirations_total{name=\"loop\"} 1") != std::string::npos);
}

TEST_CASE("cache_manager destroyed while its maintenance loop runs", "[caching][ttl][manager]") {
    // Under AddressSanitizer a loop frame holding the destroyed manager (the old member
    // coroutine kept `this`) is a heap-use-after-free here.
    boost::asio::io_context io;
    salama::metrics_registry registry;
    manual_clock clock;
    auto cache = std::make_unique<cache_manager<int>>(memory_cache_options{.capacity = 10}, adaptive_ttl{},
                                                      salama::telemetry{.registry = &registry, .name = "gone"});
    REQUIRE(cache->put("k", 1, clock.now()));
    REQUIRE(cache->start(io.get_executor(), 1h, clock));
    CHECK_FALSE(cache->start(io.get_executor(), 1h, clock));  // one loop at a time
    io.poll();  // the loop waits its first hour
    clock.advance(400s);  // "k" has expired: a maintenance step would now reclaim and count it
    cache.reset();
    io.run();  // ends at its next resumption
    // A loop woken by the stop that ran one more step instead of ending would have counted
    // the expired entry.
    CHECK(registry.render().find("salama_cache_expirations_total{name=\"gone\"} 0") != std::string::npos);
}
