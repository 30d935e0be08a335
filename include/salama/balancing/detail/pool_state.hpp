// salama: the live state of one pool (request type), and what a balancer shares with its
// handles: both outlive the balancer while handles are open.
#pragma once

#include "salama/balancing/detail/thread_slot.hpp"
#include "salama/balancing/node.hpp"
#include "salama/balancing/observer.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/telemetry.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace salama::balancing::detail {

/// A registry counter fed from per-thread counts: each slot adds to its own count and,
/// every `fold_every` of them, adds what it has not folded yet to the registry, so that a
/// pick does not read-modify-write the registry's one atomic<double> (nor read the other
/// slots). The registry lags by fewer than `fold_every` per slot in use until the next
/// fold() (every publish and refresh folds every slot).
class folded_counter {
public:
    static constexpr std::uint64_t fold_every = 256;

    folded_counter() = default;
    folded_counter(const folded_counter&) = delete;
    folded_counter& operator=(const folded_counter&) = delete;

    /// Sets where the total goes (null: nowhere).
    void bind(salama::counter* target) noexcept { target_ = target; }

    /// Adds one on slot `slot`.
    void inc(std::size_t slot) noexcept {
        const std::uint64_t before = s_[slot].count.fetch_add(1, std::memory_order_relaxed);
        if ((before + 1) % fold_every == 0) fold_slot(s_[slot]);
    }

    /// The exact total.
    std::uint64_t total() const noexcept {
        std::uint64_t n = 0;
        for (const auto& s : s_) n += s.count.load(std::memory_order_relaxed);
        return n;
    }

    /// Brings the registry up to total().
    void fold() noexcept {
        for (auto& s : s_) fold_slot(s);
    }

private:
    struct alignas(64) slot {
        std::atomic<std::uint64_t> count{0};
        std::atomic<std::uint64_t> folded{0};
    };

    // Each increment reaches the registry exactly once: a slot's folded mark only rises,
    // and whoever raises it adds the difference.
    void fold_slot(slot& s) noexcept {
        if (!target_) return;
        const std::uint64_t now = s.count.load(std::memory_order_relaxed);
        std::uint64_t seen = s.folded.load(std::memory_order_relaxed);
        while (now > seen) {
            if (s.folded.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
                (void)target_->inc(static_cast<double>(now - seen));
                return;
            }
        }
    }

    std::array<slot, thread_slots> s_{};
    salama::counter* target_ = nullptr;
};

struct balancer_shared;

/// One pool's live counters; lives as long as the balancer, or its last handle.
struct pool_state {
    /// Set in every slot's in-flight count when the balancer is destroyed with handles
    /// still open: the handle that ends then knows to count itself out (see
    /// balancer_shared::close).
    static constexpr std::int64_t closed_bit = std::int64_t{1} << 62;

    pool_state(std::string type, balancer_shared* s) : request_type(std::move(type)), shared(s) {}
    pool_state(const pool_state&) = delete;
    pool_state& operator=(const pool_state&) = delete;

    const std::string request_type;
    balancer_shared* const shared;
    /// Handles open, per thread slot of the pick (a handle ends on the slot it began on).
    std::array<padded<std::atomic<std::int64_t>>, thread_slots> in_flight{};
    folded_counter picks;
    folded_counter successes;
    folded_counter failures;
    // Refused picks are rare: children resolved once, one atomic add each.
    salama::counter* empty_pool = nullptr;
    salama::counter* no_healthy = nullptr;

    /// Requests of the pool picked and not yet ended.
    std::int64_t in_flight_total() const noexcept {
        std::int64_t n = 0;
        const std::size_t k = stripes_in_use();
        for (std::size_t i = 0; i < k; ++i) n += in_flight[i].value.load(std::memory_order_relaxed) & ~closed_bit;
        return n;
    }
    /// Brings the registry's counters up to date.
    void fold() noexcept {
        picks.fold();
        successes.fold();
        failures.fold();
    }
};

/// What the balancer shares with its handles: settings, the observer hub, the telemetry,
/// every pool's state and every node a handle may point at. The balancer owns it; if it
/// is destroyed with handles open, the last of them deletes it.
struct balancer_shared {
    balancer_shared(duration tau, telemetry t) : ewma_tau(tau), tel(std::move(t), "telemetry") {}
    balancer_shared(const balancer_shared&) = delete;
    balancer_shared& operator=(const balancer_shared&) = delete;

    const duration ewma_tau;
    const std::shared_ptr<outcome_hub> hub = std::make_shared<outcome_hub>();
    const bound_telemetry tel;
    /// Every pool ever served, by request type (kept: a pool's handles may still be open).
    std::map<std::string, std::unique_ptr<pool_state>, std::less<>> pools{};
    /// Every node a handle may point at: the registry's nodes as of the last publish, and
    /// removed ones with requests still in flight. Handles hold plain pointers (taking a
    /// reference would write each node's object on every pick); this keeps them valid,
    /// even after the balancer is gone. Changed only by the balancer's writer.
    std::vector<std::shared_ptr<node_state>> pinned{};

    /// Called by the balancer's destructor, after which it no longer touches this. Marks
    /// every slot closed and counts the handles still open: they were all begun before
    /// (no pick runs during destruction), and each will end on a closed slot.
    static void close(balancer_shared* s) noexcept {
        std::int64_t open = 0;
        for (auto& [type, p] : s->pools)
            for (auto& slot : p->in_flight)
                open += slot.value.fetch_or(pool_state::closed_bit, std::memory_order_acq_rel) & ~pool_state::closed_bit;
        if (s->orphans_.fetch_add(open, std::memory_order_acq_rel) + open == 0) delete s;
    }

    /// Called by a handle that ended on a closed slot, as its last touch.
    static void orphan_ended(balancer_shared* s) noexcept {
        if (s->orphans_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) delete s;
    }

private:
    // Open handles left at close, minus those ended since; 0 again only when the close and
    // every one of them have happened (it may dip below 0 while the close is counting).
    std::atomic<std::int64_t> orphans_{0};
};

}  // namespace salama::balancing::detail
