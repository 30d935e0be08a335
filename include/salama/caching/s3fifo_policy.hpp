// salama: S3-FIFO eviction (a small FIFO, a main FIFO and a ghost queue of keys).
#pragma once

#include "salama/caching/detail/node_list.hpp"
#include "salama/caching/policy_node.hpp"
#include "salama/core/validation.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace salama::caching {

/// S3-FIFO (Yang et al., SOSP 2023). New keys enter a small FIFO (10 % of the capacity);
/// when one leaves it, it moves to the main FIFO if it was read while there, otherwise its
/// key hash goes to a ghost queue (hashes only, as many as the main FIFO holds entries). A
/// new key found in the ghost queue goes straight to main. Main evicts in FIFO order, but
/// an entry read since it was last examined (a 2-bit frequency, > 0) is reinserted with
/// its frequency decremented. Not thread-safe (the cache serializes); deterministic.
class s3fifo_policy {
public:
    /// Queue tags stored in the low bits of policy_node::queue (the 2-bit frequency sits
    /// above them).
    enum queue_id : std::uint8_t { small = 1, main = 2 };

    /// `capacity` is the maximum weighted size (> 0); `seed` is unused (S3-FIFO is
    /// deterministic) and kept for a uniform constructor.
    explicit s3fifo_policy(std::uint64_t capacity, std::uint64_t /*seed*/ = 0) : capacity_(capacity) {
        validator{"s3fifo_policy"}.check(capacity > 0, "capacity", "must be positive, got 0")
            .throw_if_failed();
        small_max_ = std::max<std::uint64_t>(1, capacity / 10);
        ghost_.assign(std::max<std::uint64_t>(1, capacity - std::min(capacity - 1, small_max_)), 0);
    }

    /// A new entry: to main if its key was recently evicted from small, else to small.
    void on_add(policy_node& n) {
        size_ += n.weight;
        if (ghost_contains(n.hash)) {
            set(n, main, 0);
            main_list_.push_back(&n);
        } else {
            set(n, small, 0);
            small_list_.push_back(&n);
            small_size_ += n.weight;
        }
    }

    /// The entry was read: its frequency rises (saturating at 3); nothing moves.
    void on_hit(policy_node& n) noexcept {
        const unsigned f = frequency(n);
        if (f < 3) set(n, queue_of(n), f + 1);
    }

    /// The entry left the cache for another reason (erase, expiry).
    void on_remove(policy_node& n) noexcept {
        if (queue_of(n) == small) small_size_ -= n.weight;
        detail::node_list::unlink(&n);
        size_ -= n.weight;
    }

    /// The entry's weight changed to `w`.
    void on_weight_change(policy_node& n, std::uint32_t w) noexcept {
        if (queue_of(n) == small) small_size_ = small_size_ - n.weight + w;
        size_ = size_ - n.weight + w;
        n.weight = w;
    }

    /// Evicts until within capacity; `f(node&)` frees each victim (already unlinked).
    template <class F>
    void evict(F&& f) {
        while (size_ > capacity_) {
            if (!small_list_.empty() && (small_size_ >= small_max_ || main_list_.empty())) {
                policy_node* n = small_list_.front();
                detail::node_list::unlink(n);
                small_size_ -= n->weight;
                if (frequency(*n) > 0) {
                    set(*n, main, 0);
                    main_list_.push_back(n);
                } else {
                    ghost_insert(n->hash);
                    size_ -= n->weight;
                    f(*n);
                }
                continue;
            }
            policy_node* n = main_list_.front();
            if (!n) break;
            detail::node_list::unlink(n);
            if (const unsigned freq = frequency(*n); freq > 0) {
                set(*n, main, freq - 1);
                main_list_.push_back(n);
            } else {
                size_ -= n->weight;
                f(*n);
            }
        }
    }

    /// Nothing to do periodically.
    void maintain() noexcept {}

    /// The maximum weighted size.
    std::uint64_t capacity() const noexcept { return capacity_; }
    /// The current weighted size.
    std::uint64_t weighted_size() const noexcept { return size_; }
    /// The weighted size of the small FIFO.
    std::uint64_t small_size() const noexcept { return small_size_; }
    /// Which queue holds `n`.
    static queue_id queue_of(const policy_node& n) noexcept { return static_cast<queue_id>(n.queue & 3); }
    /// The 2-bit frequency of `n`.
    static unsigned frequency(const policy_node& n) noexcept { return (n.queue >> 2) & 3; }
    /// True if a key with hash `h` is remembered by the ghost queue.
    bool ghost_contains(std::uint64_t h) const noexcept {
        const auto it = ghost_index_.find(h);
        return it != ghost_index_.end() && ghost_seq_ - it->second <= ghost_.size();
    }

private:
    static void set(policy_node& n, queue_id q, unsigned f) noexcept {
        n.queue = static_cast<std::uint8_t>(q | (f << 2));
    }

    // A ring of hashes; the index maps a hash to the sequence number of its latest
    // insertion, so an entry overwritten in the ring is dropped from the index only if
    // no newer insertion of the same hash exists.
    void ghost_insert(std::uint64_t h) {
        const std::size_t slot = ghost_seq_ % ghost_.size();
        if (ghost_seq_ >= ghost_.size()) {
            const std::uint64_t old = ghost_[slot];
            if (auto it = ghost_index_.find(old);
                it != ghost_index_.end() && it->second == ghost_seq_ - ghost_.size() + 1)
                ghost_index_.erase(it);
        }
        ghost_[slot] = h;
        ++ghost_seq_;
        ghost_index_[h] = ghost_seq_;
    }

    std::uint64_t capacity_;
    std::uint64_t small_max_ = 1;
    std::uint64_t size_ = 0;
    std::uint64_t small_size_ = 0;
    detail::node_list small_list_;
    detail::node_list main_list_;
    std::vector<std::uint64_t> ghost_;
    std::uint64_t ghost_seq_ = 0;
    boost::unordered_flat_map<std::uint64_t, std::uint64_t> ghost_index_;
};

}  // namespace salama::caching
