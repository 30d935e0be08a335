// salama: every scaling header that needs nothing beyond the core (scaling_config.hpp,
// which needs Boost.JSON, is included separately).
#pragma once

#include "salama/scaling/aliases.hpp"
#include "salama/scaling/any_policy.hpp"
#include "salama/scaling/autoscaler.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/hysteresis.hpp"
#include "salama/scaling/metric_query.hpp"
#include "salama/scaling/panic_mode.hpp"
#include "salama/scaling/recommender.hpp"
#include "salama/scaling/recommender_options.hpp"
#include "salama/scaling/scale_to_zero.hpp"
#include "salama/scaling/scaling_rule.hpp"
#include "salama/scaling/schedule.hpp"
#include "salama/scaling/step_scaling.hpp"
#include "salama/scaling/target_tracking.hpp"
#include "salama/scaling/trace.hpp"
