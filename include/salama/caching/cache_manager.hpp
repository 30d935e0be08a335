// salama: the self-optimizing memory cache (the seed's cache manager): a memory_cache
// with string keys whose TTLs come from a TTL policy that watches hits per key pattern,
// plus periodic maintenance (TTL adaptation, reclaiming expired entries, metrics).
#pragma once

#include "salama/caching/adaptive_ttl.hpp"
#include "salama/caching/cache_stats.hpp"
#include "salama/caching/memory_cache.hpp"
#include "salama/caching/ttl_policy.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/log.hpp"
#include "salama/core/metrics_registry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace salama::caching {

/// A memory_cache<std::string, Value> whose entries get their TTL from `Ttl` (adaptive
/// per key pattern by default). Lookups are counted per pattern; `maintain(now)` closes
/// the TTL policy's window (logging each TTL change with its reason), reclaims expired
/// entries and publishes statistics to the metrics registry:
/// the memory tier's `salama_cache_*` families (label cache) and, per pattern (labels
/// cache, pattern), `salama_cache_pattern_hits_total`, `salama_cache_pattern_misses_total`,
/// `salama_cache_pattern_ttl_seconds` and `salama_cache_ttl_changes_total` (label
/// direction = up|down). Thread-safe except `maintain`, which one task calls (`run` does).
template <class Value, ttl_policy Ttl = adaptive_ttl, eviction_policy Policy = wtinylfu_policy,
          class Weigher = unit_weigher>
class cache_manager {
public:
    using memory_type = memory_cache<std::string, Value, Policy, Weigher>;

    /// `registry` must outlive the manager. Throws config_error on invalid options.
    cache_manager(memory_cache_options memory, Ttl ttl, metrics_registry& registry,
                  std::string name = "memory", logger log = {}, Weigher weigher = {})
        : memory_(std::move(memory), std::move(weigher)), ttl_(std::move(ttl)), name_(std::move(name)),
          log_(std::move(log)), metrics_(registry, name_),
          pattern_hits_(registry.counter("salama_cache_pattern_hits_total",
                                         "Cache hits per key pattern", {"cache", "pattern"})),
          pattern_misses_(registry.counter("salama_cache_pattern_misses_total",
                                           "Cache misses per key pattern", {"cache", "pattern"})),
          pattern_ttl_(registry.gauge("salama_cache_pattern_ttl_seconds",
                                      "Current TTL per key pattern", {"cache", "pattern"})),
          ttl_changes_(registry.counter("salama_cache_ttl_changes_total",
                                        "TTL adaptations per key pattern",
                                        {"cache", "pattern", "direction"})),
          maintenance_failures_(registry.counter("salama_cache_maintenance_failures_total",
                                                 "Maintenance steps that failed", {"cache"})
                                    .with({name_})),
          published_(ttl_.pattern_count()) {}

    /// The value of `key` if present and live at `now`; counted for the key's pattern.
    std::optional<Value> get(const std::string& key, time_point now) {
        auto v = memory_.get(key, now);
        ttl_.record(ttl_.classify(key), v.has_value());
        return v;
    }

    /// Stores `value` with the TTL the policy gives the key's pattern now.
    result<void> put(std::string key, Value value, time_point now) {
        const duration t = ttl_.ttl(ttl_.classify(key));
        return memory_.put(std::move(key), std::move(value), now, t);
    }

    /// The value of `key`, or `load()`'s (Value or result<Value>) stored with the
    /// pattern's TTL. A failed load is returned and not stored.
    template <class Loader>
    result<Value> get_or_load(const std::string& key, time_point now, Loader&& load) {
        const std::size_t p = ttl_.classify(key);
        if (auto v = memory_.get(key, now)) {
            ttl_.record(p, true);
            return std::move(*v);
        }
        ttl_.record(p, false);
        return memory_.load_and_put(key, now, std::forward<Loader>(load), ttl_.ttl(p));
    }

    /// Removes `key` (e.g. on an invalidation); true if it was present.
    bool erase(const std::string& key) { return memory_.erase(key); }

    /// One maintenance step: adapt TTLs, reclaim expired entries, publish statistics.
    /// Returns the TTL changes made.
    std::vector<ttl_change> maintain(time_point now) {
        auto changes = ttl_.evaluate(now);
        for (const auto& c : changes) {
            const auto st = ttl_.stats(c.pattern);
            const bool up = c.after > c.before;
            (void)ttl_changes_.with({name_, st.pattern, up ? "up" : "down"}).inc();
            log_.info("cache {}: pattern '{}' TTL {}s -> {}s (hit rate {:.3f} over {} lookups)", name_,
                      st.pattern, to_seconds(c.before), to_seconds(c.after), c.hit_rate, c.requests);
        }
        memory_.cleanup(now);
        publish();
        return changes;
    }

    /// Runs `maintain` every `period` (read from `clock`) on the calling coroutine's
    /// executor until cancelled; a failing step is logged, counted and survived.
    template <salama::clock Clock>
    awaitable<void> run(const Clock& clock, duration period) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (;;) {
            timer.expires_after(period);
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;  // cancelled
            try {
                maintain(clock.now());
            } catch (const std::exception& e) {
                (void)maintenance_failures_.inc();
                log_.error("cache {}: maintenance failed: {}", name_, e.what());
            }
        }
    }

    /// The memory tier.
    memory_type& memory() noexcept { return memory_; }
    /// The TTL policy.
    Ttl& ttl_policy() noexcept { return ttl_; }
    /// The TTL the key would get now.
    duration ttl_for(std::string_view key) const noexcept { return ttl_.ttl(ttl_.classify(key)); }
    /// Per-pattern statistics.
    std::vector<pattern_stats> pattern_statistics() const {
        std::vector<pattern_stats> out;
        for (std::size_t i = 0; i < ttl_.pattern_count(); ++i) out.push_back(ttl_.stats(i));
        return out;
    }
    /// The memory tier's statistics.
    cache_stats stats() const noexcept { return memory_.stats(); }

private:
    void publish() {
        metrics_.publish(memory_.stats());
        for (std::size_t i = 0; i < ttl_.pattern_count(); ++i) {
            const auto st = ttl_.stats(i);
            auto& last = published_[i];
            if (st.hits > last.hits) (void)pattern_hits_.with({name_, st.pattern}).inc(static_cast<double>(st.hits - last.hits));
            if (st.misses > last.misses)
                (void)pattern_misses_.with({name_, st.pattern}).inc(static_cast<double>(st.misses - last.misses));
            (void)pattern_ttl_.with({name_, st.pattern}).set(to_seconds(st.ttl));
            last = st;
        }
    }

    memory_type memory_;
    Ttl ttl_;
    std::string name_;
    logger log_;
    cache_metrics metrics_;
    counter_family& pattern_hits_;
    counter_family& pattern_misses_;
    gauge_family& pattern_ttl_;
    counter_family& ttl_changes_;
    counter& maintenance_failures_;
    std::vector<pattern_stats> published_;
};

}  // namespace salama::caching
