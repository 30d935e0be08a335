// Eviction policies against hand-worked sequences, and the frequency sketch.
#include "catch.hpp"

#include <salama/caching/detail/hash.hpp>
#include <salama/caching/frequency_sketch.hpp>
#include <salama/caching/lru_policy.hpp>
#include <salama/caching/s3fifo_policy.hpp>
#include <salama/caching/window_controller.hpp>
#include <salama/caching/wtinylfu_policy.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace salama::caching;

struct test_node : policy_node {
    int key = 0;
};

// A tiny single-threaded cache over a policy: the harness the hand-worked sequences use.
template <class Policy>
struct harness {
    explicit harness(std::uint64_t capacity) : policy(capacity, 7) {}

    void add(int key, std::uint32_t weight = 1) {
        auto n = std::make_unique<test_node>();
        n->key = key;
        n->hash = detail::mix64(static_cast<std::uint64_t>(key));
        n->weight = weight;
        auto* raw = n.get();
        nodes.emplace(key, std::move(n));
        policy.on_add(*raw);
        policy.evict([&](policy_node& v) {
            const int k = static_cast<test_node&>(v).key;
            evicted.push_back(k);
            nodes.erase(k);
        });
    }
    void hit(int key) { policy.on_hit(*nodes.at(key)); }
    bool contains(int key) const { return nodes.count(key) != 0; }
    std::uint8_t queue(int key) const { return nodes.at(key)->queue; }

    Policy policy;
    std::map<int, std::unique_ptr<test_node>> nodes;
    std::vector<int> evicted;
};

template <class Policy>
std::vector<int> lru_order(const Policy& p) {
    std::vector<int> out;
    p.for_each([&](const policy_node& n) { out.push_back(static_cast<const test_node&>(n).key); });
    return out;
}

}  // namespace

TEST_CASE("lru_policy evicts the least recently used entry", "[caching][policy]") {
    harness<lru_policy> h(3);
    h.add(1);
    h.add(2);
    h.add(3);
    h.hit(1);                                   // order: 2 3 1
    CHECK(lru_order(h.policy) == std::vector<int>{2, 3, 1});
    h.add(4);                                   // 2 3 1 4 -> evict 2
    CHECK(h.evicted == std::vector<int>{2});
    h.hit(3);                                   // 1 4 3
    h.add(5);                                   // 1 4 3 5 -> evict 1
    CHECK(h.evicted == std::vector<int>{2, 1});
    CHECK(lru_order(h.policy) == std::vector<int>{4, 3, 5});
    CHECK(h.policy.weighted_size() == 3);
}

TEST_CASE("lru_policy respects weights", "[caching][policy]") {
    harness<lru_policy> h(10);
    h.add(1, 4);
    h.add(2, 4);
    h.add(3, 4);  // 12 > 10: evict 1
    CHECK(h.evicted == std::vector<int>{1});
    h.add(4, 9);  // 4 + 4 + 9 = 17: evict 2, then 3 (8 + 9 = 13 > 10 -> 9)
    CHECK(h.evicted == std::vector<int>{1, 2, 3});
    CHECK(h.policy.weighted_size() == 9);
    h.add(5, 11);  // heavier than the capacity: leaves at once, 4 stays
    CHECK(h.evicted == std::vector<int>{1, 2, 3, 5});
    CHECK(h.contains(4));
    CHECK(h.policy.weighted_size() == 9);
}

TEST_CASE("policies reject a zero capacity", "[caching][policy]") {
    CHECK_THROWS_WITH(lru_policy(0), "invalid lru_policy.capacity: must be positive, got 0");
    CHECK_THROWS_WITH(wtinylfu_policy(0), "invalid wtinylfu_policy.capacity: must be positive, got 0");
}

TEST_CASE("wtinylfu_policy: window, probation and protected queues", "[caching][policy]") {
    // Capacity 100: window 1 (100 - floor(0.99 * 100)), protected 79 (floor(0.8 * 99)).
    harness<wtinylfu_policy> h(100);
    CHECK(h.policy.window_capacity() == 1);
    CHECK(h.policy.protected_capacity() == 79);
    h.add(1);
    CHECK(h.queue(1) == wtinylfu_policy::window);
    h.add(2);  // the window holds one entry: 1 moves to probation
    CHECK(h.queue(1) == wtinylfu_policy::probation);
    CHECK(h.queue(2) == wtinylfu_policy::window);
    h.hit(1);  // a probation hit promotes to protected
    CHECK(h.queue(1) == wtinylfu_policy::protected_);
    h.hit(2);  // a window hit stays in the window
    CHECK(h.queue(2) == wtinylfu_policy::window);
    CHECK(h.evicted.empty());
}

