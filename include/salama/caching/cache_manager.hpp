// salama: the self-optimizing memory cache (the seed's cache manager): a memory_cache
// with string keys whose TTLs come from a TTL policy that watches hits per key pattern,
// plus periodic maintenance (TTL adaptation, reclaiming expired entries, metrics) that
// follows the library's loop model (core/loop.hpp).
#pragma once

#include "salama/caching/adaptive_ttl.hpp"
#include "salama/caching/cache_stats.hpp"
#include "salama/caching/memory_cache.hpp"
#include "salama/caching/ttl_policy.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/log.hpp"
#include "salama/core/loop.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/telemetry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace salama::caching {

/// A memory_cache<std::string, Value> whose entries get their TTL from `Ttl` (adaptive
/// per key pattern by default). Lookups are counted per pattern; `maintain(now)` closes
/// the TTL policy's window (logging each TTL change with its reason), reclaims expired
/// entries and publishes statistics. Series (every one labelled `name`, the telemetry's
/// instance name): the memory tier's `salama_cache_*` families and, per pattern (label
/// pattern), `salama_cache_pattern_hits_total`, `salama_cache_pattern_misses_total`,
/// `salama_cache_pattern_ttl_seconds` and `salama_cache_ttl_changes_total` (label
/// direction = up|down). Thread-safe except `maintain`, which one task calls: the loop
/// started by start(), or run(). The manager may be destroyed while that loop runs.
template <class Value, ttl_policy Ttl = adaptive_ttl, eviction_policy Policy = wtinylfu_policy,
          class Weigher = unit_weigher>
class cache_manager {
public:
    using memory_type = memory_cache<std::string, Value, Policy, Weigher>;

    /// Throws config_error on invalid options or an empty instance name.
    cache_manager(memory_cache_options memory, Ttl ttl, telemetry tel = {}, Weigher weigher = {})
        : impl_(std::make_shared<impl>(std::move(memory), std::move(ttl), std::move(tel), std::move(weigher))) {}

    cache_manager(const cache_manager&) = delete;
    cache_manager& operator=(const cache_manager&) = delete;
    /// Stops the maintenance loop, if any (it ends at its next resumption).
    ~cache_manager() {
        if (loop_) loop_->stop();
    }

    /// The value of `key` if present and live at `now`; counted for the key's pattern.
    std::optional<Value> get(const std::string& key, time_point now) {
        auto v = impl_->memory.get(key, now);
        impl_->ttl.record(impl_->ttl.classify(key), v.has_value());
        return v;
    }

    /// Stores `value` with the TTL the policy gives the key's pattern now.
    result<void> put(std::string key, Value value, time_point now) {
        const duration t = impl_->ttl.ttl(impl_->ttl.classify(key));
        return impl_->memory.put(std::move(key), std::move(value), now, t);
    }

    /// The value of `key`, or `load()`'s (Value or result<Value>) stored with the
    /// pattern's TTL. A failed load is returned and not stored.
    template <class Loader>
    result<Value> get_or_load(const std::string& key, time_point now, Loader&& load) {
        const std::size_t p = impl_->ttl.classify(key);
        if (auto v = impl_->memory.get(key, now)) {
            impl_->ttl.record(p, true);
            return std::move(*v);
        }
        impl_->ttl.record(p, false);
        return impl_->memory.load_and_put(key, now, std::forward<Loader>(load), impl_->ttl.ttl(p));
    }

    /// Removes `key` (e.g. on an invalidation); true if it was present.
    bool erase(const std::string& key) { return impl_->memory.erase(key); }

    /// One maintenance step: adapt TTLs, reclaim expired entries, publish statistics.
    /// Returns the TTL changes made.
    std::vector<ttl_change> maintain(time_point now) { return impl_->maintain(now); }

    /// Runs `maintain(clock.now())` every `period` until the awaiting coroutine is cancelled;
    /// a failing step is logged, counted and survived.
    awaitable<void> run(duration period, clock_ref clock = {}) { return impl::loop(impl_, period, clock); }

    /// Starts run() on a strand of `ex`, unless a loop started here still runs. Safe from
    /// any thread once the first start() returned.
    bool start(asio::any_io_executor ex, duration period, clock_ref clock = {}) {
        if (!loop_) loop_.emplace(std::move(ex));
        return loop_->start([self = impl_, period, clock] { return impl::loop(self, period, clock); });
    }
    /// Stops the loop started by start(). Safe from any thread.
    void stop() noexcept {
        if (loop_) loop_->stop();
    }

