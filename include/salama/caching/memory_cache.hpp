// salama: the memory tier (L1): a sharded, bounded, concurrent cache with per-entry TTL.
#pragma once

#include "salama/caching/cache_stats.hpp"
#include "salama/caching/detail/hash.hpp"
#include "salama/caching/detail/read_buffer.hpp"
#include "salama/caching/detail/striped_lock.hpp"
#include "salama/caching/policy_node.hpp"
#include "salama/caching/wtinylfu_policy.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/validation.hpp"

#include <boost/intrusive/set.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

namespace salama::caching {

/// Gives every entry the weight 1: the capacity counts entries.
struct unit_weigher {
    template <class K, class V>
    constexpr std::uint32_t operator()(const K&, const V&) const noexcept {
        return 1;
    }
};

/// A weigher: the weight of an entry (its cost against the capacity), e.g. its size in
/// bytes. Results are clamped to [1, 2^32 - 1].
template <class W, class Key, class Value>
concept weigher = std::invocable<const W&, const Key&, const Value&> &&
                  std::convertible_to<std::invoke_result_t<const W&, const Key&, const Value&>,
                                      std::uint64_t>;

/// Settings of a memory_cache.
struct memory_cache_options {
    /// Maximum total weight: the number of entries with unit_weigher (> 0).
    std::uint64_t capacity = 10'000;
    /// Number of independently locked shards; 0 picks one from the hardware and the
    /// capacity (16 per hardware thread, a power of two, each shard holding at least 64):
    /// many shards keep the hot keys of a skewed workload from sharing a writer lock.
    std::size_t shards = 0;
    /// TTL of entries put without one; empty: such entries never expire.
    std::optional<duration> default_ttl{};
    /// Seed of the policies' random choices (runs are reproducible for a given seed).
    std::uint64_t seed = 0x5a1a3a;
    /// Mixed into every key's hash before it picks a shard, a table slot and sketch
    /// counters. Empty (the default): a random seed per cache, so that keys chosen from
    /// the outside cannot be aimed at one shard or one probe chain. Set it for replays
    /// that must be reproducible.
    std::optional<std::uint64_t> hash_seed{};

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator v{"memory_cache_options"};
        v.check(capacity > 0, "capacity", "must be positive, got 0");
        v.check(shards <= capacity, "shards",
                fmt::format("must not exceed the capacity ({}), got {}", capacity, shards));
        if (default_ttl)
            v.positive("default_ttl", to_seconds(*default_ttl));
        v.throw_if_failed();
    }
};

/// A thread-safe memory cache from Key to Value, bounded by total weight, with an
/// eviction/admission Policy (W-TinyLFU by default, or lru_policy) and per-entry TTL.
///
/// Design. Keys are spread over shards by hash. Each shard has a hash table guarded by a
/// reader-writer lock whose readers count themselves in per-thread stripes: lookups take
/// it shared and write no cache line another thread reads, so reads scale.
/// A read does not touch the policy: it records the node in a striped lossy read buffer;
/// whoever fills a stripe drains all stripes into the policy if it wins the shard's
/// drain try-lock (else the update is dropped, which only blurs recency a little).
/// Writes take the shard exclusively, drain the buffer, reclaim expired entries (an
/// index ordered by deadline: no scan), insert, and let the policy evict. Expired
/// entries are never returned. Time is passed in as `now`; the cache reads no clock.
///
/// Values are returned by copy: for large values store `std::shared_ptr<const T>`.
template <class Key, class Value, eviction_policy Policy = wtinylfu_policy,
          class Weigher = unit_weigher, class Hash = std::hash<Key>,
          class KeyEqual = std::equal_to<Key>>
    requires weigher<Weigher, Key, Value>
class memory_cache {
public:
    using key_type = Key;
    using mapped_type = Value;
    using policy_type = Policy;

