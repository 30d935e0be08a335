// The memory tier: bounds, expiry with a manual clock, loads, statistics, bad input and a
// multi-threaded stress run.
#include "catch.hpp"

#include <salama/caching/lru_policy.hpp>
#include <salama/caching/memory_cache.hpp>
#include <salama/core/clock.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace salama::caching;
using namespace std::chrono_literals;
using salama::manual_clock;

}  // namespace

TEMPLATE_TEST_CASE("memory_cache stores, replaces and erases", "[caching][memory]", lru_policy,
                   wtinylfu_policy) {
    manual_clock clock;
    memory_cache<std::string, int, TestType> cache({.capacity = 100});
    CHECK(!cache.get("a", clock.now()));
    REQUIRE(cache.put("a", 1, clock.now()));
    CHECK(cache.get("a", clock.now()) == 1);
    REQUIRE(cache.put("a", 2, clock.now()));
    CHECK(cache.get("a", clock.now()) == 2);
    CHECK(cache.size() == 1);
    CHECK(cache.erase("a"));
    CHECK(!cache.erase("a"));
    CHECK(!cache.get("a", clock.now()));
    const auto st = cache.stats();
    CHECK(st.hits == 2);
    CHECK(st.misses == 2);
    CHECK(st.entries == 0);
}

TEMPLATE_TEST_CASE("memory_cache stays within its capacity", "[caching][memory]", lru_policy,
                   wtinylfu_policy) {
    manual_clock clock;
    memory_cache<int, int, TestType> cache({.capacity = 1000});
    for (int i = 0; i < 20000; ++i) {
        REQUIRE(cache.put(i, i * 3, clock.now()));
        (void)cache.get(i / 2, clock.now());
        REQUIRE(cache.size() <= 1000);
    }
    const auto st = cache.stats();
    CHECK(st.evictions == 20000 - cache.size());
    CHECK(cache.weighted_size() == cache.size());
    for (int i = 0; i < 20000; ++i)
        if (auto v = cache.get(i, clock.now())) CHECK(*v == i * 3);
}

TEST_CASE("memory_cache applies buffered reads before evicting (LRU, one shard)", "[caching][memory]") {
    manual_clock clock;
    memory_cache<int, int, lru_policy> cache({.capacity = 3, .shards = 1});
    for (int k = 1; k <= 3; ++k) REQUIRE(cache.put(k, k, clock.now()));
    CHECK(cache.get(1, clock.now()) == 1);  // buffered: 1 becomes the most recent
    REQUIRE(cache.put(4, 4, clock.now()));  // drains, then evicts 2
    CHECK(cache.get(1, clock.now()));
    CHECK(!cache.get(2, clock.now()));
    CHECK(cache.get(3, clock.now()));
    CHECK(cache.get(4, clock.now()));
    cache.inspect_policy(0, [](const lru_policy& p) { CHECK(p.weighted_size() == 3); });
}

TEST_CASE("memory_cache bounds by weight with a user weigher", "[caching][memory]") {
    manual_clock clock;
    auto by_length = [](const int&, const std::string& v) { return v.size(); };
    memory_cache<int, std::string, wtinylfu_policy, decltype(by_length)> cache(
        {.capacity = 100, .shards = 1}, by_length);
    for (int i = 0; i < 50; ++i) {
        REQUIRE(cache.put(i, std::string(static_cast<std::size_t>(1 + i % 20), 'x'), clock.now()));
        CHECK(cache.weighted_size() <= 100);
    }
    REQUIRE(cache.put(1000, std::string(150, 'y'), clock.now()));  // heavier than the cache
    CHECK(!cache.get(1000, clock.now()));
    CHECK(cache.weighted_size() <= 100);
    // Replacing a value re-weighs the entry.
    REQUIRE(cache.put(2000, "ab", clock.now()));
    REQUIRE(cache.put(2000, std::string(10, 'z'), clock.now()));
    CHECK(cache.weighted_size() <= 100);
}

