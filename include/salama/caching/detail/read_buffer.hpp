// salama: striped, lossy buffers of recent reads, drained into the policy under a try-lock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace salama::caching::detail {

/// A small per-thread stripe index, assigned round-robin at a thread's first use so that
/// the first threads land on different stripes. Constant-initialized thread_local: no
/// initialization guard on the hot path.
inline std::uint32_t thread_stripe() noexcept {
    static std::atomic<std::uint32_t> next{0};
    thread_local constinit std::uint32_t id = ~std::uint32_t{0};
    if (id == ~std::uint32_t{0}) [[unlikely]]
        id = next.fetch_add(1, std::memory_order_relaxed) & 0x7fffffffU;
    return id;
}

/// Readers record the node they hit without taking the policy's lock; a reader that finds
/// its stripe full drains all stripes if it wins a try-lock, and records nothing if
/// another thread is racing it (the policy tolerates lost recency updates, as Caffeine's
/// does). Slots hold plain pointers: the cache frees nodes only under its exclusive lock,
/// after draining, and readers offer only under the shared lock.
template <class T, std::size_t Stripes = 4, std::size_t Slots = 16>
class read_buffer {
    static_assert((Stripes & (Stripes - 1)) == 0 && (Slots & (Slots - 1)) == 0);

public:
    /// What an offer did.
    enum class offer_result { added, full, contended };

    /// Records `p` in the calling thread's stripe (`stripe`, from thread_stripe()). `full` means the caller should drain.
    offer_result offer(T* p, std::uint32_t stripe = thread_stripe()) noexcept {
        auto& s = stripes_[stripe & (Stripes - 1)];
        const std::uint32_t head = s.head.load(std::memory_order_acquire);
        std::uint32_t tail = s.tail.load(std::memory_order_relaxed);
        if (tail - head >= Slots) return offer_result::full;
        if (!s.tail.compare_exchange_strong(tail, tail + 1, std::memory_order_relaxed))
            return offer_result::contended;
        s.slots[tail & (Slots - 1)].store(p, std::memory_order_release);
        return tail + 1 - head >= Slots ? offer_result::full : offer_result::added;
    }

    /// Hands every recorded pointer to `f` (the caller holds the drain lock or the cache's
    /// exclusive lock). A slot claimed but not yet written ends its stripe's drain.
    template <class F>
    void drain(F&& f) {
        for (auto& s : stripes_) drain(s, f);
    }

    /// As drain(), for the stripe `stripe` only (a reader's own).
    template <class F>
    void drain_stripe(std::uint32_t stripe, F&& f) {
        drain(stripes_[stripe & (Stripes - 1)], f);
    }

private:
    struct alignas(64) stripe {
        std::atomic<std::uint32_t> head{0};
        std::atomic<std::uint32_t> tail{0};
        std::array<std::atomic<T*>, Slots> slots{};
    };

    template <class F>
    static void drain(stripe& s, F& f) {
        std::uint32_t head = s.head.load(std::memory_order_relaxed);
        const std::uint32_t tail = s.tail.load(std::memory_order_acquire);
        for (; head != tail; ++head) {
            // No offer can claim this slot again before `head` moves past it, so a plain
            // load and store (no locked exchange) suffice.
            auto& slot = s.slots[head & (Slots - 1)];
            T* p = slot.load(std::memory_order_acquire);
            if (!p) break;
            slot.store(nullptr, std::memory_order_relaxed);
            f(p);
        }
        s.head.store(head, std::memory_order_release);
    }
    std::array<stripe, Stripes> stripes_{};
};

}  // namespace salama::caching::detail
