// salama: names for the common combinations of scaling policies.
#pragma once

#include "salama/scaling/hysteresis.hpp"
#include "salama/scaling/panic_mode.hpp"
#include "salama/scaling/recommender.hpp"
#include "salama/scaling/scale_to_zero.hpp"
#include "salama/scaling/schedule.hpp"
#include "salama/scaling/step_scaling.hpp"
#include "salama/scaling/target_tracking.hpp"

namespace salama::scaling {

/// Threshold rules or step policies only (the seed's autoscaler).
using rules_recommender = recommender<step_scaling>;
/// A Kubernetes-HPA-style target only.
using hpa_recommender = recommender<target_tracking>;
/// Rules and an HPA-style target; the larger recommendation wins.
using rules_and_target_recommender = recommender<step_scaling, target_tracking>;
/// Rules and an HPA-style target above a scheduled minimum.
using scheduled_recommender = recommender<step_scaling, target_tracking, schedule_floor>;
/// KEDA: the activation metric decides 0 <-> 1, an HPA-style target 1 <-> N.
using event_driven_recommender = recommender<scale_to_zero<target_tracking>>;
/// Knative: stable and panic windows on a load total.
using burst_recommender = recommender<panic_mode>;
/// An HPA-style target for the steady state with panic mode for bursts.
using target_and_burst_recommender = recommender<target_tracking, panic_mode>;
/// An HPA-style target held inside a band of separate up and down thresholds.
using banded_target_recommender = recommender<hysteresis<target_tracking>>;

}  // namespace salama::scaling
