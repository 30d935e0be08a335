// salama: a reader-writer lock whose readers touch only their own cache line.
#pragma once

#include "salama/caching/detail/read_buffer.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace salama::caching::detail {

/// Readers count themselves in a per-thread stripe (the same striping as the read
/// buffers), so that concurrent readers of one shard never write a shared cache line;
/// a writer takes the writer flag (one writer at a time) and waits for every stripe to
/// drain. Readers that see the flag back off until the writer is done. Meets
/// SharedLockable and Lockable, so std::shared_lock and std::unique_lock work with it.
/// Writers should hold it briefly: waiting is by spinning, then yielding.
template <std::size_t Stripes = 4>
class striped_lock {
    static_assert((Stripes & (Stripes - 1)) == 0);

public:
    void lock_shared() noexcept { lock_shared(thread_stripe()); }

    void unlock_shared() noexcept { unlock_shared(thread_stripe()); }

    /// As lock_shared(), with the caller's thread_stripe() already at hand.
    void lock_shared(std::uint32_t stripe) noexcept {
        auto& s = slots_[stripe & (Stripes - 1)].readers;
        for (;;) {
            s.fetch_add(1, std::memory_order_seq_cst);
            if (!writer_.load(std::memory_order_seq_cst)) return;
            s.fetch_sub(1, std::memory_order_release);
            for (unsigned spins = 0; writer_.load(std::memory_order_relaxed); ++spins) backoff(spins);
        }
    }

    /// Releases a shared hold taken with the same `stripe`.
    void unlock_shared(std::uint32_t stripe) noexcept {
        slots_[stripe & (Stripes - 1)].readers.fetch_sub(1, std::memory_order_release);
    }

    void lock() noexcept {
        for (unsigned spins = 0;; ++spins) {
            bool expected = false;
            if (!writer_.load(std::memory_order_relaxed) &&
                writer_.compare_exchange_weak(expected, true, std::memory_order_seq_cst))
                break;
            backoff(spins);
        }
        wait_for_readers();
    }

    bool try_lock() noexcept {
        bool expected = false;
        if (!writer_.compare_exchange_strong(expected, true, std::memory_order_seq_cst)) return false;
        wait_for_readers();
        return true;
    }

    void unlock() noexcept { writer_.store(false, std::memory_order_release); }

private:
    // Writers hold the lock for a short, bounded time: spinning beats sleeping in the
    // kernel (a futex wake costs microseconds), and yielding keeps an oversubscribed
    // machine moving.
    static void backoff(unsigned spins) noexcept {
        if (spins >= 32) std::this_thread::yield();
    }

    void wait_for_readers() noexcept {
        for (auto& s : slots_)
            for (unsigned spins = 0; s.readers.load(std::memory_order_seq_cst) != 0; ++spins) backoff(spins);
    }

    struct alignas(64) slot {
        std::atomic<std::uint32_t> readers{0};
    };
    std::array<slot, Stripes> slots_{};
    alignas(64) std::atomic<bool> writer_{false};
};

}  // namespace salama::caching::detail
