// salama: a small number per thread, so that per-thread counters can live in their own
// cache lines: threads that pick at the same time write different lines.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace salama::balancing::detail {

/// Number of per-thread stripes. More threads than this share stripes (still correct,
/// only slower).
inline constexpr std::size_t thread_slots = 16;

/// Hands out thread slots, lowest free one first, and takes them back when a thread ends,
/// so that a program whose threads come and go keeps using the first few slots.
class thread_slot_pool {
public:
    /// The process-wide pool.
    static thread_slot_pool& instance() noexcept {
        static thread_slot_pool pool;
        return pool;
    }

    /// A free slot (or a shared one when all are taken).
    std::size_t acquire() noexcept {
        std::lock_guard lk(mu_);
        for (std::size_t i = 0; i < thread_slots; ++i)
            if (!used_[i]) {
                used_[i] = true;
                std::size_t hi = high_.load(std::memory_order_relaxed);
                if (i + 1 > hi) high_.store(i + 1, std::memory_order_release);
                return i;
            }
        return overflow_++ % thread_slots;
    }
    /// Returns a slot from acquire().
    void release(std::size_t slot) noexcept {
        std::lock_guard lk(mu_);
        if (slot < thread_slots) used_[slot] = false;
    }
    /// One past the highest slot ever handed out: readers that sum stripes stop there.
    std::size_t high() const noexcept { return high_.load(std::memory_order_acquire); }

private:
    thread_slot_pool() = default;
    std::mutex mu_;
    std::array<bool, thread_slots> used_{};
    std::size_t overflow_ = 0;
    std::atomic<std::size_t> high_{0};
};

/// The calling thread's slot in [0, thread_slots).
inline std::size_t thread_slot() noexcept {
    struct holder {
        std::size_t slot = thread_slot_pool::instance().acquire();
        ~holder() { thread_slot_pool::instance().release(slot); }
    };
    thread_local const holder h;
    return h.slot;
}

/// A per-thread count of reads of other threads' counters: the clock by which cached
/// views of them age (see node_counters::pending_seen).
inline std::uint32_t next_read_tick() noexcept {
    thread_local std::uint32_t tick = 0;
    return ++tick;
}

/// The read tick at which the calling thread last refreshed a view of other threads'
/// counters (see node_counters::pending_seen).
inline std::uint32_t& last_refresh_tick() noexcept {
    thread_local std::uint32_t tick = 0;
    return tick;
}

/// How many stripes a reader must sum: one past the highest slot any thread has held.
inline std::size_t stripes_in_use() noexcept { return thread_slot_pool::instance().high(); }

/// A value alone in its cache line (two threads writing neighbours do not share a line).
template <class T>
struct alignas(64) padded {
    T value{};
};

/// One counter per thread slot, each in its own cache line; the total is summed at read.
/// Writers use their own slot (relaxed adds on a line no other thread writes).
class striped_counter {
public:
    striped_counter() = default;
    striped_counter(const striped_counter&) = delete;
    striped_counter& operator=(const striped_counter&) = delete;

    /// Adds `by` to the stripe `slot`; returns the stripe's value before.
    std::int64_t add(std::size_t slot, std::int64_t by = 1) noexcept {
        return s_[slot].value.fetch_add(by, std::memory_order_relaxed);
    }
    /// Adds `by` to the stripe `slot` with release order (the last touch of something).
    void add_release(std::size_t slot, std::int64_t by) noexcept {
        s_[slot].value.fetch_add(by, std::memory_order_release);
    }
    /// The sum over every stripe in use.
    std::int64_t sum() const noexcept {
        std::int64_t n = 0;
        const std::size_t k = stripes_in_use();
        for (std::size_t i = 0; i < k; ++i) n += s_[i].value.load(std::memory_order_relaxed);
        return n;
    }

private:
    std::array<padded<std::atomic<std::int64_t>>, thread_slots> s_{};
};

}  // namespace salama::balancing::detail
