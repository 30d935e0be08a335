// salama: what a pick returns: the chosen node, and the way to report the outcome.
#pragma once

#include "salama/balancing/detail/pool_state.hpp"
#include "salama/balancing/node.hpp"
#include "salama/balancing/observer.hpp"

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace salama::balancing {

/// The node chosen for one request. While it lives the request counts as in flight on
/// the node (least-request, peak EWMA and bounded-load pickers see it). Report the outcome
/// once with report(); destroying it unreported just ends the request. Move-only. It may
/// be reported on another thread than the pick's, and after its node left or its balancer
/// was destroyed.
class pick_handle {
public:
    /// An empty handle (no node).
    pick_handle() = default;
    pick_handle(const pick_handle&) = delete;
    pick_handle& operator=(const pick_handle&) = delete;
    pick_handle(pick_handle&& o) noexcept
        : node_(std::exchange(o.node_, nullptr)), counters_(std::exchange(o.counters_, nullptr)),
          pool_(std::exchange(o.pool_, nullptr)), slot_(o.slot_) {}
    pick_handle& operator=(pick_handle&& o) noexcept {
        if (this != &o) {
            abandon();
            node_ = std::exchange(o.node_, nullptr);
            counters_ = std::exchange(o.counters_, nullptr);
            pool_ = std::exchange(o.pool_, nullptr);
            slot_ = o.slot_;
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

    /// Reports the outcome at `now`: feeds the node's peak EWMA, the pool's outcome
    /// counters, then every outcome observer. Ends the handle; a second call does nothing.
    /// Lock-free unless an observer locks.
    void report(const outcome& o, time_point now) noexcept {
        if (!active()) return;
        const std::size_t here = detail::thread_slot();
        const detail::balancer_shared& shared = *pool_->shared;
        // Through the counters, not the node's object: without observers a report does
        // not touch the node's object at all.
        counters_->record_latency(std::max(0.0, to_seconds(o.latency)), now, shared.ewma_tau);
        (o.success ? pool_->successes : pool_->failures).inc(here);
        if (shared.hub->any())
            shared.hub->notify(outcome_event{node_->id(), node_->address(), pool_->request_type, o, now});
        end();
    }

    /// Ends the request without an outcome (it was never sent, or was cancelled).
    void abandon() noexcept {
        if (active()) end();
    }

    /// Used by the balancer, inside the read of the snapshot that holds `node`: starts the
    /// request on `node` (whose hot counters are `counters`) in `pool`, counted on thread
    /// slot `slot`. The balancer keeps the node, its counters and the pool alive until the
    /// handle ends (see detail::balancer_shared).
    pick_handle(node_state& node, detail::node_counters& counters, detail::pool_state& pool,
                std::size_t slot) noexcept
        : node_(&node), counters_(&counters), pool_(&pool), slot_(slot) {
        counters_->pending_of(slot_).fetch_add(1, std::memory_order_relaxed);
        pool_->in_flight[slot_].value.fetch_add(1, std::memory_order_relaxed);
        pool_->picks.inc(slot_);
    }

    /// Prints "node <id>" (or "no node"), for logs and test output.
    template <class Ch, class Tr>
    friend std::basic_ostream<Ch, Tr>& operator<<(std::basic_ostream<Ch, Tr>& os, const pick_handle& h) {
        if (!h.node_) return os << "no node";
        return os << "node " << h.node_->id().c_str();
    }

private:
    // Ends the request on the slot it began on. The node's count drops first: once it can
    // reach zero the balancer may release a node that left the pool (release pairs with
    // the writer's acquire load). The pool's count drops last: it is what keeps the shared
    // state alive once the balancer is gone.
    void end() noexcept {
        detail::node_counters* c = std::exchange(counters_, nullptr);
        detail::pool_state* p = std::exchange(pool_, nullptr);
        node_ = nullptr;
        // counters_, node_ and pool_ are set and cleared together; testing each keeps
        // GCC's -Wstringop-overflow quiet about moved-from handles.
        if (c == nullptr || p == nullptr) return;
        c->pending_of(slot_).fetch_sub(1, std::memory_order_release);
        detail::balancer_shared* shared = p->shared;
        const std::int64_t before = p->in_flight[slot_].value.fetch_sub(1, std::memory_order_acq_rel);
        if (before & detail::pool_state::closed_bit) detail::balancer_shared::orphan_ended(shared);
    }

    // Plain pointers: the pick must not write anything another thread's pick writes.
    node_state* node_ = nullptr;
    detail::node_counters* counters_ = nullptr;
    detail::pool_state* pool_ = nullptr;
    std::size_t slot_ = 0;
};

}  // namespace salama::balancing
