// salama: names for the common balancer compositions.
#pragma once

#include "salama/balancing/bounded_load_picker.hpp"
#include "salama/balancing/least_request_scorer.hpp"
#include "salama/balancing/load_balancer.hpp"
#include "salama/balancing/maglev_picker.hpp"
#include "salama/balancing/peak_ewma_scorer.hpp"
#include "salama/balancing/power_of_choices_picker.hpp"
#include "salama/balancing/random_picker.hpp"
#include "salama/balancing/ring_hash_picker.hpp"
#include "salama/balancing/round_robin_picker.hpp"
#include "salama/balancing/weighted_round_robin_picker.hpp"

namespace salama::balancing {

/// Round robin over the healthy nodes.
using round_robin_balancer = load_balancer<round_robin_picker>;
/// Weighted round robin over configured weights.
using weighted_round_robin_balancer = load_balancer<weighted_round_robin_picker<>>;
/// Weighted random choice.
using random_balancer = load_balancer<random_picker>;
/// Power of two choices over peak EWMA latency × requests in flight (Finagle, Linkerd).
using p2c_peak_ewma_balancer = load_balancer<power_of_choices_picker<peak_ewma_scorer>>;
/// Power of two choices over requests in flight (Envoy's least request).
using p2c_least_request_balancer = load_balancer<power_of_choices_picker<least_request_scorer>>;
/// Maglev consistent hashing.
using maglev_balancer = load_balancer<maglev_picker>;
/// Ring hash consistent hashing.
using ring_hash_balancer = load_balancer<ring_hash_picker>;
/// Maglev with bounded loads.
using bounded_maglev_balancer = load_balancer<bounded_load_picker<maglev_picker>>;

}  // namespace salama::balancing