TEST_CASE("memory_cache expires entries by TTL with the manual clock", "[caching][memory][expiry]") {
    manual_clock clock;
    memory_cache<std::string, int> cache({.capacity = 100, .shards = 1});
    REQUIRE(cache.put("short", 1, clock.now(), 10s));
    REQUIRE(cache.put("long", 2, clock.now(), 300s));
    REQUIRE(cache.put("forever", 3, clock.now()));

    clock.advance(9s);
    CHECK(cache.get("short", clock.now()) == 1);
    clock.advance(1s);  // exactly at the deadline: expired
    CHECK(!cache.get("short", clock.now()));
    CHECK(cache.get("long", clock.now()) == 2);
    CHECK(cache.size() == 3);  // not reclaimed yet, but never returned

    SECTION("a write reclaims expired entries of its shard") {
        REQUIRE(cache.put("other", 4, clock.now()));
        CHECK(cache.size() == 3);
        CHECK(cache.stats().expirations == 1);
    }
    SECTION("cleanup reclaims them") {
        CHECK(cache.cleanup(clock.now()) == 1);
        clock.advance(290s);
        CHECK(!cache.get("long", clock.now()));
        CHECK(cache.cleanup(clock.now()) == 1);
        CHECK(cache.size() == 1);
        CHECK(cache.get("forever", clock.now()) == 3);
        CHECK(cache.stats().expirations == 2);
    }
    SECTION("a put renews the deadline") {
        REQUIRE(cache.put("long", 5, clock.now(), 20s));
        clock.advance(19s);
        CHECK(cache.get("long", clock.now()) == 5);
        clock.advance(1s);
        CHECK(!cache.get("long", clock.now()));
    }
    SECTION("a put without a TTL makes an entry permanent") {
        REQUIRE(cache.put("long", 6, clock.now()));
        clock.advance(1000h);
        CHECK(cache.get("long", clock.now()) == 6);
    }
}

TEST_CASE("memory_cache uses the default TTL and saturates far deadlines", "[caching][memory][expiry]") {
    manual_clock clock;
    memory_cache<int, int> cache({.capacity = 10, .default_ttl = 300s});
    REQUIRE(cache.put(1, 1, clock.now()));
    REQUIRE(cache.put(2, 2, clock.now(), salama::duration::max()));
    clock.advance(299s);
    CHECK(cache.get(1, clock.now()));
    clock.advance(1s);
    CHECK(!cache.get(1, clock.now()));
    CHECK(cache.get(2, clock.now()));
}

TEST_CASE("memory_cache loads on a miss", "[caching][memory]") {
    manual_clock clock;
    memory_cache<std::string, int> cache({.capacity = 10});
    int calls = 0;
    auto loader = [&]() -> salama::result<int> {
        ++calls;
        return 42;
    };
    CHECK(cache.get_or_load("k", clock.now(), loader).value() == 42);
    CHECK(cache.get_or_load("k", clock.now(), loader).value() == 42);
    CHECK(calls == 1);
    auto failing = []() -> salama::result<int> { return salama::errc::source_failed; };
    auto r = cache.get_or_load("bad", clock.now(), failing);
    REQUIRE(!r);
    CHECK(r.error() == salama::errc::source_failed);
    CHECK(!cache.get("bad", clock.now()));
    const auto st = cache.stats();
    CHECK(st.loads == 1);
    CHECK(st.load_failures == 1);
    // A loader returning a plain value works too.
    CHECK(cache.get_or_load("plain", clock.now(), [] { return 7; }).value() == 7);
    // load_and_put refreshes without a lookup.
    CHECK(cache.load_and_put("k", clock.now(), [] { return 43; }).value() == 43);
    CHECK(cache.get("k", clock.now()) == 43);
    CHECK(cache.stats().loads == 3);
    CHECK(cache.stats().misses == 4);  // "k", "bad" twice, "plain"
}

TEST_CASE("memory_cache rejects bad input clearly", "[caching][memory][validation]") {
    CHECK_THROWS_WITH((memory_cache<int, int>({.capacity = 0})),
                      "invalid memory_cache_options.capacity: must be positive, got 0");
    CHECK_THROWS_WITH((memory_cache<int, int>({.capacity = 4, .shards = 8})),
                      "invalid memory_cache_options.shards: must not exceed the capacity (4), got 8");
    CHECK_THROWS_WITH((memory_cache<int, int>({.capacity = 4, .default_ttl = -5s})),
                      "invalid memory_cache_options.default_ttl: must be positive, got -5");
    CHECK_THROWS_AS((memory_cache<int, int>({.capacity = 4, .default_ttl = 0s})), salama::config_error);

    manual_clock clock;
    memory_cache<int, int> cache({.capacity = 4});
    auto r = cache.put(1, 1, clock.now(), -1s);
    REQUIRE(!r);
    CHECK(r.error() == salama::errc::invalid_argument);
    CHECK(!cache.put(1, 1, clock.now(), 0s));
    CHECK(cache.size() == 0);
    CHECK(!cache.get_or_load(1, clock.now(), [] { return 1; }, -1s));
}