TEST_CASE("wtinylfu_policy admits by frequency", "[caching][policy]") {
    // Capacity 10: window 1, main 9 (protected 7). Keys 1..9 become frequent; newcomers
    // seen once lose against them, a newcomer seen often wins.
    harness<wtinylfu_policy> h(10);
    for (int k = 1; k <= 10; ++k) h.add(k);
    REQUIRE(h.evicted.empty());
    REQUIRE(h.policy.sketch().initialized());  // created once half full
    for (int round = 0; round < 3; ++round)
        for (int k = 1; k <= 9; ++k) h.hit(k);
    h.policy.maintain();

    h.add(11);  // 10 leaves the window with frequency 1 and loses to the probation victim
    CHECK(h.evicted == std::vector<int>{10});
    CHECK(h.contains(11));
    h.add(12);  // 11 (frequency 1) is rejected the same way
    CHECK(h.evicted == std::vector<int>{10, 11});

    for (int i = 0; i < 6; ++i) h.hit(12);  // 12 is now seen 7 times
    h.add(13);  // 12 leaves the window and beats the victim (a key seen 4 times)
    REQUIRE(h.evicted.size() == 3);
    CHECK(h.evicted[2] >= 1);
    CHECK(h.evicted[2] <= 9);
    CHECK(h.contains(12));
    CHECK(h.queue(12) == wtinylfu_policy::probation);
    CHECK(h.policy.weighted_size() == 10);
}

TEST_CASE("wtinylfu_policy evicts an entry heavier than the capacity", "[caching][policy]") {
    harness<wtinylfu_policy> h(10);
    h.add(1, 3);
    h.add(2, 11);
    CHECK(!h.contains(2));
    CHECK(h.contains(1));
    CHECK(h.policy.weighted_size() == 3);
}

