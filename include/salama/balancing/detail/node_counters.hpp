// salama: the counters a pick reads and writes, kept densely in chunks shared by every
// node of a balancer, so that a pick on a pool of 10,000 nodes touches lines that stay in
// the cache instead of one scattered node object per request. Requests in flight are
// counted per thread slot, each slot's counts of a chunk in lines of their own: two threads
// picking the same node write different lines.
#pragma once

#include "salama/balancing/detail/thread_slot.hpp"
#include "salama/core/clock.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace salama::balancing::detail {

/// The live counters of one node that pickers and scorers read on every request.
/// `pending` points at the node's in-flight count of thread slot 0; slot s's count is
/// `stride` counters further on, and so is its cached view of the other slots' counts.
/// The peak EWMA is one value per node, written only when an outcome changes it.
struct alignas(32) node_counters {
    /// The largest smallest move of the EWMA's stamp (see record_latency).
    static constexpr std::chrono::milliseconds stamp_step{10};
    /// How many of a thread's reads a cached view of other threads' counts serves.
    static constexpr std::uint32_t view_reads = 64;
    /// Counts of neighbouring nodes refreshed together (one line of one slot's counts).
    static constexpr std::uint16_t view_block = 16;
    /// At most one refresh of an existing view per this many of a thread's reads: on a large
    /// pool a thread revisits a node's line too seldom for its view to stay fresh, and a
    /// refresh on every read would fetch a line another thread has just written each time.
    static constexpr std::uint32_t refresh_gap = 8;
    /// A view never filled.
    static constexpr std::uint64_t no_view = ~std::uint64_t{0};

    std::atomic<float> ewma{std::numeric_limits<float>::quiet_NaN()};  ///< peak EWMA seconds, NaN before any outcome
    std::uint16_t stride = 1;  ///< distance between two slots' counts
    std::uint16_t index = 0;   ///< position in its chunk (neighbours share lines)
    std::atomic<std::int64_t> stamp{0};  ///< when `ewma` was last set: time_point ticks since the clock's epoch
    std::atomic<std::int32_t>* pending = nullptr;  ///< in-flight count of slot 0
    /// Slot 0's view of the other slots' in-flight counts: (read tick << 32) | count.
    std::atomic<std::uint64_t>* view = nullptr;

    /// The in-flight count of thread slot `slot`.
    std::atomic<std::int32_t>& pending_of(std::size_t slot) const noexcept { return pending[slot * stride]; }
    /// Requests in flight on the node: the sum over every slot in use.
    std::int64_t pending_total(std::memory_order o = std::memory_order_relaxed) const noexcept {
        std::int64_t n = 0;
        const std::size_t k = stripes_in_use();
        for (std::size_t i = 0; i < k; ++i) n += pending_of(i).load(o);
        return n;
    }
    /// Requests in flight as slot `slot` sees them: its own count exactly, the others'
    /// from its view. A view never filled is filled at once. A view older than `view_reads`
    /// of the thread's reads is refreshed, unless the thread refreshed one less than
    /// `refresh_gap` reads ago: then the old view serves. Refreshing reads the other slots'
    /// line holding this node's count and refills the views of every node on that line, so
    /// on a small pool a thread reads another thread's lines about once every `view_reads`
    /// reads, and on any pool at most once every `refresh_gap` reads. On a small pool other
    /// threads' requests are so seen at most `view_reads` reads late; on a large one (where
    /// a node is read once in thousands of picks and its count is mostly 0 or 1) later.
    std::int64_t pending_seen(std::size_t slot) const noexcept {
        const std::uint32_t tick = next_read_tick();
        const std::uint64_t v = view[slot * stride].load(std::memory_order_relaxed);
        std::int64_t others;
        if (v == no_view ||
            (tick - static_cast<std::uint32_t>(v >> 32) > view_reads && tick - last_refresh_tick() >= refresh_gap))
            others = refresh_view(slot, tick);
        else
            others = static_cast<std::int32_t>(v & 0xffffffffU);
        return others + pending_of(slot).load(std::memory_order_relaxed);
    }
    /// The peak EWMA in seconds as of the last outcome, if any.
    std::optional<double> ewma_seconds() const noexcept {
        const float v = ewma.load(std::memory_order_relaxed);
        if (std::isnan(v)) return std::nullopt;
        return v;
    }
    /// When the peak EWMA was last set.
    time_point ewma_stamp() const noexcept { return time_point(duration(stamp.load(std::memory_order_relaxed))); }

    /// Blends outcome latency `rtt_s` (seconds) reported at `now` into the peak EWMA
    /// (Finagle/Linkerd: a latency above the estimate replaces it; else it decays in with
    /// w = exp(-dt / tau)). Lock-free: a compare-exchange on the estimate; an outcome that
    /// leaves it as it was writes nothing, so a steady node's line is only read. The stamp
    /// only moves forward (outcomes may be reported out of order), in steps of at least
    /// tau / 1000 (at most `stamp_step`): that changes no estimate by more than 0.1 %, and
    /// threads reporting steady latencies on one node write its line at most once a step.
    void record_latency(double rtt_s, time_point now, duration tau) noexcept {
        const time_point last = ewma_stamp();
        float cur = ewma.load(std::memory_order_relaxed);
        for (;;) {
            double next;
            if (std::isnan(cur) || rtt_s > cur) {
                next = rtt_s;
            } else {
                const double dt = std::max(0.0, to_seconds(now - last));
                const double w = std::exp(-dt / std::max(1e-9, to_seconds(tau)));
                next = rtt_s * (1.0 - w) + static_cast<double>(cur) * w;
            }
            const auto f = static_cast<float>(next);
            if (f == cur) break;
            if (ewma.compare_exchange_weak(cur, f, std::memory_order_relaxed)) break;
        }
        const std::int64_t t = now.time_since_epoch().count();
        std::int64_t s = stamp.load(std::memory_order_relaxed);
        const std::int64_t step = std::min<std::int64_t>(
            std::chrono::duration_cast<duration>(stamp_step).count(), tau.count() / 1000);
        while (t - s >= step && !stamp.compare_exchange_weak(s, t, std::memory_order_relaxed)) {
        }
    }

