// salama: the scorer concept: how good a node is for a request (higher is better).
#pragma once

#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/request.hpp"

#include <concepts>

namespace salama::balancing {

/// Rates a node for a request; the score-based pickers route to the highest score.
/// `score` must be const, thread-safe and must not allocate. A NaN score ranks last.
template <class S>
concept scorer = std::copy_constructible<S> && requires(const S& s, const node_entry& n, const request& r) {
    { s.score(n, r) } -> std::convertible_to<double>;
};

}  // namespace salama::balancing