    /// Builds the cache; throws config_error on invalid options.
    explicit memory_cache(memory_cache_options options, Weigher weigher = {}, Hash hash = {},
                          KeyEqual equal = {})
        : options_(std::move(options)), weigher_(std::move(weigher)), hash_(std::move(hash)),
          equal_(std::move(equal)) {
        options_.validate();
        hash_seed_ = options_.hash_seed ? *options_.hash_seed : random_seed();
        shard_count_ = options_.shards ? options_.shards : auto_shards(options_.capacity);
        shards_ = std::make_unique<std::unique_ptr<shard>[]>(shard_count_);
        const std::uint64_t base = options_.capacity / shard_count_;
        const std::uint64_t extra = options_.capacity % shard_count_;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            const std::uint64_t cap = base + (i < extra ? 1 : 0);
            shards_[i] = std::make_unique<shard>(cap, options_.seed + i, table_hash{}, table_equal{&equal_},
                                                 shard_count_ > 1 ? &window_choice_ : nullptr, i == 0);
        }
    }

    memory_cache(const memory_cache&) = delete;
    memory_cache& operator=(const memory_cache&) = delete;

    ~memory_cache() {
        for (std::size_t i = 0; i < shard_count_; ++i)
            for (node* n : shards_[i]->table) delete n;
    }

    /// The value of `key` if present and not expired at `now`.
    std::optional<Value> get(const Key& key, time_point now) {
        const std::uint64_t h = hash_of(key);
        const std::uint32_t stripe = detail::thread_stripe();
        shard& s = shard_for(h);
        std::optional<Value> out;
        {
            // Released on every path: KeyEqual, the value's copy and the policy's hooks
            // (run by a drain) may throw.
            shared_hold hold(s.lock, stripe);
            auto it = s.table.find(lookup{&key, h});
            if (it != s.table.end() && (*it)->expires_at > now) {
                node* n = *it;
                out.emplace(n->value);
                if (s.reads.offer(n, stripe) == read_buffer::offer_result::full) try_drain(s, stripe);
            }
        }
        auto& c = s.counts[stripe & (stripes - 1)];
        (out ? c.hits : c.misses).fetch_add(1, std::memory_order_relaxed);
        return out;
    }

    /// Inserts or replaces `key`. `ttl` (default: options' default_ttl) must be positive;
    /// errc::invalid_argument otherwise. The entry may be evicted at once if the policy
    /// does not admit it.
    result<void> put(Key key, Value value, time_point now, std::optional<duration> ttl = std::nullopt) {
        if (!ttl) ttl = options_.default_ttl;
        if (ttl && *ttl <= duration::zero()) return make_error_code(errc::invalid_argument);
        const std::uint32_t w = weigh(key, value);
        const std::uint64_t h = hash_of(key);
        shard& s = shard_for(h);
        std::unique_lock lk(s.lock);
        // Buffered reads must be applied before any node is freed (no buffered pointer may
        // outlive its node), but only then: draining pulls every reader's stripe into this
        // core, and replacing a value of the same weight frees nothing.
        bool drained = false;
        if (!s.expiries.empty() && s.expiries.begin()->expires_at <= now) {
            drain_reads(s);
            drained = true;
            expire(s, now);
        }
        const time_point deadline = ttl ? deadline_of(now, *ttl) : time_point::max();
        auto it = s.table.find(lookup{&key, h});
        if (it != s.table.end()) {
            node* n = *it;
            n->value = std::move(value);
            set_deadline(s, n, deadline);
            if (n->weight != w) {
                if (!drained) drain_reads(s);
                drained = true;
                s.weight.fetch_add(static_cast<std::uint64_t>(w) - n->weight, std::memory_order_relaxed);
                s.policy.on_weight_change(*n, w);
            }
            s.policy.on_hit(*n);
            if (!drained) {
                // Same weight: the policy evicts nothing, but may do its periodic work.
                s.policy.maintain();
                return {};
            }
        } else {
            if (!drained) drain_reads(s);
            auto holder = std::make_unique<node>(std::move(key), std::move(value));
            node* n = holder.get();
            n->hash = h;
            n->weight = w;
            s.table.insert(n);
            holder.release();
            set_deadline(s, n, deadline);
            s.policy.on_add(*n);
            s.entries.fetch_add(1, std::memory_order_relaxed);
            s.weight.fetch_add(w, std::memory_order_relaxed);
        }
        evict(s);
        return {};
    }

    /// The value of `key`; on a miss calls `load()` (returning Value or result<Value>),
    /// stores what it returns with `ttl` and returns it. A failed load is returned and
    /// counted, nothing is stored. Concurrent misses on one key may each call the loader.
    template <class Loader>
    result<Value> get_or_load(const Key& key, time_point now, Loader&& load,
                              std::optional<duration> ttl = std::nullopt) {
        if (auto v = get(key, now)) return std::move(*v);
        return load_and_put(key, now, std::forward<Loader>(load), ttl);
    }

    /// Calls `load()` (returning Value or result<Value>) without looking `key` up first,
    /// stores the value with `ttl` and returns it (a refresh, or the miss path of a caller
    /// that already looked up). A failed load is returned and counted.
    template <class Loader>
    result<Value> load_and_put(const Key& key, time_point now, Loader&& load,
                               std::optional<duration> ttl = std::nullopt) {
        if (ttl && *ttl <= duration::zero()) return make_error_code(errc::invalid_argument);
        auto& c = shard_for(hash_of(key)).counts[detail::thread_stripe() & (stripes - 1)];
        result<Value> loaded = std::invoke(std::forward<Loader>(load));
        if (!loaded) {
            c.load_failures.fetch_add(1, std::memory_order_relaxed);
            return loaded;
        }
        c.loads.fetch_add(1, std::memory_order_relaxed);
        if (auto r = put(key, *loaded, now, ttl); !r) return r.error();
        return loaded;
    }

    /// Removes `key`; true if it was present.
    bool erase(const Key& key) {
        const std::uint64_t h = hash_of(key);
        shard& s = shard_for(h);
        std::unique_lock lk(s.lock);
        drain_reads(s);
        auto it = s.table.find(lookup{&key, h});
        if (it == s.table.end()) return false;
        node* n = *it;
        s.policy.on_remove(*n);
        unlink_and_free(s, n);
        return true;
    }

    /// Removes every entry (counters are kept).
    void clear() {
        for (std::size_t i = 0; i < shard_count_; ++i) {
            shard& s = *shards_[i];
            std::unique_lock lk(s.lock);
            drain_reads(s);
            s.expiries.clear();
            for (node* n : s.table) {
                s.policy.on_remove(*n);
                delete n;
            }
            s.table.clear();
            s.entries.store(0, std::memory_order_relaxed);
            s.weight.store(0, std::memory_order_relaxed);
        }
    }

    /// Maintenance: applies buffered reads, reclaims every entry expired at `now` and runs
    /// the policy's periodic work. Returns the number of entries reclaimed.
    std::uint64_t cleanup(time_point now) {
        std::uint64_t reclaimed = 0;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            shard& s = *shards_[i];
            std::unique_lock lk(s.lock);
            drain_reads(s);
            reclaimed += expire(s, now);
            evict(s);
        }
        return reclaimed;
    }

    /// Entries held (including expired ones not yet reclaimed).
    std::uint64_t size() const noexcept {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < shard_count_; ++i) n += shards_[i]->entries.load(std::memory_order_relaxed);
        return n;
    }

    /// Total weight held.
    std::uint64_t weighted_size() const noexcept {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < shard_count_; ++i) n += shards_[i]->weight.load(std::memory_order_relaxed);
        return n;
    }

    /// The configured maximum total weight.
    std::uint64_t capacity() const noexcept { return options_.capacity; }
    /// Number of shards.
    std::size_t shard_count() const noexcept { return shard_count_; }
    /// The options the cache was built with.
    const memory_cache_options& options() const noexcept { return options_; }

    /// A snapshot of the counters (each read atomically; the set is not a single instant).
    cache_stats stats() const noexcept {
        cache_stats st;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            const shard& s = *shards_[i];
            for (const auto& c : s.counts) {
                st.hits += c.hits.load(std::memory_order_relaxed);
                st.misses += c.misses.load(std::memory_order_relaxed);
                st.loads += c.loads.load(std::memory_order_relaxed);
                st.load_failures += c.load_failures.load(std::memory_order_relaxed);
            }
            st.evictions += s.evictions.load(std::memory_order_relaxed);
            st.expirations += s.expirations.load(std::memory_order_relaxed);
            st.entries += s.entries.load(std::memory_order_relaxed);
            st.weighted_size += s.weight.load(std::memory_order_relaxed);
        }
        return st;
    }

    /// Calls `f(const Policy&)` on shard `i`'s policy under its exclusive lock, after
    /// applying buffered reads (for tests and diagnostics). Throws std::out_of_range if
    /// `i >= shard_count()`.
    template <class F>
    void inspect_policy(std::size_t i, F&& f) {
        if (i >= shard_count_)
            throw std::out_of_range(fmt::format("memory_cache: shard {} of {}", i, shard_count_));
        shard& s = *shards_[i];
        std::unique_lock lk(s.lock);
        drain_reads(s);
        std::forward<F>(f)(std::as_const(s.policy));
    }

