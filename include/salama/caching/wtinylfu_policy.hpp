// salama: W-TinyLFU eviction and admission with an admission window chosen by shadow caches.
#pragma once

#include "salama/caching/detail/hash.hpp"
#include "salama/caching/detail/node_list.hpp"
#include "salama/caching/detail/shadow_cache.hpp"
#include "salama/caching/frequency_sketch.hpp"
#include "salama/caching/policy_node.hpp"
#include "salama/caching/window_controller.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace salama::caching {

/// Settings of a wtinylfu_policy.
struct wtinylfu_options {
    /// The admission window's share of the capacity at start when not `adaptive` (an
    /// adaptive window starts at the controller's first candidate, 1 % by default).
    double initial_window = 0.01;
    /// Whether the window adapts (window_controller); false keeps it at `initial_window`.
    bool adaptive = true;
    /// The controller's settings (used when `adaptive`).
    window_controller_options controller{};
    /// Shards of one cache share one decision: the leader (one shard) runs the shadows
    /// and publishes the chosen candidate here; followers run none and take it each
    /// sample, so the shadows cost one shard's share of the requests. Null: the policy
    /// decides alone (a one-shard cache, a replay). memory_cache sets both fields.
    std::atomic<std::size_t>* shared_choice = nullptr;
    /// See shared_choice.
    bool leader = true;

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator{"wtinylfu_options"}
            .check(std::isfinite(initial_window) && initial_window > 0 && initial_window <= 1,
                   "initial_window", fmt::format("must be in (0, 1], got {}", initial_window))
            .throw_if_failed();
        controller.validate();
    }
};

/// W-TinyLFU as Caffeine implements it. New entries enter a small LRU admission window
/// (1 % of the capacity at start); entries leaving the window are candidates for the main
/// space, a segmented LRU (probation 20 %, protected 80 %). A candidate is admitted only
/// if its estimated frequency (frequency_sketch) beats that of the probation victim; warm
/// candidates (frequency > 5) that lose are still admitted with probability 1/128 so that
/// an attacker cannot pin hot victims by flooding colliding hashes.
///
/// The window adapts by measurement rather than by climbing: beside the cache run small
/// shadow W-TinyLFU caches with fixed windows (window_controller_options::candidates:
/// 1 %, 4 %, 15 %, 40 %, 80 %, 99 %), fed a hash-sampled slice of the same requests and
/// scaled down by the same factor. Every `4 × capacity` requests the window_controller
/// moves the window to the candidate whose shadow earned clearly more hits. A fixed 1 %
/// window and an LRU-like 99 % window being candidates, the cache follows the better of
/// them instead of guessing a direction. Not thread-safe (the cache serializes);
/// deterministic for a given seed.
class wtinylfu_policy {
public:
    /// Queue tags stored in policy_node::queue.
    enum queue_id : std::uint8_t { window = 1, probation = 2, protected_ = 3 };

    /// The largest capacity: the sizing arithmetic stays exact in signed 64-bit below it.
    static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 62;

