// salama: peak EWMA latency times (pending + 1), as Finagle and Linkerd balance.
#pragma once

#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/request.hpp"
#include "salama/balancing/scorer.hpp"
#include "salama/core/validation.hpp"

#include <chrono>

namespace salama::balancing {

/// Options of peak_ewma_scorer. The EWMA's time constant is the balancer's
/// `balancer_options::peak_ewma_tau` (10 s), applied when outcomes are reported.
struct peak_ewma_options {
    /// The latency assumed for a node without reported outcomes (Linkerd: 30 ms).
    duration default_rtt = std::chrono::milliseconds(30);
};

/// Score = -(ewma * (pending + 1)): the lowest expected cost wins. The EWMA jumps to a new
/// peak and decays with `w = exp(-dt / tau)` as outcomes arrive (see node_state::finish).
class peak_ewma_scorer {
public:
    /// Validates `opts` (throws config_error naming the field).
    explicit peak_ewma_scorer(peak_ewma_options opts = {}) : opts_(opts) {
        validator v{"peak_ewma_options"};
        v.non_negative("default_rtt", to_seconds(opts_.default_rtt));
        v.throw_if_failed();
        default_s_ = to_seconds(opts_.default_rtt);
    }

    /// The node's load: ewma seconds * (pending + 1).
    double load(const node_entry& n) const noexcept {
        const double rtt = n.peak_ewma_seconds().value_or(default_s_);
        return rtt * (static_cast<double>(std::max<std::int64_t>(0, n.pending())) + 1.0);
    }

    /// Minus the load.
    double score(const node_entry& n, const request&) const noexcept { return -load(n); }

private:
    peak_ewma_options opts_;
    double default_s_ = 0.03;
};

static_assert(scorer<peak_ewma_scorer>);

}  // namespace salama::balancing
