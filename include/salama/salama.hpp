// salama: the umbrella header for the core (no optional dependency).
#pragma once

#include "salama/core/actuator.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/ewma.hpp"
#include "salama/core/log.hpp"
#include "salama/core/metric.hpp"
#include "salama/core/metric_source.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/names.hpp"
#include "salama/core/secret.hpp"
#include "salama/core/sliding_window.hpp"
#include "salama/core/validation.hpp"