    /// The memory tier.
    memory_type& memory() noexcept { return impl_->memory; }
    /// The TTL policy.
    Ttl& ttl_policy() noexcept { return impl_->ttl; }
    /// The TTL the key would get now.
    duration ttl_for(std::string_view key) const noexcept { return impl_->ttl.ttl(impl_->ttl.classify(key)); }
    /// Per-pattern statistics.
    std::vector<pattern_stats> pattern_statistics() const {
        std::vector<pattern_stats> out;
        for (std::size_t i = 0; i < impl_->ttl.pattern_count(); ++i) out.push_back(impl_->ttl.stats(i));
        return out;
    }
    /// The memory tier's statistics.
    cache_stats stats() const noexcept { return impl_->memory.stats(); }
    /// Where the manager reports (its registry is the private one if none was given).
    const telemetry& telemetry_handle() const noexcept { return impl_->tel.handle(); }

private:
    // Everything maintenance touches, shared with the loop's coroutine frame.
    struct impl {
        impl(memory_cache_options m, Ttl t, telemetry tl, Weigher w)
            : memory(std::move(m), std::move(w)), ttl(std::move(t)), tel(std::move(tl), "cache_manager.telemetry"),
              metrics(tel),
              pattern_hits(tel.counter("salama_cache_pattern_hits_total", "Cache hits per key pattern", {"pattern"})),
              pattern_misses(
                  tel.counter("salama_cache_pattern_misses_total", "Cache misses per key pattern", {"pattern"})),
              pattern_ttl(tel.gauge("salama_cache_pattern_ttl_seconds", "Current TTL per key pattern", {"pattern"})),
              ttl_changes(tel.counter("salama_cache_ttl_changes_total", "TTL adaptations per key pattern",
                                      {"pattern", "direction"})),
              maintenance_failures(
                  tel.counter("salama_cache_maintenance_failures_total", "Maintenance steps that failed").with()),
              published(ttl.pattern_count()) {}

        std::vector<ttl_change> maintain(time_point now) {
            auto changes = ttl.evaluate(now);
            for (const auto& c : changes) {
                const auto st = ttl.stats(c.pattern);
                const bool up = c.after > c.before;
                (void)ttl_changes.with({st.pattern, up ? "up" : "down"}).inc();
                tel.log().info("cache {}: pattern '{}' TTL {}s -> {}s (hit rate {:.3f} over {} lookups)", tel.name(),
                               st.pattern, to_seconds(c.before), to_seconds(c.after), c.hit_rate, c.requests);
            }
            memory.cleanup(now);
            publish();
            return changes;
        }

        void publish() {
            metrics.publish(memory.stats());
            for (std::size_t i = 0; i < ttl.pattern_count(); ++i) {
                const auto st = ttl.stats(i);
                auto& last = published[i];
                if (st.hits > last.hits)
                    (void)pattern_hits.with({st.pattern}).inc(static_cast<double>(st.hits - last.hits));
                if (st.misses > last.misses)
                    (void)pattern_misses.with({st.pattern}).inc(static_cast<double>(st.misses - last.misses));
                (void)pattern_ttl.with({st.pattern}).set(to_seconds(st.ttl));
                last = st;
            }
        }

        static awaitable<void> loop(std::shared_ptr<impl> self, duration period, clock_ref clock) {
            co_await asio::this_coro::throw_if_cancelled(false);
            asio::steady_timer timer(co_await asio::this_coro::executor);
            while (co_await wait_for(timer, period)) {
                try {
                    (void)self->maintain(clock.now());
                } catch (const std::exception& e) {
                    (void)self->maintenance_failures.inc();
                    self->tel.log().error("cache {}: maintenance failed: {}", self->tel.name(), e.what());
                }
            }
        }

        memory_type memory;
        Ttl ttl;
        bound_telemetry tel;
        cache_metrics metrics;
        instance_family<counter> pattern_hits;
        instance_family<counter> pattern_misses;
        instance_family<gauge> pattern_ttl;
        instance_family<counter> ttl_changes;
        counter& maintenance_failures;
        std::vector<pattern_stats> published;
    };

    std::shared_ptr<impl> impl_;
    std::optional<loop_runner> loop_;
};

}  // namespace salama::caching