    /// Resets to a fresh node (no requests in flight, no EWMA).
    void reset() noexcept {
        ewma.store(std::numeric_limits<float>::quiet_NaN(), std::memory_order_relaxed);
        stamp.store(0, std::memory_order_relaxed);
        for (std::size_t i = 0; i < thread_slots; ++i) {
            pending_of(i).store(0, std::memory_order_relaxed);
            view[i * stride].store(no_view, std::memory_order_relaxed);
        }
    }

private:
    // Refills slot `slot`'s views of this node and its line neighbours; returns this
    // node's count of the other slots.
    std::int64_t refresh_view(std::size_t slot, std::uint32_t tick) const noexcept {
        const std::ptrdiff_t lo = stride >= view_block ? -static_cast<std::ptrdiff_t>(index % view_block) : 0;
        const std::ptrdiff_t hi = stride >= view_block ? lo + view_block : 1;
        const std::size_t k = stripes_in_use();
        last_refresh_tick() = tick;
        std::int64_t mine = 0;
        for (std::ptrdiff_t d = lo; d < hi; ++d) {
            std::int64_t n = 0;
            for (std::size_t t = 0; t < k; ++t)
                if (t != slot) n += pending[static_cast<std::ptrdiff_t>(t * stride) + d].load(std::memory_order_relaxed);
            const std::uint64_t packed = (static_cast<std::uint64_t>(tick) << 32) | static_cast<std::uint32_t>(n);
            view[static_cast<std::ptrdiff_t>(slot * stride) + d].store(packed, std::memory_order_relaxed);
            if (d == 0) mine = n;
        }
        return mine;
    }

public:
};
static_assert(sizeof(node_counters) == 32);
static_assert(std::atomic<float>::is_always_lock_free && std::atomic<std::int32_t>::is_always_lock_free &&
              std::atomic<std::int64_t>::is_always_lock_free);

/// Counters of a node made on its own (tests, tools): slots side by side.
struct own_counters {
    own_counters() noexcept {
        c.pending = slots.data();
        c.view = views.data();
        c.stride = 1;
        c.reset();
    }
    own_counters(const own_counters&) = delete;
    own_counters& operator=(const own_counters&) = delete;
    std::array<std::atomic<std::int32_t>, thread_slots> slots{};
    std::array<std::atomic<std::uint64_t>, thread_slots> views{};
    node_counters c{};
};

/// Hands out node_counters from chunks that never move, reusing released ones first so
/// the live counters stay packed. Thread-safe; acquiring and releasing are rare (a node
/// joining or being destroyed), so one mutex is enough.
class counter_store {
public:
    /// Counters per chunk: 32 KiB of counters, and per thread slot 4 KiB of in-flight
    /// counts and 8 KiB of views.
    static constexpr std::size_t chunk_size = 1024;

    counter_store() = default;
    counter_store(const counter_store&) = delete;
    counter_store& operator=(const counter_store&) = delete;

    /// Fresh counters (nothing in flight, no EWMA). Throws std::bad_alloc when memory
    /// runs out, and then changes nothing.
    node_counters* acquire() {
        std::lock_guard lk(mu_);
        node_counters* c;
        if (!free_.empty()) {
            c = free_.back();
            free_.pop_back();
        } else {
            if (used_in_last_ == chunk_size || chunks_.empty()) {
                // Room for every counter to come back, so that release never allocates.
                free_.reserve((chunks_.size() + 1) * chunk_size);
                chunks_.reserve(chunks_.size() + 1);
                auto ch = std::make_unique<chunk>();
                for (std::size_t i = 0; i < chunk_size; ++i) {
                    ch->hot[i].pending = &ch->pending[0][i];
                    ch->hot[i].view = &ch->view[0][i];
                    ch->hot[i].stride = static_cast<std::uint16_t>(chunk_size);
                    ch->hot[i].index = static_cast<std::uint16_t>(i);
                }
                chunks_.push_back(std::move(ch));
                used_in_last_ = 0;
            }
            c = &chunks_.back()->hot[used_in_last_++];
        }
        c->reset();
        ++live_;
        return c;
    }

    /// Returns counters for reuse; nothing may refer to them any more.
    void release(node_counters* c) noexcept {
        std::lock_guard lk(mu_);
        free_.push_back(c);  // capacity reserved by acquire: no allocation
        --live_;
    }

    /// Counters handed out and not released.
    std::size_t live() const {
        std::lock_guard lk(mu_);
        return live_;
    }

private:
    struct chunk {
        node_counters hot[chunk_size];
        // Slot-major: one slot's counts of 16 neighbouring nodes share a line, and no
        // line holds two slots' counts.
        alignas(64) std::atomic<std::int32_t> pending[thread_slots][chunk_size];
        // Each slot's views of the others' counts, slot-major too: only their slot's
        // thread writes them.
        alignas(64) std::atomic<std::uint64_t> view[thread_slots][chunk_size];
    };
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<chunk>> chunks_;
    std::vector<node_counters*> free_;
    std::size_t used_in_last_ = 0;
    std::size_t live_ = 0;
};

}  // namespace salama::balancing::detail
