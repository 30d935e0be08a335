// salama HPA core: everything of the Kubernetes Horizontal Pod Autoscaler decision core.
#pragma once

#include "salama/scaling/hpa/behavior.hpp"
#include "salama/scaling/hpa/controller.hpp"
#include "salama/scaling/hpa/replica_calculator.hpp"
#include "salama/scaling/hpa/types.hpp"
