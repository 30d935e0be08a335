// salama: what a cache tier counts, and its export to a metrics registry.
#pragma once

#include "salama/core/metrics_registry.hpp"
#include "salama/core/telemetry.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace salama::caching {

/// Counters of one cache (monotonic since construction) and its current size.
struct cache_stats {
    std::uint64_t hits = 0;           ///< lookups that returned a value
    std::uint64_t misses = 0;         ///< lookups that found nothing (or only an expired entry)
    std::uint64_t loads = 0;          ///< loader calls that produced a value
    std::uint64_t load_failures = 0;  ///< loader calls that returned an error
    std::uint64_t evictions = 0;      ///< entries removed to respect the capacity (or rejected)
    std::uint64_t expirations = 0;    ///< entries reclaimed after their TTL
    std::uint64_t entries = 0;        ///< entries held now
    std::uint64_t weighted_size = 0;  ///< total weight held now

    /// hits / (hits + misses), or 0 before any lookup.
    double hit_rate() const noexcept {
        const auto n = hits + misses;
        return n == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(n);
    }
};

/// Publishes cache_stats under the telemetry's instance name (label `name`):
/// `salama_cache_hits_total`, `salama_cache_misses_total`, `salama_cache_loads_total`,
/// `salama_cache_load_failures_total`, `salama_cache_evictions_total`,
/// `salama_cache_expirations_total` (counters, advanced by the difference since the last
/// publish) and `salama_cache_entries`, `salama_cache_weighted_size` (gauges). Not
/// thread-safe: call it from one maintenance task.
class cache_metrics {
public:
    /// Registers the families through `tel` (whose registry must outlive this object).
    explicit cache_metrics(const bound_telemetry& tel)
        : hits_(tel.counter("salama_cache_hits_total", "Cache lookups that returned a value").with()),
          misses_(tel.counter("salama_cache_misses_total", "Cache lookups that found nothing").with()),
          loads_(tel.counter("salama_cache_loads_total", "Values loaded on a miss").with()),
          load_failures_(tel.counter("salama_cache_load_failures_total", "Loader calls that failed").with()),
          evictions_(tel.counter("salama_cache_evictions_total",
                                 "Entries evicted or rejected to respect the capacity")
                         .with()),
          expirations_(tel.counter("salama_cache_expirations_total", "Entries reclaimed after their TTL").with()),
          entries_(tel.gauge("salama_cache_entries", "Entries held").with()),
          weighted_size_(tel.gauge("salama_cache_weighted_size", "Total weight held").with()) {}

    /// Advances the counters to `s` and sets the gauges.
    void publish(const cache_stats& s) {
        advance(hits_, s.hits, last_.hits);
        advance(misses_, s.misses, last_.misses);
        advance(loads_, s.loads, last_.loads);
        advance(load_failures_, s.load_failures, last_.load_failures);
        advance(evictions_, s.evictions, last_.evictions);
        advance(expirations_, s.expirations, last_.expirations);
        (void)entries_.set(static_cast<double>(s.entries));
        (void)weighted_size_.set(static_cast<double>(s.weighted_size));
        last_ = s;
    }

private:
    static void advance(counter& c, std::uint64_t now, std::uint64_t before) {
        if (now > before) (void)c.inc(static_cast<double>(now - before));
    }

    counter& hits_;
    counter& misses_;
    counter& loads_;
    counter& load_failures_;
    counter& evictions_;
    counter& expirations_;
    gauge& entries_;
    gauge& weighted_size_;
    cache_stats last_;
};

}  // namespace salama::caching