    /// `capacity` is the maximum weighted size (in (0, 2^62]). `seed` feeds the random
    /// admission. `weighted` tells whether weights may differ from 1 (the sketch is then
    /// sized by the number of entries rather than the capacity).
    explicit wtinylfu_policy(std::uint64_t capacity, std::uint64_t seed = 0x5a1a3a,
                             bool weighted = false, wtinylfu_options options = {})
        : capacity_(capacity), weighted_(weighted), random_(seed),
          controller_((options.validate(), options.controller)), adaptive_(options.adaptive),
          shared_choice_(options.shared_choice), leader_(options.leader || !options.shared_choice) {
        validator{"wtinylfu_policy"}
            .check(capacity > 0, "capacity", "must be positive, got 0")
            .check(capacity <= max_capacity, "capacity",
                   fmt::format("must be at most 2^62 ({}), got {}", max_capacity, capacity))
            .throw_if_failed();
        window_max_ = window_for(adaptive_ ? controller_.window_fraction() : options.initial_window);
        protected_max_ = protected_for(window_max_);
        if (!adaptive_) return;
        sample_size_ = controller_.sample_size(capacity);
        if (!leader_) return;
        shadow_divisor_ = controller_.shadow_divisor(capacity);
        const std::uint64_t shadow_capacity = std::max<std::uint64_t>(1, capacity / shadow_divisor_);
        const auto& candidates = controller_.options().candidates;
        shadows_.reserve(candidates.size());
        for (std::size_t i = 0; i < candidates.size(); ++i)
            shadows_.push_back(std::make_unique<shadow>(
                shadow_capacity, seed + 1 + i, weighted,
                wtinylfu_options{.initial_window = candidates[i], .adaptive = false}));
        shadow_hits_.assign(candidates.size(), 0);
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
        observe(n);
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
        observe(n);
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
    /// frees each victim, already unlinked), then adapts the window.
    template <class F>
    void evict(F&& f) {
        auto [first, count] = evict_from_window();
        evict_from_main(first, count, f);
        maintain();
    }

    /// Periodic work: adapts the window (once per sample) and demotes protected overflow.
    void maintain() {
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
    /// The window controller (its current candidate and scores; for diagnostics).
    const window_controller& controller() const noexcept { return controller_; }
    /// The number of shadow caches (0 when the window is fixed or another shard leads).
    std::size_t shadow_count() const noexcept { return shadows_.size(); }
    /// The shadows' sampling divisor: they see one key in this many (1 when fixed).
    std::uint64_t shadow_divisor() const noexcept { return shadow_divisor_; }
    /// The frequency sketch (read-only; for tests and diagnostics).
    const frequency_sketch& sketch() const noexcept { return sketch_; }

    /// Visits the nodes of queue `q` from least to most recently used.
    template <class F>
    void for_each(queue_id q, F&& f) const {
        const auto& l = list(q);
        for (auto* n = l.front(); n; n = l.after(n)) f(*n);
    }

private:
    static constexpr double percent_protected = 0.80;
    static constexpr int transfer_limit = 1000;
    static constexpr unsigned warm_frequency = 5;

    using shadow = detail::shadow_cache<wtinylfu_policy>;

    // The window (in weight units) for a fraction of the capacity, and the protected
    // segment's share (80 %) of the main space that remains.
    std::int64_t window_for(double fraction) const noexcept {
        const auto main = static_cast<std::int64_t>((1.0 - fraction) * static_cast<double>(capacity_));
        return std::max<std::int64_t>(1, static_cast<std::int64_t>(capacity_) - main);
    }
    std::int64_t protected_for(std::int64_t window) const noexcept {
        const std::int64_t main = std::max<std::int64_t>(0, static_cast<std::int64_t>(capacity_) - window);
        return static_cast<std::int64_t>(percent_protected * static_cast<double>(main));
    }

    // Feeds the request to the shadows (if its key is in their slice) and closes the
    // sample when it is complete.
    void observe(const policy_node& n) {
        if (!adaptive_) return;
        if (leader_ && (shadow_divisor_ == 1 ||
                        (detail::mix64(n.hash ^ 0x5bd1e9955bd1e995ULL) & (shadow_divisor_ - 1)) == 0))
            for (std::size_t i = 0; i < shadows_.size(); ++i) shadow_hits_[i] += shadows_[i]->access(n.hash, n.weight);
        // Samples start once the cache is first full: while it fills, every candidate
        // keeps what it admits and their differences say nothing about the workload.
        if (!filled_) {
            if (size_ < capacity_) return;
            filled_ = true;
            std::fill(shadow_hits_.begin(), shadow_hits_.end(), 0);
            return;
        }
        if (++requests_in_sample_ < sample_size_) return;
        requests_in_sample_ = 0;
        std::size_t pick = 0;
        if (leader_) {
            pick = controller_.on_sample(shadow_hits_);
            std::fill(shadow_hits_.begin(), shadow_hits_.end(), 0);
            if (shared_choice_) shared_choice_->store(pick, std::memory_order_relaxed);
        } else {
            pick = std::min(shared_choice_->load(std::memory_order_relaxed),
                            controller_.options().candidates.size() - 1);
        }
        adjustment_ = window_for(controller_.options().candidates[pick]) - window_max_;
    }

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

    // Grows the window by up to adjustment_, moving the oldest main entries into it; what
    // cannot move yet (at most transfer_limit entries per call) stays in adjustment_.
    void increase_window() noexcept {
        std::int64_t quota = std::min(adjustment_, static_cast<std::int64_t>(capacity_) - window_max_);
        if (quota <= 0) {
            adjustment_ = 0;
            return;
        }
        window_max_ += quota;
        protected_max_ = protected_for(window_max_);
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
        // The cache is not full yet: the window keeps its new size and fills with new entries.
        if (probation_list_.empty() && protected_list_.empty()) quota = 0;
        window_max_ -= quota;
        protected_max_ = protected_for(window_max_);
        adjustment_ = quota;
    }

    // Shrinks the window by -adjustment_, demoting its oldest entries to probation.
    void decrease_window() noexcept {
        std::int64_t quota = std::min(-adjustment_, std::max<std::int64_t>(0, window_max_ - 1));
        if (quota <= 0) {
            adjustment_ = 0;
            return;
        }
        window_max_ -= quota;
        protected_max_ = protected_for(window_max_);
        for (int i = 0; i < transfer_limit && window_size_ > window_max_; ++i) {
            policy_node* n = window_list_.front();
            if (!n) break;
            const auto w = static_cast<std::int64_t>(n->weight);
            detail::node_list::unlink(n);
            window_size_ -= w;
            n->queue = probation;
            probation_list_.push_back(n);
        }
        // Any overflow left goes to probation with the next eviction.
        adjustment_ = 0;
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
    window_controller controller_;
    bool adaptive_ = true;
    std::atomic<std::size_t>* shared_choice_ = nullptr;
    bool leader_ = true;
    std::uint64_t sample_size_ = 0;
    std::uint64_t requests_in_sample_ = 0;
    bool filled_ = false;
    std::uint64_t shadow_divisor_ = 1;
    std::vector<std::unique_ptr<shadow>> shadows_;
    std::vector<std::uint64_t> shadow_hits_;
};

}  // namespace salama::caching
