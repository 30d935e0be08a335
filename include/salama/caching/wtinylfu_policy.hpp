// salama: W-TinyLFU eviction and admission with a hill-climbing admission window.
#pragma once

#include "salama/caching/detail/hash.hpp"
#include "salama/caching/detail/node_list.hpp"
#include "salama/caching/frequency_sketch.hpp"
#include "salama/caching/policy_node.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace salama::caching {

/// W-TinyLFU as Caffeine (≥ 2.7) implements it. New entries enter a small LRU admission
/// window (1 % of the capacity at start); entries leaving the window are candidates for
/// the main space, a segmented LRU (probation 20 %, protected 80 %). A candidate is
/// admitted only if its estimated frequency (frequency_sketch) beats that of the probation
/// victim; warm candidates (frequency > 5) that lose are still admitted with probability
/// 1/128 so that an attacker cannot pin hot victims by flooding colliding hashes. Every
/// `10 × capacity` requests the hit rate of the last sample decides how the window moves
/// (hill climbing: step 6.25 % of the capacity, restarted when the hit rate changes by
/// 5 % or more, otherwise decayed by 0.98 per sample; the first step grows the window). The frequency sketch is created
/// once the cache is half full; sampling starts then. Not thread-safe (the cache
/// serializes); deterministic for a given seed.
class wtinylfu_policy {
public:
    /// Queue tags stored in policy_node::queue.
    enum queue_id : std::uint8_t { window = 1, probation = 2, protected_ = 3 };

    /// `capacity` is the maximum weighted size (> 0). `seed` feeds the random admission.
    /// `weighted` tells whether weights may differ from 1 (the sketch is then sized by the
    /// number of entries rather than the capacity).
    explicit wtinylfu_policy(std::uint64_t capacity, std::uint64_t seed = 0x5a1a3a,
                             bool weighted = false)
        : capacity_(capacity), weighted_(weighted), random_(seed) {
        validator{"wtinylfu_policy"}.check(capacity > 0, "capacity", "must be positive, got 0")
            .throw_if_failed();
        const auto main = static_cast<std::int64_t>(percent_main * static_cast<double>(capacity));
        window_max_ = static_cast<std::int64_t>(capacity) - main;
        protected_max_ = static_cast<std::int64_t>(percent_protected * static_cast<double>(main));
        // The window starts near its minimum, so the first step grows it: a first step
        // that shrinks it could move at most 1 % and would spend a whole sample on that.
        step_size_ = step_percent * static_cast<double>(capacity);
    }

    /// A new entry was inserted: it enters the admission window.
    void on_add(policy_node& n) {
        n.queue = window;
        window_list_.push_back(&n);
        window_size_ += n.weight;
        size_ += n.weight;
        ++entries_;
        if (size_ >= capacity_ / 2) sketch_.ensure_capacity(weighted_ ? entries_ : capacity_);
        sketch_.increment(n.hash);
        ++misses_in_sample_;
    }

    /// The entry was read: count it and move it up (probation → protected).
    void on_hit(policy_node& n) noexcept {
        sketch_.increment(n.hash);
        switch (n.queue) {
        case window: window_list_.move_to_back(&n); break;
        case probation:
            detail::node_list::unlink(&n);
            n.queue = protected_;
            protected_list_.push_back(&n);
            protected_size_ += n.weight;
            break;
        case protected_: protected_list_.move_to_back(&n); break;
        default: break;
        }
        ++hits_in_sample_;
    }

    /// The entry left the cache for another reason (erase, expiry).
    void on_remove(policy_node& n) noexcept {
        unlink(n);
        size_ -= n.weight;
        --entries_;
    }

