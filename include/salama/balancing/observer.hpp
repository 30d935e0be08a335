// salama: the outcome hook. Whoever cares about request outcomes (passive health, outlier
// detection, statistics) subscribes a callback; every reported outcome reaches it.
#pragma once

#include "salama/balancing/detail/rcu.hpp"
#include "salama/balancing/node.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace salama::balancing {

/// One reported outcome, as observers see it. The views are valid during the call only.
struct outcome_event {
    std::string_view node_id{};       ///< the node that served the request
    std::string_view address{};       ///< its address
    std::string_view request_type{};  ///< the pool it was picked from
    outcome result{};                 ///< latency and success
    time_point at{};                ///< when the caller reported it
};

/// A callback receiving outcomes. Called on the reporting thread; must be thread-safe and
/// quick. It may change health or eject nodes, but must not subscribe or unsubscribe.
using outcome_observer = std::function<void(const outcome_event&)>;

/// Holds observers and fans each outcome out to them. Thread-safe; notify() is lock-free.
class outcome_hub {
public:
    outcome_hub() : observers_(std::make_unique<const std::vector<entry>>()) {}

    /// Adds `f`; returns its id for remove().
    std::uint64_t add(outcome_observer f) {
        std::lock_guard lk(mu_);
        const std::uint64_t id = next_id_++;
        auto next = std::make_unique<std::vector<entry>>(*observers_.read());
        next->push_back({id, std::move(f)});
        count_.store(next->size(), std::memory_order_relaxed);
        observers_.store(std::move(next));
        return id;
    }

    /// Removes the observer `id` (no effect if absent).
    void remove(std::uint64_t id) {
        std::lock_guard lk(mu_);
        auto next = std::make_unique<std::vector<entry>>();
        {
            auto cur = observers_.read();
            for (const auto& e : *cur)
                if (e.id != id) next->push_back(e);
        }
        count_.store(next->size(), std::memory_order_relaxed);
        observers_.store(std::move(next));
    }

    /// Calls every observer with `ev`. An observer that throws is skipped and counted.
    void notify(const outcome_event& ev) const noexcept {
        auto cur = observers_.read();
        for (const auto& e : *cur) {
            try {
                e.fn(ev);
            } catch (...) {
                errors_.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }

    /// True if some observer may be subscribed (reporters skip building the event otherwise).
    bool any() const noexcept { return count_.load(std::memory_order_relaxed) != 0; }

    /// How many observer calls threw.
    std::uint64_t observer_errors() const noexcept { return errors_.load(std::memory_order_relaxed); }

private:
    struct entry {
        std::uint64_t id;
        outcome_observer fn;
    };
    detail::rcu_cell<std::vector<entry>> observers_;
    std::mutex mu_;
    std::uint64_t next_id_ = 1;
    mutable std::atomic<std::uint64_t> errors_{0};
    std::atomic<std::size_t> count_{0};
};

/// Keeps an observer subscribed while it lives (move-only). Outliving the balancer is safe.
class subscription {
public:
    subscription() = default;
    subscription(std::weak_ptr<outcome_hub> hub, std::uint64_t id) : hub_(std::move(hub)), id_(id) {}
    subscription(subscription&& o) noexcept : hub_(std::move(o.hub_)), id_(std::exchange(o.id_, 0)) {}
    subscription& operator=(subscription&& o) noexcept {
        if (this != &o) {
            reset();
            hub_ = std::move(o.hub_);
            id_ = std::exchange(o.id_, 0);
        }
        return *this;
    }
    ~subscription() { reset(); }

    /// Unsubscribes now.
    void reset() {
        if (id_ == 0) return;
        if (auto h = hub_.lock()) h->remove(id_);
        id_ = 0;
    }
    /// True while subscribed.
    bool active() const noexcept { return id_ != 0; }

private:
    std::weak_ptr<outcome_hub> hub_;
    std::uint64_t id_ = 0;
};

}  // namespace salama::balancing
