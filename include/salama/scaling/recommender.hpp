// salama: the pure recommender. (snapshot, state, now) -> decision with its explanation,
// and the new state. Several policies combine by max (as Kubernetes combines metrics);
// then the result is clamped to [min_replicas, max_replicas]. No I/O, no clock reads.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/metric.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/detail/combine.hpp"
#include "salama/scaling/recommender_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>

namespace salama::scaling {

/// The recommender's state: each policy's state plus the count of consecutive metric failures.
template <scaling_policy... Policies>
struct recommender_state {
    std::tuple<typename Policies::state_type...> policies;
    std::size_t consecutive_failures = 0;
};

/// A decision and the state to carry to the next evaluation.
template <class State>
struct evaluation {
    decision result;
    State state;
};

/// Composes policies: each recommends, the largest recommendation wins, partial data never
/// scales down, failures fall back, and min/max clamp the result.
template <scaling_policy... Policies>
class recommender {
    static_assert(sizeof...(Policies) > 0, "a recommender needs at least one policy");

public:
    using state_type = recommender_state<Policies...>;

    /// Validates `opts` (config_error naming the field).
    explicit recommender(recommender_options opts, Policies... policies)
        : opts_(std::move(opts)), policies_(std::move(policies)...) {
        opts_.validate();
    }

    /// The options.
    const recommender_options& options() const noexcept { return opts_; }
    /// The policies.
    const std::tuple<Policies...>& policies() const noexcept { return policies_; }

    /// Each policy's initial state.
    state_type initial_state() const {
        return std::apply([](const auto&... p) { return state_type{{p.initial_state()...}, 0}; }, policies_);
    }

    /// The pure form: the decision and the new state; `state` is not touched.
    evaluation<state_type> evaluate(const scaling_input& in, const state_type& state) const {
        evaluation<state_type> e{{}, state};
        e.result = evaluate_in_place(in, e.state);
        return e;
    }

    /// The same, updating `state` in place (what the loop uses to avoid a copy).
    decision evaluate_in_place(const scaling_input& outer, state_type& state) const {
        // The policies see the recommender's bounds: the only place bounds are configured.
        const scaling_input in{outer.metrics, outer.current, outer.ready, outer.now, outer.wall,
                               replica_bounds{opts_.min_replicas, opts_.max_replicas}};
        recommendation recs[sizeof...(Policies)];
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((recs[I] = std::get<I>(policies_).recommend(in, std::get<I>(state.policies))), ...);
        }(std::index_sequence_for<Policies...>{});

        decision d = detail::combine(std::span<recommendation>(recs), in, state.consecutive_failures, opts_);
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (notify_decision(std::get<I>(policies_), d, std::get<I>(state.policies)), ...);
        }(std::index_sequence_for<Policies...>{});
        return d;
    }

    /// The decision when the metric source itself failed with `ec`: hold, or the
    /// configured fallback size once `failure_threshold` consecutive failures are reached.
    decision on_source_failure(const scaling_input& in, state_type& state, error_code ec) const {
        decision d;
        d.resource = opts_.resource;
        d.current = in.current;
        return detail::fail(in, state.consecutive_failures, opts_,
                            fmt::format("metric source failed: {}", ec.message()), {}, std::move(d));
    }

    /// Pure form of on_source_failure.
    evaluation<state_type> evaluate_failure(const scaling_input& in, const state_type& state, error_code ec) const {
        evaluation<state_type> e{{}, state};
        e.result = on_source_failure(in, e.state, ec);
        return e;
    }

private:
    recommender_options opts_;
    std::tuple<Policies...> policies_;
};

}  // namespace salama::scaling