    /// The entry's weight changed to `w`.
    void on_weight_change(policy_node& n, std::uint32_t w) noexcept {
        const auto old = static_cast<std::int64_t>(n.weight);
        const auto delta = static_cast<std::int64_t>(w) - old;
        if (n.queue == window) window_size_ += delta;
        if (n.queue == protected_) protected_size_ += delta;
        size_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(size_) + delta);
        n.weight = w;
    }

    /// Moves the window's overflow to probation, evicts until within capacity (`f(node&)`
    /// frees each victim, already unlinked), then runs the hill climber.
    template <class F>
    void evict(F&& f) {
        auto [first, count] = evict_from_window();
        evict_from_main(first, count, f);
        maintain();
    }

    /// Periodic work: adapts the window (hill climbing) and demotes protected overflow.
    void maintain() {
        determine_adjustment();
        demote_from_protected();
        if (adjustment_ > 0) increase_window();
        else if (adjustment_ < 0) decrease_window();
    }

    /// The maximum weighted size.
    std::uint64_t capacity() const noexcept { return capacity_; }
    /// The current weighted size.
    std::uint64_t weighted_size() const noexcept { return size_; }
    /// The current maximum weighted size of the admission window.
    std::uint64_t window_capacity() const noexcept { return static_cast<std::uint64_t>(window_max_); }
    /// The current maximum weighted size of the protected segment.
    std::uint64_t protected_capacity() const noexcept {
        return static_cast<std::uint64_t>(protected_max_);
    }
    /// The frequency sketch (read-only; for tests and diagnostics).
    const frequency_sketch& sketch() const noexcept { return sketch_; }

    /// Visits the nodes of queue `q` from least to most recently used.
    template <class F>
    void for_each(queue_id q, F&& f) const {
        const auto& l = list(q);
        for (auto* n = l.front(); n; n = l.after(n)) f(*n);
    }

