// salama: a read-copy-update cell. Readers get the current immutable value without a lock
// or an allocation; a writer swaps in a new value and reclaims the old one once every
// reader that could still see it has left.
#pragma once

#include "salama/balancing/detail/thread_slot.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace salama::balancing::detail {

/// Readers are spread over one counter per thread slot and epoch parity, so that threads
/// do not all increment the same cache line.
inline constexpr std::size_t rcu_reader_slots = thread_slots;

/// Holds a `const T` that readers see without locking. Readers announce themselves on a
/// counter of the current epoch's parity; a writer publishes the new value, moves the
/// epoch on and waits until the old parity's counters drain. Writers are serialized.
/// A reader must not publish on the same cell while it holds a guard (it would wait for
/// itself).
template <class T>
class rcu_cell {
public:
    /// Starts with `initial` (must not be null).
    explicit rcu_cell(std::unique_ptr<const T> initial) : value_(initial.release()) {}
    rcu_cell(const rcu_cell&) = delete;
    rcu_cell& operator=(const rcu_cell&) = delete;
    ~rcu_cell() { delete value_.load(std::memory_order_acquire); }

    /// Keeps the value it points to alive while it exists. Move-only.
    class guard {
    public:
        guard(guard&& o) noexcept : cell_(std::exchange(o.cell_, nullptr)), slot_(o.slot_), value_(o.value_) {}
        guard& operator=(guard&&) = delete;
        ~guard() {
            if (cell_) cell_->readers_[slot_].n.fetch_sub(1, std::memory_order_release);
        }
        /// The value seen when the guard was taken.
        const T& operator*() const noexcept { return *value_; }
        const T* operator->() const noexcept { return value_; }
        const T* get() const noexcept { return value_; }

    private:
        friend class rcu_cell;
        guard(const rcu_cell* c, std::size_t slot, const T* v) noexcept : cell_(c), slot_(slot), value_(v) {}
        const rcu_cell* cell_;
        std::size_t slot_;
        const T* value_;
    };

    /// The current value, kept alive until the guard goes. Lock-free: it retries only
    /// when a writer moved the epoch between its two reads.
    guard read() const noexcept {
        const std::size_t slot = thread_slot();
        for (;;) {
            const std::uint64_t e = epoch_.load(std::memory_order_seq_cst);
            const std::size_t i = (e & 1U) * rcu_reader_slots + slot;
            readers_[i].n.fetch_add(1, std::memory_order_seq_cst);
            if (epoch_.load(std::memory_order_seq_cst) == e)
                return guard(this, i, value_.load(std::memory_order_seq_cst));
            readers_[i].n.fetch_sub(1, std::memory_order_release);
        }
    }

    /// Publishes `next` (not null) and returns the previous value once no reader can
    /// still be using it.
    std::unique_ptr<const T> exchange(std::unique_ptr<const T> next) {
        std::lock_guard lk(write_mu_);
        const T* old = value_.exchange(next.release(), std::memory_order_seq_cst);
        const std::uint64_t e = epoch_.fetch_add(1, std::memory_order_seq_cst);
        // Every reader that could have loaded `old` registered under parity e before the
        // epoch moved; readers arriving later use the other parity or retry.
        const std::size_t base = (e & 1U) * rcu_reader_slots;
        for (std::size_t i = 0; i < rcu_reader_slots; ++i)
            while (readers_[base + i].n.load(std::memory_order_acquire) != 0) std::this_thread::yield();
        return std::unique_ptr<const T>(old);
    }

    /// Publishes `next` and destroys the previous value.
    void store(std::unique_ptr<const T> next) { exchange(std::move(next)).reset(); }

private:
    struct alignas(64) counter {
        std::atomic<std::int64_t> n{0};
    };
    std::atomic<const T*> value_;
    std::atomic<std::uint64_t> epoch_{0};
    mutable counter readers_[2 * rcu_reader_slots];
    std::mutex write_mu_;
};

}  // namespace salama::balancing::detail
