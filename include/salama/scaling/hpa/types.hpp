// salama HPA core: the vocabulary shared by the replica calculator, the behavior rules and the
// controller: members (pods, workers) with their state, per-member samples, tolerances, and the
// error and estimate types. Quantities are integers in milli-units, like Kubernetes' MilliValue().
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace salama::scaling::hpa {

/// A quantity in milli-units (CPU "1" is 1000; a metric value of 15 is 15000).
using milli = std::int64_t;

/// Kubernetes' zero time (year 1): a time before every real instant. Durations may be added to
/// it; nothing is ever subtracted from it.
inline constexpr time_point zero_time = time_point::min();

/// The lifecycle phase of a member, as a pod's phase.
enum class member_phase {
    pending,    ///< accepted but not running yet (counts as unready)
    running,    ///< running
    succeeded,  ///< finished successfully
    failed,     ///< failed (ignored by the calculation)
    unknown,    ///< state could not be obtained
};

/// One container of a member: its name and its requests per resource ("cpu" -> 500).
/// A resource absent from `requests_milli` has no request.
struct container_spec {
    std::string name;
    std::map<std::string, milli, std::less<>> requests_milli;
    /// A restartable init container (sidecar): its requests count like a regular container's.
    bool restartable_init = false;
};

/// A scaled member (a pod, a worker) and the state the calculation depends on.
struct member {
    std::string name;
    member_phase phase = member_phase::running;
    /// Status of the readiness condition (a pod's Ready condition).
    bool ready = true;
    /// False when the member reports no readiness condition at all (then it counts as unready
    /// for CPU).
    bool has_ready_condition = true;
    /// When the readiness condition last changed (zero_time when never recorded).
    time_point ready_transition = zero_time;
    /// When the member started; nullopt while it has not started.
    std::optional<time_point> start_time = zero_time;
    /// Deletion requested (a pod's deletion timestamp is set): ignored by the calculation.
    bool being_deleted = false;
    /// Containers with their requests (utilization targets need them).
    std::vector<container_spec> containers;
    /// Member-level requests per resource; when set for the resource and no container is named,
    /// they replace the sum over containers.
    std::map<std::string, milli, std::less<>> member_requests_milli;
    /// How many identical members this entry stands for (at least 1): a caller that knows
    /// some members only by number (no name, no metric) passes one entry for all of them
    /// instead of one object each. Its metric, if any, is each member's.
    std::int32_t count = 1;
};

/// One container's usage of the sampled resource; nullopt when the sample lacks the resource.
struct container_usage {
    std::string name;
    std::optional<double> usage_milli;
};

/// One member's resource usage sample (what a metrics server reports per pod).
struct resource_sample {
    std::string member;
    std::vector<container_usage> containers;
    time_point timestamp = zero_time;  ///< end of the sampling window
    duration window = std::chrono::seconds(60);             ///< length of the sampling window
};

/// One member's value of a per-member metric (a custom "pods" metric such as qps).
struct value_sample {
    std::string member;
    double value_milli = 0;
    time_point timestamp = zero_time;
    duration window = std::chrono::seconds(60);
};

/// Relative tolerances around the target: no change while
/// `1 - scale_down <= ratio <= 1 + scale_up` (both ends inclusive).
struct tolerances {
    double scale_down = 0.1;
    double scale_up = 0.1;

    /// True when `ratio` is close enough to 1 to keep the current count.
    bool within(double ratio) const noexcept {
        return (1.0 - scale_down) <= ratio && ratio <= (1.0 + scale_up);
    }
};

/// A calculation's outcome: the value, or an error whose detail is Kubernetes' message
/// (e.g. "no metrics returned matched known pods").
template <class T>
using calc_result = result<T>;

/// The replica count one metric asks for, and why.
struct replica_estimate {
    /// The proposed replica count.
    std::int32_t replicas = 0;
    /// Current utilization in percent of request (utilization targets only).
    std::optional<std::int32_t> utilization;
    /// The measured usage in milli-units: the raw average per member for resource and pods
    /// metrics and per-member averages, the value for object and external value targets.
    milli usage_milli = 0;
    /// usage / target as first computed.
    double usage_ratio = 0;
    /// The ratio recomputed after the conservative fill of missing and unready members.
    std::optional<double> adjusted_ratio;
    /// Members counted as ready with a metric.
    std::int32_t ready_members = 0;
    std::vector<std::string> unready_members{};  ///< pending, or not ready (CPU rules)
    std::vector<std::string> missing_members{};  ///< no usable sample
    std::vector<std::string> ignored_members{};  ///< failed or being deleted
    /// Samples that were rejected (NaN, infinite, negative), with the reason.
    std::vector<std::string> notes;
    /// Why this count, in one sentence.
    std::string reason;
};

/// Prints the count and the reason (for logs and test failures).
inline std::ostream& operator<<(std::ostream& os, const replica_estimate& e) {
    return os << "replicas=" << e.replicas << " (" << e.reason << ")";
}

}  // namespace salama::scaling::hpa