private:
    static constexpr double percent_main = 0.99;
    static constexpr double percent_protected = 0.80;
    static constexpr double step_percent = 0.0625;
    static constexpr double step_decay = 0.98;
    static constexpr double restart_threshold = 0.05;
    static constexpr int transfer_limit = 1000;
    static constexpr unsigned warm_frequency = 5;

    const detail::node_list& list(queue_id q) const noexcept {
        return q == window ? window_list_ : q == probation ? probation_list_ : protected_list_;
    }
    detail::node_list& list(queue_id q) noexcept {
        return q == window ? window_list_ : q == probation ? probation_list_ : protected_list_;
    }
    policy_node* after(policy_node* n) noexcept { return list(static_cast<queue_id>(n->queue)).after(n); }

    void unlink(policy_node& n) noexcept {
        if (n.queue == window) window_size_ -= n.weight;
        if (n.queue == protected_) protected_size_ -= n.weight;
        detail::node_list::unlink(&n);
    }

    // Moves the window's overflow to the back of probation; those nodes are the candidates.
    std::pair<policy_node*, std::int64_t> evict_from_window() noexcept {
        policy_node* first = nullptr;
        std::int64_t count = 0;
        policy_node* n = window_list_.front();
        while (window_size_ > window_max_ && n) {
            policy_node* next = window_list_.after(n);
            detail::node_list::unlink(n);
            window_size_ -= n->weight;
            n->queue = probation;
            probation_list_.push_back(n);
            if (!first) first = n;
            ++count;
            n = next;
        }
        return {first, count};
    }

    bool admit(std::uint64_t candidate, std::uint64_t victim) noexcept {
        const unsigned victim_freq = sketch_.frequency(victim);
        const unsigned candidate_freq = sketch_.frequency(candidate);
        if (candidate_freq > victim_freq) return true;
        if (candidate_freq <= warm_frequency) return false;
        return (random_.next() & 127) == 0;
    }

    template <class F>
    void evict_one(policy_node* n, F& f) {
        on_remove(*n);
        f(*n);
    }

    // Candidates walk from the first moved node towards probation's back, victims from
    // probation's front; once probation is exhausted victims come from protected, then
    // from the window.
    template <class F>
    void evict_from_main(policy_node* candidate, std::int64_t candidates, F& f) {
        queue_id victim_queue = probation;
        policy_node* victim = probation_list_.front();
        while (size_ > capacity_) {
            if (candidates == 0) candidate = window_list_.front();
            if (!candidate && !victim) {
                if (victim_queue == probation) {
                    victim = protected_list_.front();
                    victim_queue = protected_;
                    continue;
                }
                if (victim_queue == protected_) {
                    victim = window_list_.front();
                    victim_queue = window;
                    continue;
                }
                break;
            }
            if (candidate == victim) {
                policy_node* next = after(candidate);
                --candidates;
                evict_one(candidate, f);
                candidate = victim = next;
                continue;
            }
            if (!victim) {
                policy_node* next = after(candidate);
                --candidates;
                evict_one(candidate, f);
                candidate = next;
                continue;
            }
            if (!candidate) {
                policy_node* next = after(victim);
                evict_one(victim, f);
                victim = next;
                continue;
            }
            if (candidate->weight > capacity_) {
                policy_node* next = after(candidate);
                --candidates;
                evict_one(candidate, f);
                candidate = next;
                continue;
            }
            --candidates;
            if (admit(candidate->hash, victim->hash)) {
                policy_node* next = after(victim);
                evict_one(victim, f);
                victim = next;
                candidate = after(candidate);
            } else {
                policy_node* next = after(candidate);
                evict_one(candidate, f);
                candidate = next;
            }
        }
    }

    void determine_adjustment() noexcept {
        if (!sketch_.initialized()) {
            previous_hit_rate_ = 0;
            hits_in_sample_ = misses_in_sample_ = 0;
            return;
        }
        const std::uint64_t requests = hits_in_sample_ + misses_in_sample_;
        if (requests < sketch_.sample_size()) return;
        const double hit_rate = static_cast<double>(hits_in_sample_) / static_cast<double>(requests);
        const double change = hit_rate - previous_hit_rate_;
        const double amount = change >= 0 ? step_size_ : -step_size_;
        const double next_step = std::abs(change) >= restart_threshold
                                     ? step_percent * static_cast<double>(capacity_) * (amount >= 0 ? 1 : -1)
                                     : step_decay * amount;
        previous_hit_rate_ = hit_rate;
        adjustment_ = static_cast<std::int64_t>(amount);
        step_size_ = next_step;
        hits_in_sample_ = misses_in_sample_ = 0;
    }

    void demote_from_protected() noexcept {
        for (int i = 0; i < transfer_limit && protected_size_ > protected_max_; ++i) {
            policy_node* n = protected_list_.front();
            if (!n) break;
            detail::node_list::unlink(n);
            protected_size_ -= n->weight;
            n->queue = probation;
            probation_list_.push_back(n);
        }
    }

    void increase_window() noexcept {
        if (protected_max_ == 0) return;
        std::int64_t quota = std::min(adjustment_, protected_max_);
        protected_max_ -= quota;
        window_max_ += quota;
        demote_from_protected();
        for (int i = 0; i < transfer_limit; ++i) {
            policy_node* n = probation_list_.front();
            bool from_probation = true;
            if (!n || quota < static_cast<std::int64_t>(n->weight)) {
                n = protected_list_.front();
                from_probation = false;
            }
            if (!n) break;
            const auto w = static_cast<std::int64_t>(n->weight);
            if (quota < w) break;
            quota -= w;
            detail::node_list::unlink(n);
            if (!from_probation) protected_size_ -= w;
            window_size_ += w;
            n->queue = window;
            window_list_.push_back(n);
        }
        protected_max_ += quota;
        window_max_ -= quota;
        adjustment_ = quota;
    }

    void decrease_window() noexcept {
        if (window_max_ <= 1) return;
        std::int64_t quota = std::min(-adjustment_, std::max<std::int64_t>(0, window_max_ - 1));
        protected_max_ += quota;
        window_max_ -= quota;
        for (int i = 0; i < transfer_limit; ++i) {
            policy_node* n = window_list_.front();
            if (!n) break;
            const auto w = static_cast<std::int64_t>(n->weight);
            if (quota < w) break;
            quota -= w;
            detail::node_list::unlink(n);
            window_size_ -= w;
            n->queue = probation;
            probation_list_.push_back(n);
        }
        protected_max_ -= quota;
        window_max_ += quota;
        adjustment_ = -quota;
    }

    std::uint64_t capacity_;
    bool weighted_;
    detail::split_mix random_;
    frequency_sketch sketch_;
    detail::node_list window_list_;
    detail::node_list probation_list_;
    detail::node_list protected_list_;
    std::uint64_t size_ = 0;
    std::uint64_t entries_ = 0;
    std::int64_t window_size_ = 0;
    std::int64_t protected_size_ = 0;
    std::int64_t window_max_ = 0;
    std::int64_t protected_max_ = 0;
    std::int64_t adjustment_ = 0;
    double step_size_ = 0;
    double previous_hit_rate_ = 0;
    std::uint64_t hits_in_sample_ = 0;
    std::uint64_t misses_in_sample_ = 0;
};

}  // namespace salama::caching