TEST_CASE("memory_cache clear empties every shard", "[caching][memory]") {
    manual_clock clock;
    memory_cache<int, int> cache({.capacity = 1000, .shards = 4});
    for (int i = 0; i < 500; ++i) REQUIRE(cache.put(i, i, clock.now(), 10s));
    cache.clear();
    CHECK(cache.size() == 0);
    CHECK(cache.weighted_size() == 0);
    CHECK(!cache.get(1, clock.now()));
    clock.advance(20s);
    CHECK(cache.cleanup(clock.now()) == 0);
    REQUIRE(cache.put(1, 1, clock.now()));
    CHECK(cache.get(1, clock.now()) == 1);
}

namespace {

// A value whose halves must agree: a torn read or write would break the pairing.
struct checked_value {
    std::uint64_t key = 0;
    std::string text;
    std::uint64_t check = 0;
    static checked_value make(std::uint64_t k, std::uint64_t version) {
        return {k, std::to_string(k) + ":" + std::to_string(version), ~k};
    }
    bool consistent(std::uint64_t k) const {
        return key == k && check == ~k && text.rfind(std::to_string(k) + ":", 0) == 0;
    }
};

template <class Policy>
void stress(std::size_t shards) {
    constexpr std::uint64_t capacity = 512;
    constexpr int threads = 4;
    constexpr int ops = 20000;
    manual_clock clock;
    memory_cache<std::uint64_t, checked_value, Policy> cache({.capacity = capacity, .shards = shards});
    std::atomic<bool> bad_value{false};
    std::atomic<bool> over_bound{false};
    std::atomic<int> running{threads};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(t + 1);
            for (int i = 0; i < ops; ++i) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                const std::uint64_t key = (x % 64 < 48) ? x % 128 : x % 4096;  // hot and cold keys
                const int op = static_cast<int>((x >> 32) % 100);
                const auto now = clock.now();
                if (op < 70) {
                    if (auto v = cache.get(key, now); v && !v->consistent(key)) bad_value = true;
                } else if (op < 95) {
                    const auto ttl = (op % 2) ? std::optional<salama::duration>(std::chrono::seconds(1 + op % 5))
                                              : std::nullopt;
                    if (!cache.put(key, checked_value::make(key, static_cast<std::uint64_t>(i)), now, ttl))
                        bad_value = true;
                } else if (op < 98) {
                    cache.erase(key);
                } else {
                    clock.advance(std::chrono::milliseconds(50));
                    cache.cleanup(clock.now());
                }
                // Each shard may be one entry over while a writer holds it.
                if (cache.weighted_size() > capacity + cache.shard_count()) over_bound = true;
            }
            --running;
        });
    }
    for (auto& th : pool) th.join();
    CHECK(running == 0);
    CHECK(!bad_value);
    CHECK(!over_bound);
    CHECK(cache.weighted_size() <= capacity);
    CHECK(cache.size() == cache.weighted_size());
    const auto st = cache.stats();
    CHECK(st.entries == cache.size());
    std::uint64_t present = 0;
    for (std::uint64_t k = 0; k < 4096; ++k) {
        if (auto v = cache.get(k, clock.now())) {
            CHECK(v->consistent(k));
            ++present;
        }
    }
    CHECK(present <= cache.size());
}

}  // namespace

TEST_CASE("memory_cache under concurrent readers and writers keeps its invariants",
          "[caching][memory][tsan]") {
    SECTION("W-TinyLFU, automatic shards") { stress<wtinylfu_policy>(0); }
    SECTION("W-TinyLFU, one shard (all threads contend)") { stress<wtinylfu_policy>(1); }
    SECTION("LRU, four shards") { stress<lru_policy>(4); }
}

namespace {

// Compares keys normally, or throws while `fail` is set (a KeyEqual that can fail).
struct throwing_equal {
    static inline bool fail = false;
    bool operator()(int a, int b) const {
        if (fail) throw std::runtime_error("compare failed");
        return a == b;
    }
};

}  // namespace

TEST_CASE("memory_cache releases its shard lock when KeyEqual throws", "[caching][memory]") {
    manual_clock clock;
    memory_cache<int, int, lru_policy, unit_weigher, std::hash<int>, throwing_equal> cache(
        {.capacity = 16, .shards = 1});
    REQUIRE(cache.put(1, 10, clock.now()));
    throwing_equal::fail = true;
    CHECK_THROWS_AS(cache.get(1, clock.now()), std::runtime_error);
    throwing_equal::fail = false;
    // A leaked shared hold would make this writer wait for ever.
    REQUIRE(cache.put(2, 20, clock.now()));
    CHECK(cache.get(1, clock.now()) == 10);
    CHECK(cache.get(2, clock.now()) == 20);
}