private:
    using expiry_hook = boost::intrusive::set_member_hook<
        boost::intrusive::link_mode<boost::intrusive::normal_link>,
        boost::intrusive::optimize_size<true>>;

    // What a lookup reads, first: for small keys and values one cache line serves the
    // whole hit (the policy's links and the expiry hook follow).
    struct node_data {
        Key key;
        Value value;
        time_point expires_at = time_point::max();
    };

    // The policy's links start a new cache line: drains rewrite them while other threads'
    // lookups read the line above (64 more bytes per entry for small keys, no false sharing).
    struct alignas(64) policy_part : policy_node {};

    struct node : node_data, policy_part {
        node(Key&& k, Value&& v) : node_data{std::move(k), std::move(v)} {}
        expiry_hook by_deadline;
    };

    struct deadline_less {
        bool operator()(const node& a, const node& b) const noexcept { return a.expires_at < b.expires_at; }
    };

    using expiry_index = boost::intrusive::multiset<
        node, boost::intrusive::member_hook<node, expiry_hook, &node::by_deadline>,
        boost::intrusive::compare<deadline_less>, boost::intrusive::constant_time_size<false>>;

    // A key with its hash already computed (the table finds nodes by it).
    struct lookup {
        const Key* key;
        std::uint64_t hash;
    };

    struct table_hash {
        using is_transparent = void;
        using is_avalanching = void;
        std::size_t operator()(const node* n) const noexcept { return static_cast<std::size_t>(n->hash); }
        std::size_t operator()(const lookup& l) const noexcept { return static_cast<std::size_t>(l.hash); }
    };

    struct table_equal {
        using is_transparent = void;
        const KeyEqual* eq;
        bool operator()(const node* a, const node* b) const { return a == b || (*eq)(a->key, b->key); }
        bool operator()(const node* a, const lookup& b) const { return (*eq)(a->key, *b.key); }
        bool operator()(const lookup& a, const node* b) const { return (*eq)(*a.key, b->key); }
    };

    using table_type = boost::unordered_flat_set<node*, table_hash, table_equal>;
    using read_buffer = detail::read_buffer<node>;
    static constexpr std::size_t stripes = 4;

    struct alignas(64) stripe_counts {
        std::atomic<std::uint64_t> hits{0};
        std::atomic<std::uint64_t> misses{0};
        std::atomic<std::uint64_t> loads{0};
        std::atomic<std::uint64_t> load_failures{0};
    };

    struct shard {
        shard(std::uint64_t capacity, std::uint64_t seed, table_hash th, table_equal te,
              std::atomic<std::size_t>* shared_choice, bool leader)
            : table(0, th, te), policy(make_policy(capacity, seed, shared_choice, leader)) {}

        // W-TinyLFU's shards share one window decision (shard 0 measures, the others
        // follow); other policies get (capacity, seed[, weighted]).
        static Policy make_policy(std::uint64_t capacity, std::uint64_t seed,
                                  std::atomic<std::size_t>* shared_choice, bool leader) {
            constexpr bool weighted = !std::is_same_v<Weigher, unit_weigher>;
            if constexpr (std::is_same_v<Policy, wtinylfu_policy>)
                return Policy(capacity, seed, weighted,
                              wtinylfu_options{.shared_choice = shared_choice, .leader = leader});
            else if constexpr (std::is_constructible_v<Policy, std::uint64_t, std::uint64_t, bool>)
                return Policy(capacity, seed, weighted);
            else
                return Policy(capacity, seed);
        }

        detail::striped_lock<stripes> lock;
        std::mutex drain_lock;
        table_type table;
        Policy policy;
        expiry_index expiries;
        read_buffer reads;
        std::array<stripe_counts, stripes> counts{};
        std::atomic<std::uint64_t> entries{0};
        std::atomic<std::uint64_t> weight{0};
        std::atomic<std::uint64_t> evictions{0};
        std::atomic<std::uint64_t> expirations{0};
    };

    static std::size_t auto_shards(std::uint64_t capacity) {
        const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
        std::size_t n = std::bit_ceil(16 * hw);
        while (n > 1 && capacity / n < 64) n /= 2;
        return n;
    }

    std::uint64_t hash_of(const Key& key) const {
        return detail::mix64(static_cast<std::uint64_t>(hash_(key)) ^ hash_seed_);
    }

    static std::uint64_t random_seed() {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }

    // A shared hold on a shard's striped lock, released by the destructor.
    class shared_hold {
    public:
        shared_hold(detail::striped_lock<stripes>& l, std::uint32_t stripe) noexcept : lock_(l), stripe_(stripe) {
            lock_.lock_shared(stripe_);
        }
        shared_hold(const shared_hold&) = delete;
        shared_hold& operator=(const shared_hold&) = delete;
        ~shared_hold() { lock_.unlock_shared(stripe_); }

    private:
        detail::striped_lock<stripes>& lock_;
        std::uint32_t stripe_;
    };

    // The table positions by the hash's high bits; shards take bits 0..31 so that the
    // two choices stay independent.
    shard& shard_for(std::uint64_t h) const noexcept {
        const auto i = static_cast<std::size_t>(((h & 0xffffffffULL) * shard_count_) >> 32);
        return *shards_[i];
    }

    std::uint32_t weigh(const Key& k, const Value& v) const {
        const std::uint64_t w = static_cast<std::uint64_t>(std::invoke(weigher_, k, v));
        return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(w, 1, std::numeric_limits<std::uint32_t>::max()));
    }

    static time_point deadline_of(time_point now, duration ttl) noexcept {
        if (now.time_since_epoch() > time_point::max().time_since_epoch() - ttl) return time_point::max();
        return now + ttl;
    }

    static void set_deadline(shard& s, node* n, time_point deadline) {
        if (n->expires_at != time_point::max()) s.expiries.erase(s.expiries.iterator_to(*n));
        n->expires_at = deadline;
        if (deadline != time_point::max()) s.expiries.insert(*n);
    }

    // Applies buffered reads to the policy (caller holds the exclusive lock or the
    // shared lock plus the drain lock).
    static void drain_reads(shard& s) {
        s.reads.drain([&](node* n) { s.policy.on_hit(*n); });
    }

    // A reader drains only its own stripe: the other stripes' cache lines stay with the
    // threads that fill them (writers and cleanup drain them all).
    static void try_drain(shard& s, std::uint32_t stripe) {
        std::unique_lock dl(s.drain_lock, std::try_to_lock);
        if (!dl) return;
        s.reads.drain_stripe(stripe, [&](node* n) { s.policy.on_hit(*n); });
        s.policy.maintain();
    }

    // Removes a node the policy no longer holds from the table and the index, and frees it.
    static void unlink_and_free(shard& s, node* n) {
        if (n->expires_at != time_point::max()) s.expiries.erase(s.expiries.iterator_to(*n));
        s.table.erase(n);
        s.entries.fetch_sub(1, std::memory_order_relaxed);
        s.weight.fetch_sub(n->weight, std::memory_order_relaxed);
        delete n;
    }

    static std::uint64_t expire(shard& s, time_point now) {
        std::uint64_t n = 0;
        while (!s.expiries.empty() && s.expiries.begin()->expires_at <= now) {
            node* victim = &*s.expiries.begin();
            s.policy.on_remove(*victim);
            unlink_and_free(s, victim);
            ++n;
        }
        if (n) s.expirations.fetch_add(n, std::memory_order_relaxed);
        return n;
    }

    static void evict(shard& s) {
        std::uint64_t n = 0;
        s.policy.evict([&](policy_node& p) {
            unlink_and_free(s, static_cast<node*>(&p));
            ++n;
        });
        if (n) s.evictions.fetch_add(n, std::memory_order_relaxed);
    }

    memory_cache_options options_;
    // The window candidate W-TinyLFU's leading shard chose (declared before the shards,
    // which point at it, so that it outlives them).
    std::atomic<std::size_t> window_choice_{0};
    Weigher weigher_;
    Hash hash_;
    KeyEqual equal_;
    std::uint64_t hash_seed_ = 0;
    std::size_t shard_count_ = 1;
    std::unique_ptr<std::unique_ptr<shard>[]> shards_;
};

}  // namespace salama::caching
