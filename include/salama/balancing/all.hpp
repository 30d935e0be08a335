// salama: every public header of the load-balancing area, without Boost.Beast or the
// health checks (those are in salama/balancing/health/all.hpp).
#pragma once

#include "salama/balancing/aliases.hpp"
#include "salama/balancing/bounded_load_picker.hpp"
#include "salama/balancing/health_controlled.hpp"
#include "salama/balancing/highest_score_picker.hpp"
#include "salama/balancing/jump_hash_picker.hpp"
#include "salama/balancing/least_request_scorer.hpp"
#include "salama/balancing/load_balancer.hpp"
#include "salama/balancing/maglev_picker.hpp"
#include "salama/balancing/metric_scorer.hpp"
#include "salama/balancing/peak_ewma_scorer.hpp"
#include "salama/balancing/power_of_choices_picker.hpp"
#include "salama/balancing/random_picker.hpp"
#include "salama/balancing/rendezvous_picker.hpp"
#include "salama/balancing/ring_hash_picker.hpp"
#include "salama/balancing/round_robin_picker.hpp"
#include "salama/balancing/routing_snapshot.hpp"
#include "salama/balancing/utilization_weight.hpp"
#include "salama/balancing/weighted_round_robin_picker.hpp"

namespace salama::balancing {

static_assert(health_controlled<load_balancer<round_robin_picker>>);

}  // namespace salama::balancing