TEST_CASE("memory_cache seeds key hashes per cache", "[caching][memory][validation]") {
    // Keys chosen so that an unseeded hash (mix64 of std::hash, identity for integers)
    // sends every one of them to shard 0 of 64: with a per-cache random seed they spread,
    // and none is evicted; unseeded, shard 0 (capacity 100) would keep only 100.
    std::vector<std::uint64_t> aimed;
    for (std::uint64_t k = 0; aimed.size() < 1000; ++k) {
        const std::uint64_t h = detail::mix64(k);
        if ((((h & 0xffffffffULL) * 64) >> 32) == 0) aimed.push_back(k);
    }
    manual_clock clock;
    memory_cache<std::uint64_t, int, lru_policy> cache({.capacity = 6400, .shards = 64});
    for (const auto k : aimed) REQUIRE(cache.put(k, 1, clock.now()));
    CHECK(cache.size() == 1000);
    CHECK(cache.stats().evictions == 0);
    // A fixed seed reproduces a run exactly; seed 0 is the unseeded mapping, whose shard 0
    // overflows.
    memory_cache<std::uint64_t, int, lru_policy> fixed({.capacity = 6400, .shards = 64, .hash_seed = 0});
    for (const auto k : aimed) REQUIRE(fixed.put(k, 1, clock.now()));
    CHECK(fixed.size() == 100);
}

TEST_CASE("memory_cache: W-TinyLFU shards follow the window shard 0 measures", "[caching][memory]") {
    manual_clock clock;
    memory_cache<std::uint64_t, int> cache({.capacity = 4000, .shards = 4});
    std::size_t shadows[4] = {};
    for (std::size_t i = 0; i < 4; ++i)
        cache.inspect_policy(i, [&](const wtinylfu_policy& p) { shadows[i] = p.shadow_count(); });
    CHECK(shadows[0] == 6);
    CHECK(shadows[1] == 0);
    CHECK(shadows[3] == 0);
    // Every key is read twice, 1,600 requests apart (about 1,600 other keys between):
    // LRU hits every second read, a 1 % window almost none. Once shard 0 has measured
    // it, every shard's window holds the reuse distance (candidates 40 % and up).
    const std::uint64_t gap = 800;
    for (std::uint64_t t = 0; t < 4000 * 40; ++t) {
        for (const std::uint64_t k : {t, t >= gap ? t - gap : ~std::uint64_t{0}}) {
            if (k == ~std::uint64_t{0}) continue;
            if (!cache.get(k, clock.now())) REQUIRE(cache.put(k, 1, clock.now()));
        }
    }
    for (std::size_t s = 0; s < 4; ++s)
        cache.inspect_policy(s, [&](const wtinylfu_policy& p) {
            CHECK(p.window_capacity() >= p.capacity() * 4 / 10);
            CHECK(p.weighted_size() <= p.capacity());
        });
    CHECK(cache.stats().hits > 4000 * 40 * 9 / 10);
}

#include <salama/caching/aliases.hpp>

TEST_CASE("the cache aliases name working compositions", "[caching][aliases]") {
    using namespace std::chrono_literals;
    const salama::time_point t{24h};
    salama::caching::lru_cache<int, int> lru({.capacity = 2});
    salama::caching::s3fifo_cache<int, int> s3({.capacity = 2});
    salama::caching::wtinylfu_cache<int, int> w({.capacity = 2});
    for (int k = 0; k < 3; ++k) {
        REQUIRE(lru.put(k, k, t, 1h));
        REQUIRE(s3.put(k, k, t, 1h));
        REQUIRE(w.put(k, k, t, 1h));
    }
    // LRU evicted the oldest; every tier holds at most its capacity.
    CHECK_FALSE(lru.get(0, t).has_value());
    CHECK(lru.get(2, t) == 2);
    CHECK(s3.size() <= 2);
    CHECK(w.size() <= 2);
    salama::caching::fixed_ttl_cache<int> f({.capacity = 4}, salama::caching::fixed_ttl(30s));
    REQUIRE(f.put("a", 1, t));
    CHECK(f.get("a", t + 29s) == 1);
    CHECK_FALSE(f.get("a", t + 30s).has_value());
}
