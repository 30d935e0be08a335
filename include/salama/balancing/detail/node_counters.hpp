// salama: the counters a pick reads and writes, kept densely: 16 bytes per node in
// chunks shared by every node of a balancer, so that a pick on a pool of 10,000 nodes
// touches lines that stay in the cache instead of one scattered node object per request.
#pragma once

#include "salama/core/clock.hpp"

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace salama::balancing::detail {

/// The live counters of one node that pickers and scorers read on every request, packed
/// into 16 bytes (four to a cache line): 2^31 requests in flight on one node and seven
/// significant digits of latency are more than enough.
struct alignas(16) node_counters {
    std::atomic<std::int32_t> pending{0};  ///< requests picked and not yet ended
    std::atomic<float> ewma{std::numeric_limits<float>::quiet_NaN()};  ///< peak EWMA seconds, NaN before any outcome
    std::atomic<std::int64_t> stamp{0};  ///< when `ewma` was last set: time_point ticks since the clock's epoch

    /// The peak EWMA in seconds as of the last outcome, if any.
    std::optional<double> ewma_seconds() const noexcept {
        const float v = ewma.load(std::memory_order_relaxed);
        if (std::isnan(v)) return std::nullopt;
        return v;
    }
    /// When the peak EWMA was last set.
    time_point ewma_stamp() const noexcept { return time_point(duration(stamp.load(std::memory_order_relaxed))); }
};
static_assert(sizeof(node_counters) == 16);
static_assert(std::atomic<float>::is_always_lock_free && std::atomic<std::int32_t>::is_always_lock_free &&
              std::atomic<std::int64_t>::is_always_lock_free);

/// Hands out node_counters from chunks that never move, reusing released ones first so
/// the live counters stay packed. Thread-safe; acquiring and releasing are rare (a node
/// joining or being destroyed), so one mutex is enough.
class counter_store {
public:
    /// Counters per chunk: 16 KiB each.
    static constexpr std::size_t chunk_size = 1024;

    counter_store() = default;
    counter_store(const counter_store&) = delete;
    counter_store& operator=(const counter_store&) = delete;

    /// Fresh counters (pending 0, no EWMA). Throws std::bad_alloc when memory runs out.
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
                chunks_.push_back(std::make_unique<node_counters[]>(chunk_size));
                used_in_last_ = 0;
            }
            c = &chunks_.back()[used_in_last_++];
        }
        c->pending.store(0, std::memory_order_relaxed);
        c->ewma.store(std::numeric_limits<float>::quiet_NaN(), std::memory_order_relaxed);
        c->stamp.store(0, std::memory_order_relaxed);
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
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<node_counters[]>> chunks_;
    std::vector<node_counters*> free_;
    std::size_t used_in_last_ = 0;
    std::size_t live_ = 0;
};

}  // namespace salama::balancing::detail