TEST_CASE("wtinylfu_policy: the window follows the candidate whose shadow hits most", "[caching][policy]") {
    harness<wtinylfu_policy> h(200);
    REQUIRE(h.policy.shadow_count() == 6);
    CHECK(h.policy.shadow_divisor() == 1);
    CHECK(h.policy.window_capacity() == 2);  // candidate 0: 1 %
    auto access = [&](int k) {
        if (h.contains(k)) h.hit(k);
        else h.add(k);
    };
    // A loop over 220 keys in a cache of 200: LRU (and any large window) never hits,
    // while a small window keeps most of the loop in the main space. The window stays
    // at 1 %; a controller that moved it would lose hits.
    for (int i = 0; i < 200 * 40; ++i) {
        access(i % 220);
        CHECK(h.policy.window_capacity() == 2);
        CHECK(h.policy.weighted_size() <= 200);
    }
    // Sweeps forward and back over 260 keys: each turn rereads the most recent keys, so
    // LRU wins and the window moves to the whole cache (candidate 1.0 is exactly LRU).
    int i = 0, dir = 1;
    for (int n = 0; n < 200 * 60; ++n) {
        access(10'000 + i);
        if (i + dir < 0 || i + dir >= 260) dir = -dir;
        else i += dir;
        CHECK(h.policy.window_capacity() + h.policy.protected_capacity() <= 200);
        CHECK(h.policy.weighted_size() <= 200);
    }
    CHECK(h.policy.window_capacity() == 200);
    CHECK(h.policy.protected_capacity() == 0);
    CHECK(h.policy.controller().current() == 5);
}

TEST_CASE("wtinylfu_policy with a fixed window never moves it and runs no shadows", "[caching][policy]") {
    wtinylfu_policy p(1000, 1, false, {.initial_window = 0.2, .adaptive = false});
    CHECK(p.window_capacity() == 200);
    CHECK(p.protected_capacity() == 640);
    CHECK(p.shadow_count() == 0);
    std::vector<std::unique_ptr<policy_node>> nodes;
    int evicted = 0;
    for (std::uint64_t k = 0; k < 20'000; ++k) {
        nodes.push_back(std::make_unique<policy_node>());
        nodes.back()->hash = detail::mix64(k % 1300);
        p.on_add(*nodes.back());
        p.evict([&](policy_node&) { ++evicted; });
        CHECK(p.window_capacity() == 200);
    }
    CHECK(evicted == 19'000);
    CHECK_THROWS_WITH(wtinylfu_policy(10, 1, false, {.initial_window = 0}),
                      "invalid wtinylfu_options.initial_window: must be in (0, 1], got 0");
}

TEST_CASE("wtinylfu_policy rejects a capacity its sizing cannot hold", "[caching][policy][validation]") {
    CHECK_THROWS_WITH(wtinylfu_policy(std::uint64_t{1} << 63),
                      "invalid wtinylfu_policy.capacity: must be at most 2^62 (4611686018427387904), got "
                      "9223372036854775808");
    CHECK_THROWS_AS(wtinylfu_policy(~std::uint64_t{0}), salama::config_error);
    wtinylfu_policy largest(wtinylfu_policy::max_capacity, 1, false, {.adaptive = false});
    CHECK(largest.window_capacity() > 0);
    CHECK(largest.window_capacity() < largest.capacity());
}

TEST_CASE("window_controller moves only on a clear lead", "[caching][policy]") {
    window_controller c({.candidates = {0.01, 0.2, 1.0}, .decay = 0.5, .switch_margin = 0.01, .min_lead = 4});
    CHECK(c.current() == 0);
    CHECK(c.window_fraction() == 0.01);
    // Flat terrain: a lead inside the margin moves nothing.
    CHECK(c.on_sample(std::vector<std::uint64_t>{1000, 1005, 1009}) == 0);
    CHECK(c.on_sample(std::vector<std::uint64_t>{1000, 1002, 1008}) == 0);
    // A clear lead moves the window to the leader (scores 1500+, 1501.25+, 2504.5).
    CHECK(c.on_sample(std::vector<std::uint64_t>{1000, 1000, 2000}) == 2);
    CHECK(c.window_fraction() == 1.0);
    // The decayed score remembers: one sample where candidate 1 is slightly ahead is
    // not enough to leave (2252.25 + 1100 against 1250.6 + 1150).
    CHECK(c.on_sample(std::vector<std::uint64_t>{1000, 1150, 1100}) == 2);
    // Sustained evidence is.
    for (int i = 0; i < 5; ++i) c.on_sample(std::vector<std::uint64_t>{1000, 1300, 1000});
    CHECK(c.current() == 1);
    CHECK(c.scores().size() == 3);
    // No hits at all: nothing leads, nothing moves.
    window_controller quiet;
    for (int i = 0; i < 3; ++i) CHECK(quiet.on_sample(std::vector<std::uint64_t>(6, 0)) == 0);
    // Sampling: 4 x capacity requests; shadows scaled to at least 256 entries.
    CHECK(quiet.sample_size(1000) == 4000);
    CHECK(quiet.shadow_divisor(511) == 1);
    CHECK(quiet.shadow_divisor(512) == 2);
    CHECK(quiet.shadow_divisor(1'000'000) == 2048);
}

TEST_CASE("window_controller_options name the bad field", "[caching][policy][validation]") {
    auto message = [](window_controller_options o) {
        try {
            window_controller c(std::move(o));
        } catch (const salama::config_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message({.candidates = {}}) == "invalid window_controller_options.candidates: must hold 1 to 16 windows, got 0");
    CHECK(message({.candidates = {0.01, 1.5}}) == "invalid window_controller_options.candidates[1]: must be in (0, 1], got 1.5");
    CHECK(message({.decay = 1}) == "invalid window_controller_options.decay: must be in [0, 1), got 1");
    CHECK(message({.switch_margin = -1}) == "invalid window_controller_options.switch_margin: must be >= 0, got -1");
    CHECK(message({.sample_factor = 0}) == "invalid window_controller_options.sample_factor: must be positive, got 0");
    CHECK(message({.shadow_min_capacity = 0}) ==
          "invalid window_controller_options.shadow_min_capacity: must be positive, got 0");
    CHECK(message({}) == "no error");
}

TEST_CASE("s3fifo_policy: small FIFO, main FIFO with reinsertion, ghost queue", "[caching][policy]") {
    harness<s3fifo_policy> h(10);  // small: 1 entry, ghost: 9 hashes
    h.add(1);
    CHECK(s3fifo_policy::queue_of(*h.nodes.at(1)) == s3fifo_policy::small);
    h.hit(1);
    CHECK(s3fifo_policy::frequency(*h.nodes.at(1)) == 1);
    for (int i = 0; i < 3; ++i) h.hit(1);
    CHECK(s3fifo_policy::frequency(*h.nodes.at(1)) == 3);  // saturates
    for (int k = 2; k <= 10; ++k) h.add(k);                // fills the cache: nothing leaves yet
    CHECK(h.evicted.empty());
    h.add(11);
    // The small FIFO is over its share: its oldest entry (1) was read, so it moves to main
    // instead of leaving; then 2, never read, leaves and is remembered by the ghost.
    CHECK(s3fifo_policy::queue_of(*h.nodes.at(1)) == s3fifo_policy::main);
    CHECK(h.evicted == std::vector<int>{2});
    CHECK(h.policy.ghost_contains(detail::mix64(2)));
    CHECK(!h.policy.ghost_contains(detail::mix64(3)));
    // A key the ghost remembers comes back straight into main.
    h.add(2);
    CHECK(s3fifo_policy::queue_of(*h.nodes.at(2)) == s3fifo_policy::main);
    CHECK(h.policy.weighted_size() <= 10);
    CHECK(h.policy.small_size() <= 10);
    // Main evicts by FIFO but gives a read entry another round (frequency - 1).
    harness<s3fifo_policy> m(10);
    for (int k = 1; k <= 10; ++k) {
        m.add(k);
        m.hit(k);
    }
    for (int k = 11; k <= 40; ++k) m.add(k);
    CHECK(m.policy.weighted_size() <= 10);
    CHECK(m.contains(10));  // read once and moved to main: outlives the unread newcomers
    CHECK(!m.contains(11));
}

TEST_CASE("frequency_sketch counts, saturates at 15 and halves", "[caching][policy]") {
    frequency_sketch s;
    CHECK(!s.initialized());
    s.increment(42);
    CHECK(s.frequency(42) == 0);  // uninitialized: ignores increments
    s.ensure_capacity(64);
    CHECK(s.sample_size() == 640);
    const auto a = detail::mix64(1);
    const auto b = detail::mix64(2);
    for (int i = 0; i < 3; ++i) s.increment(a);
    CHECK(s.frequency(a) == 3);
    CHECK(s.frequency(b) == 0);
    for (int i = 0; i < 20; ++i) s.increment(a);
    CHECK(s.frequency(a) == 15);
    s.halve();
    CHECK(s.frequency(a) == 7);
    // Halving happens by itself after sample_size increments.
    frequency_sketch t;
    t.ensure_capacity(8);
    for (int i = 0; i < 10; ++i) t.increment(a);
    CHECK(t.frequency(a) == 10);
    for (std::uint64_t k = 100; t.size() < t.sample_size() - 1 && k < 100000; ++k)
        t.increment(detail::mix64(k));
    t.increment(detail::mix64(999999));
    CHECK(t.frequency(a) <= 7);
}

TEST_CASE("wtinylfu_policy admits a losing warm candidate only rarely (hash-flooding guard)",
          "[caching][policy]") {
    // Nine heavy, hot entries fill the main space; each trial brings a warm candidate
    // (seen 8 times) that loses against the hotter probation victim, then ten cold fillers.
    // Cold candidates are always rejected; a warm loser gets in with probability 1/128,
    // so some trial, but not the first ones, evicts a hot entry.
    harness<wtinylfu_policy> h(1000);  // window 10, sample of 10 000 increments
    for (int k = 1; k <= 9; ++k) h.add(k, 110);
    for (int round = 0; round < 12; ++round)
        for (int k = 1; k <= 9; ++k) h.hit(k);
    REQUIRE(h.evicted.empty());

    int first_admission = -1;
    int key = 1000;
    for (int trial = 0; trial < 500 && first_admission < 0; ++trial) {
        const int candidate = key++;
        h.add(candidate);
        for (int i = 0; i < 7; ++i) h.hit(candidate);
        REQUIRE(h.policy.sketch().frequency(detail::mix64(static_cast<std::uint64_t>(candidate))) > 5);
        for (int f = 0; f < 10; ++f) h.add(key++);
        for (const int e : h.evicted) {
            if (e < 1000) first_admission = trial;  // a hot entry lost its place
        }
        if (first_admission < 0) {
            // The warm candidate and every cold filler that left the window were rejected.
            CHECK(!h.contains(candidate));
        }
    }
    CHECK(first_admission > 0);
}
