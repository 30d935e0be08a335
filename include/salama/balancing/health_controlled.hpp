// salama: what health checkers and outlier detectors need from a balancer.
#pragma once

#include "salama/balancing/observer.hpp"
#include "salama/balancing/registry.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"

#include <concepts>
#include <string_view>
#include <vector>

namespace salama::balancing {

/// A balancer that accepts health and ejection decisions from outside and reports
/// outcomes: load_balancer<P> for every picker P.
template <class B>
concept health_controlled = requires(B& b, const B& cb, std::string_view id, bool healthy, time_point t,
                                 outcome_observer obs) {
    { b.set_health(id, healthy, t) } -> std::same_as<result<void>>;
    { b.eject(id, t, t) } -> std::same_as<result<void>>;
    { b.uneject(id, t) } -> std::same_as<result<void>>;
    { b.refresh(t) } -> std::same_as<bool>;
    { b.subscribe(std::move(obs)) } -> std::same_as<subscription>;
    { cb.nodes(t) } -> std::same_as<std::vector<node_status>>;
    { cb.ejected_count() } -> std::same_as<std::size_t>;
    { cb.size() } -> std::same_as<std::size_t>;
};

}  // namespace salama::balancing
