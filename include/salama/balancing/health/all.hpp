// salama: every public header of health checking (active checks, outlier detection, and
// their link to the load balancer).
#pragma once

#include "salama/balancing/health/balancer_link.hpp"
#include "salama/balancing/health/checker.hpp"
#include "salama/balancing/health/health.hpp"
#include "salama/balancing/health/http_probe.hpp"
#include "salama/balancing/health/outlier_detector.hpp"
#include "salama/balancing/health/state_machine.hpp"
#include "salama/balancing/health/tcp_probe.hpp"
