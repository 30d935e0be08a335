// salama: least outstanding requests, weighted as Envoy does: weight / (pending + 1)^bias.
#pragma once

#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/request.hpp"
#include "salama/balancing/scorer.hpp"
#include "salama/core/validation.hpp"

#include <cmath>

namespace salama::balancing {

/// Options of least_request_scorer.
struct least_request_options {
    /// Exponent on (pending + 1), >= 0 (Envoy's active_request_bias, default 1). With 0,
    /// only weights count; larger values favour idle nodes more strongly.
    double active_request_bias = 1.0;
    /// Ignore weights: score = -pending (plain least outstanding requests).
    bool ignore_weights = false;
};

/// Higher score for fewer requests in flight.
class least_request_scorer {
public:
    /// Validates `opts` (throws config_error naming the field).
    explicit least_request_scorer(least_request_options opts = {}) : opts_(opts) {
        validator v{"least_request_options"};
        v.non_negative("active_request_bias", opts_.active_request_bias);
        v.throw_if_failed();
    }

    /// `weight / (pending + 1)^bias`, or `-pending` when weights are ignored; requests in
    /// flight as the calling thread sees them (node_entry::pending_seen).
    double score(const node_entry& n, const request&) const noexcept {
        const auto pending = static_cast<double>(std::max<std::int64_t>(0, n.pending_seen()));
        if (opts_.ignore_weights) return -pending;
        if (opts_.active_request_bias == 1.0) return n.weight / (pending + 1.0);
        return n.weight / std::pow(pending + 1.0, opts_.active_request_bias);
    }

private:
    least_request_options opts_;
};

static_assert(scorer<least_request_scorer>);

}  // namespace salama::balancing
