// salama: least-recently-used eviction (admits everything).
#pragma once

#include "salama/caching/detail/node_list.hpp"
#include "salama/caching/policy_node.hpp"
#include "salama/core/validation.hpp"

#include <cstdint>

namespace salama::caching {

/// Plain LRU: every new entry is admitted; the least recently used entries are evicted
/// while the weighted size exceeds the capacity. Not thread-safe (the cache serializes).
class lru_policy {
public:
    /// `capacity` is the maximum weighted size (> 0); `seed` is unused (LRU is
    /// deterministic) and kept for a uniform constructor.
    explicit lru_policy(std::uint64_t capacity, std::uint64_t /*seed*/ = 0) : capacity_(capacity) {
        validator{"lru_policy"}.check(capacity > 0, "capacity", "must be positive, got 0")
            .throw_if_failed();
    }

    /// A new entry was inserted: it becomes the most recently used.
    void on_add(policy_node& n) noexcept {
        list_.push_back(&n);
        size_ += n.weight;
    }

    /// The entry was read (or overwritten): it becomes the most recently used.
    void on_hit(policy_node& n) noexcept { list_.move_to_back(&n); }

    /// The entry left the cache for another reason (erase, expiry).
    void on_remove(policy_node& n) noexcept {
        detail::node_list::unlink(&n);
        size_ -= n.weight;
    }

    /// The entry's weight changed to `w`.
    void on_weight_change(policy_node& n, std::uint32_t w) noexcept {
        size_ = size_ - n.weight + w;
        n.weight = w;
    }

    /// Evicts from the LRU end until within capacity; `f(node&)` frees each victim. An
    /// entry heavier than the whole capacity (only the newest can be) goes first, so that
    /// it does not flush everything else on its way out.
    template <class F>
    void evict(F&& f) {
        if (policy_node* newest = list_.back(); newest && newest->weight > capacity_) {
            on_remove(*newest);
            f(*newest);
        }
        while (size_ > capacity_) {
            policy_node* victim = list_.front();
            if (!victim) break;
            on_remove(*victim);
            f(*victim);
        }
    }

    /// Nothing to do periodically.
    void maintain() noexcept {}

    /// The maximum weighted size.
    std::uint64_t capacity() const noexcept { return capacity_; }
    /// The current weighted size.
    std::uint64_t weighted_size() const noexcept { return size_; }

    /// Visits nodes from least to most recently used (for tests and dumps).
    template <class F>
    void for_each(F&& f) const {
        for (auto* n = list_.front(); n; n = list_.after(n)) f(*n);
    }

private:
    std::uint64_t capacity_;
    std::uint64_t size_ = 0;
    detail::node_list list_;
};

}  // namespace salama::caching
