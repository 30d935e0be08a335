// salama: what a pick returns: the chosen node, and the way to report the outcome.
#pragma once

#include "salama/balancing/detail/pool_state.hpp"
#include "salama/balancing/node.hpp"
#include "salama/balancing/observer.hpp"

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace salama::balancing {

/// The node chosen for one request. While it lives the request counts as in flight on
/// the node (least-request, peak EWMA and bounded-load pickers see it). Report the outcome
/// once with report(); destroying it unreported just ends the request. Move-only.
class pick_handle {
public:
    /// An empty handle (no node).
    pick_handle() = default;
    pick_handle(const pick_handle&) = delete;
    pick_handle& operator=(const pick_handle&) = delete;
    pick_handle(pick_handle&& o) noexcept
        : node_(std::exchange(o.node_, nullptr)), counters_(std::exchange(o.counters_, nullptr)),
          pool_(std::move(o.pool_)) {}
    pick_handle& operator=(pick_handle&& o) noexcept {
        if (this != &o) {
            abandon();
            node_ = std::exchange(o.node_, nullptr);
            counters_ = std::exchange(o.counters_, nullptr);
            pool_ = std::move(o.pool_);
        }
        return *this;
    }
    ~pick_handle() { abandon(); }

    /// True while it holds a node whose outcome is not reported yet.
    bool active() const noexcept { return node_ != nullptr; }
    explicit operator bool() const noexcept { return active(); }

    /// The chosen node's id (the handle must be active).
    const std::string& node_id() const noexcept { return node_->id(); }
    /// The chosen node's address (the handle must be active).
    const std::string& address() const noexcept { return node_->address(); }
    /// The pool the node was picked from (the handle must be active).
    std::string_view request_type() const noexcept { return pool_->request_type; }
    /// The node's live counters (the handle must be active).
    const node_state& node() const noexcept { return *node_; }

    /// Reports the outcome at `now`: feeds the node's counters and peak EWMA, then every
    /// outcome observer. Ends the handle; a second call does nothing.
    void report(const outcome& o, time_point now) noexcept {
        node_state* node = std::exchange(node_, nullptr);
        detail::node_counters* counters = std::exchange(counters_, nullptr);
        if (node == nullptr || counters == nullptr) return;
        auto pool = std::move(pool_);
        node->record(o, now, pool->shared->ewma_tau);
        pool->in_flight.fetch_sub(1, std::memory_order_relaxed);
        if (auto* c = o.success ? pool->successes : pool->failures) (void)c->inc();
        pool->shared->hub->notify(outcome_event{node->id(), node->address(), pool->request_type, o, now});
        end(*counters);
    }

    /// Ends the request without an outcome (it was never sent, or was cancelled).
    void abandon() noexcept {
        detail::node_counters* counters = std::exchange(counters_, nullptr);
        // node_, counters_ and pool_ are set and cleared together; testing each keeps
        // GCC's -Wstringop-overflow quiet about moved-from handles.
        if (counters == nullptr || node_ == nullptr || pool_ == nullptr) return;
        pool_->in_flight.fetch_sub(1, std::memory_order_relaxed);
        node_ = nullptr;
        end(*counters);
        pool_.reset();
    }

    /// Used by the balancer: starts the request on `node` (whose hot counters are
    /// `counters`) in `pool`. The node must stay alive until the handle ends: the balancer
    /// pins it in `pool->shared`, which the handle keeps alive.
    pick_handle(node_state& node, detail::node_counters& counters, std::shared_ptr<detail::pool_state> pool) noexcept
        : node_(&node), counters_(&counters), pool_(std::move(pool)) {
        counters_->pending.fetch_add(1, std::memory_order_relaxed);
        pool_->in_flight.fetch_add(1, std::memory_order_relaxed);
        if (pool_->picks) (void)pool_->picks->inc();
    }

    /// Prints "node <id>" (or "no node"), for logs and test output.
    template <class Ch, class Tr>
    friend std::basic_ostream<Ch, Tr>& operator<<(std::basic_ostream<Ch, Tr>& os, const pick_handle& h) {
        if (!h.node_) return os << "no node";
        return os << "node " << h.node_->id().c_str();
    }

private:
    // The last touch of the node: once its in-flight count can reach zero, the balancer
    // may release a node that left the pool (release pairs with its acquire load).
    static void end(detail::node_counters& c) noexcept { c.pending.fetch_sub(1, std::memory_order_release); }

    // Plain pointers: the pick must not touch the node's object (see balancer_shared::pinned).
    node_state* node_ = nullptr;
    detail::node_counters* counters_ = nullptr;
    std::shared_ptr<detail::pool_state> pool_;
};

}  // namespace salama::balancing
