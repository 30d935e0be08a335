// salama KPA core: everything of Knative's pod autoscaler decision core.
#pragma once

#include "salama/scaling/kpa/bucket_average.hpp"
#include "salama/scaling/kpa/decider.hpp"
#include "salama/scaling/kpa/max_window.hpp"
