// salama: peak EWMA latency times (pending + 1), as Finagle and Linkerd balance.
#pragma once

#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/request.hpp"
#include "salama/balancing/scorer.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace salama::balancing {

/// Options of peak_ewma_scorer.
struct peak_ewma_options {
    /// The latency assumed for a node without reported outcomes (Linkerd: 30 ms).
    duration default_rtt = std::chrono::milliseconds(30);
    /// How fast a node's estimate decays toward zero while no outcome arrives (Finagle's
    /// and Linkerd's 10 s), applied at read with the request's `now`; a request without
    /// `now` sees the estimate as of the last outcome. Keep it equal to
    /// `balancer_options::peak_ewma_tau`, which averages the outcomes.
    duration decay_tau = std::chrono::seconds(10);
};

/// Score = -(estimate * (pending + 1)): the lowest expected cost wins. The estimate jumps to
/// a new peak and averages smaller latencies in with `w = exp(-dt / tau)` as outcomes
/// arrive (see node_state::record); between outcomes it decays toward zero, so a node that
/// was slow once and then got no traffic is tried again, as Finagle and Linkerd do. They
/// write the decayed value back on every read; here the read computes it and writes
/// nothing, so picks stay read-only.
class peak_ewma_scorer {
public:
    /// Validates `opts` (throws config_error naming the field).
    explicit peak_ewma_scorer(peak_ewma_options opts = {}) : opts_(opts) {
        validator v{"peak_ewma_options"};
        v.non_negative("default_rtt", to_seconds(opts_.default_rtt));
        v.positive("decay_tau", to_seconds(opts_.decay_tau));
        v.throw_if_failed();
        default_s_ = to_seconds(opts_.default_rtt);
        inv_tau_ = 1.0 / to_seconds(opts_.decay_tau);
    }

    /// The node's latency estimate in seconds at `now` (the default RTT before any
    /// outcome; no decay for `now` at or before the last outcome, or unset).
    double estimate(const node_entry& n, time_point now) const noexcept {
        const auto v = n.peak_ewma_seconds();
        if (!v) return default_s_;
        const time_point stamp = n.peak_ewma_stamp();
        if (now == time_point{} || now <= stamp) return *v;
        return *v * std::exp(-to_seconds(now - stamp) * inv_tau_);
    }

    /// The node's load at `now`: estimate * (pending + 1), with the requests in flight
    /// as the calling thread sees them (node_entry::pending_seen).
    double load(const node_entry& n, time_point now) const noexcept {
        return estimate(n, now) * (static_cast<double>(std::max<std::int64_t>(0, n.pending_seen())) + 1.0);
    }

    /// Minus the load at the request's `now`.
    double score(const node_entry& n, const request& r) const noexcept { return -load(n, r.now); }

    /// The options in use.
    const peak_ewma_options& options() const noexcept { return opts_; }

private:
    peak_ewma_options opts_;
    double default_s_ = 0.03;
    double inv_tau_ = 0.1;
};

static_assert(scorer<peak_ewma_scorer>);

}  // namespace salama::balancing
