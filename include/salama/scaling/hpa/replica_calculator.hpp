// salama HPA core: the per-metric replica calculation of the Kubernetes Horizontal Pod
// Autoscaler, as a pure function of members, samples, the target and `now`.
//
// Semantics follow Kubernetes' replica calculator: utilization is int(sum(usage) * 100 /
// sum(request)) over members with a metric; inside the tolerance the current count is kept;
// missing and unready members are filled in conservatively (scale-down: missing members use
// max(100 %, target) of their request, or exactly the target for plain values; scale-up: missing
// and unready members use 0), and a fill that flips the direction keeps the current count.
#pragma once

#include "salama/core/validation.hpp"
#include "salama/scaling/hpa/detail/go_math.hpp"
#include "salama/scaling/hpa/types.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace salama::scaling::hpa {

/// Settings of the replica calculator (Kubernetes' controller-manager flags).
struct calculator_options {
    /// Ratio tolerances around the target.
    hpa::tolerances tolerance{};
    /// CPU only: a member this young may still be warming up; its sample counts only if it is
    /// ready and was taken a full window after the last readiness change.
    duration cpu_initialization_period = std::chrono::seconds(300);
    /// CPU only: a member not ready whose readiness last changed within this delay of its start
    /// has never been ready, and its sample is not used.
    duration initial_readiness_delay = std::chrono::seconds(30);

    /// Throws config_error naming the first invalid field.
    void validate(std::string_view prefix = "calculator_options") const {
        validator v{prefix};
        v.in_range("tolerance.scale_down", tolerance.scale_down, 0.0, 1.0);
        v.non_negative("tolerance.scale_up", tolerance.scale_up);
        v.check(cpu_initialization_period >= duration::zero(), "cpu_initialization_period",
                fmt::format("must be non-negative, got {}s", to_seconds(cpu_initialization_period)));
        v.check(initial_readiness_delay >= duration::zero(), "initial_readiness_delay",
                fmt::format("must be non-negative, got {}s", to_seconds(initial_readiness_delay)));
        v.throw_if_failed();
    }
};

namespace detail {

/// A member's metric value as the calculation sees it.
struct member_metric {
    milli value = 0;
    time_point timestamp = zero_time;
    duration window = std::chrono::seconds(60);
    std::int64_t weight = 1;  ///< the members the entry stands for (member::count)
};

/// a * w for w >= 1, saturating at the int64 limits.
inline std::int64_t mul_saturating(std::int64_t a, std::int64_t w) noexcept {
    constexpr auto hi = std::numeric_limits<std::int64_t>::max();
    constexpr auto lo = std::numeric_limits<std::int64_t>::min();
    if (w <= 1) return a;
    if (a > hi / w) return hi;
    if (a < lo / w) return lo;
    return a * w;
}

using metric_map = std::map<std::string, member_metric, std::less<>>;

inline error make_error(errc code, std::string message) { return {code, std::move(message)}; }

/// Per-member resource values: the sum over containers, or the named container's value.
/// A member whose sample lacks the resource (or the container) is left out: it is missing.
inline metric_map resource_metric_map(std::span<const resource_sample> samples,
                                      std::string_view container,
                                      std::vector<std::string>& notes) {
    metric_map out;
    for (const auto& s : samples) {
        milli sum = 0;
        bool missing = false;
        if (container.empty()) {
            missing = s.containers.empty();
            for (const auto& c : s.containers) {
                if (!c.usage_milli) {
                    missing = true;
                    break;
                }
                auto v = to_milli(*c.usage_milli);
                if (!v) {
                    notes.push_back(fmt::format(
                        "member {}: container {} usage {} is not a finite non-negative value; "
                        "member treated as missing",
                        s.member, c.name, *c.usage_milli));
                    missing = true;
                    break;
                }
                sum = add_saturating(sum, *v);
            }
        } else {
            auto it = std::find_if(s.containers.begin(), s.containers.end(),
                                   [&](const container_usage& c) { return c.name == container; });
            // An absent container makes the member missing rather than failing the metric.
            if (it == s.containers.end() || !it->usage_milli) {
                missing = true;
            } else if (auto v = to_milli(*it->usage_milli)) {
                sum = *v;
            } else {
                notes.push_back(fmt::format(
                    "member {}: container {} usage {} is not a finite non-negative value; "
                    "member treated as missing",
                    s.member, container, *it->usage_milli));
                missing = true;
            }
        }
        if (!missing) out[s.member] = member_metric{sum, s.timestamp, s.window};
    }
    return out;
}

inline metric_map value_metric_map(std::span<const value_sample> samples,
                                   std::vector<std::string>& notes) {
    metric_map out;
    for (const auto& s : samples) {
        if (auto v = to_milli(s.value_milli)) {
            out[s.member] = member_metric{*v, s.timestamp, s.window};
        } else {
            notes.push_back(fmt::format(
                "member {}: value {} is not a finite non-negative value; member treated as missing",
                s.member, s.value_milli));
        }
    }
    return out;
}

/// How the members split for one metric.
struct member_groups {
    std::int32_t ready = 0;
    std::set<std::string, std::less<>> unready, missing, ignored;
    /// member::count of the entries standing for more than one member.
    std::map<std::string, std::int64_t, std::less<>> counts;

    /// How many members the entry `name` stands for.
    std::int64_t weight(std::string_view name) const {
        auto it = counts.find(name);
        return it == counts.end() ? 1 : it->second;
    }
};

/// Sorts members into ready, unready (pending; for CPU also warming up or never ready), missing
/// (no metric) and ignored (failed or being deleted).
inline member_groups group_members(std::span<const member> members, const metric_map& metrics,
                                   bool cpu, const calculator_options& opt, time_point now) {
    member_groups g;
    std::int64_t ready = 0;
    for (const auto& m : members) {
        const std::int64_t w = std::max<std::int32_t>(1, m.count);
        if (w > 1) g.counts[m.name] = w;
        if (m.being_deleted || m.phase == member_phase::failed) {
            g.ignored.insert(m.name);
            continue;
        }
        if (m.phase == member_phase::pending) {
            g.unready.insert(m.name);
            continue;
        }
        auto it = metrics.find(m.name);
        if (it == metrics.end()) {
            g.missing.insert(m.name);
            continue;
        }
        if (cpu) {
            bool unready = false;
            if (!m.has_ready_condition || !m.start_time) {
                unready = true;
            } else if (*m.start_time + opt.cpu_initialization_period > now) {
                // Warming up: the sample counts only if ready and a full window after the change.
                unready = !m.ready || it->second.timestamp < m.ready_transition + it->second.window;
            } else {
                // Past warm-up: skip only members that have never been ready.
                unready = !m.ready && *m.start_time + opt.initial_readiness_delay > m.ready_transition;
            }
            if (unready) {
                g.unready.insert(m.name);
                continue;
            }
        }
        ready += w;
    }
    g.ready = static_cast<std::int32_t>(std::min<std::int64_t>(ready, std::numeric_limits<std::int32_t>::max()));
    return g;
}

/// Requests per member for `resource`: member-level requests when set and no container is
/// named, else the sum over the (named) containers.
inline calc_result<std::map<std::string, milli, std::less<>>> member_requests(
    std::span<const member> members, std::string_view resource, std::string_view container) {
    std::map<std::string, milli, std::less<>> out;
    for (const auto& m : members) {
        if (container.empty()) {
            if (auto it = m.member_requests_milli.find(resource); it != m.member_requests_milli.end()) {
                out[m.name] = it->second;
                continue;
            }
        }
        milli sum = 0;
        for (const auto& c : m.containers) {
            if (!container.empty() && c.name != container) continue;
            auto it = c.requests_milli.find(resource);
            if (it == c.requests_milli.end())
                return make_error(errc::invalid_argument,
                                  fmt::format("missing request for {} in container {} of Pod {}",
                                              resource, c.name, m.name));
            sum = add_saturating(sum, it->second);
            if (!container.empty()) break;  // container names are unique in a member
        }
        out[m.name] = sum;
    }
    return out;
}

struct utilization_ratio {
    double ratio = 0;
    std::int32_t utilization = 0;
    milli raw_average = 0;
};

inline calc_result<utilization_ratio> resource_utilization_ratio(
    const metric_map& metrics, const std::map<std::string, milli, std::less<>>& requests,
    std::int32_t target) {
    milli usage = 0, request = 0;
    std::int64_t n = 0;
    for (const auto& [name, m] : metrics) {
        auto it = requests.find(name);
        if (it == requests.end()) continue;  // a sample of a member we do not know
        usage = add_saturating(usage, mul_saturating(m.value, m.weight));
        request = add_saturating(request, mul_saturating(it->second, m.weight));
        n = add_saturating(n, m.weight);
    }
    if (request == 0)
        return make_error(errc::metric_missing, "no metrics returned matched known pods");
    // Exact integer arithmetic in any realistic range; beyond it, a saturating float estimate
    // instead of an overflow.
    const double pct = usage <= std::numeric_limits<milli>::max() / 100
                           ? static_cast<double>((usage * 100) / request)
                           : std::floor(static_cast<double>(usage) * 100.0 / static_cast<double>(request));
    const auto util = saturate_int32(pct);
    return utilization_ratio{static_cast<double>(util) / static_cast<double>(target), util, usage / n};
}

inline std::pair<double, milli> usage_ratio(const metric_map& metrics, milli target) {
    milli total = 0, n = 0;
    for (const auto& [name, m] : metrics) {
        total = add_saturating(total, mul_saturating(m.value, m.weight));
        n = add_saturating(n, m.weight);
    }
    const milli avg = total / n;
    return {static_cast<double>(avg) / static_cast<double>(target), avg};
}

/// Gives the entries of `metrics` the weights of the members they belong to.
inline void apply_weights(metric_map& metrics, const member_groups& g) {
    for (const auto& [name, w] : g.counts)
        if (auto it = metrics.find(name); it != metrics.end()) it->second.weight = w;
}

/// The members `metrics` stands for.
inline std::int64_t counted(const metric_map& metrics) {
    std::int64_t n = 0;
    for (const auto& [name, m] : metrics) n = add_saturating(n, m.weight);
    return n;
}

inline std::vector<std::string> names(const std::set<std::string, std::less<>>& s) {
    return {s.begin(), s.end()};
}

}  // namespace detail

/// The per-metric replica calculation. Pure: every input, including `now`, is an argument.
class replica_calculator {
public:
    /// Validates the options (throws config_error naming the field).
    explicit replica_calculator(calculator_options options = {}) : opt_(std::move(options)) {
        opt_.validate();
    }

    /// The options in use.
    const calculator_options& options() const noexcept { return opt_; }

    /// Target utilization (percent of request) of `resource`, over the whole member or over one
    /// named container (`container` empty: the member). `samples` empty means the source
    /// returned nothing.
    calc_result<replica_estimate> resource_utilization(std::int32_t current_replicas,
                                                       std::int32_t target_utilization,
                                                       std::string_view resource,
                                                       std::string_view container,
                                                       std::span<const member> members,
                                                       std::span<const resource_sample> samples,
                                                       time_point now) const {
        using detail::make_error;
        if (target_utilization <= 0)
            return make_error(errc::invalid_argument,
                              fmt::format("target utilization must be positive, got {}",
                                          target_utilization));
        if (samples.empty())
            return make_error(errc::metric_missing,
                              fmt::format("unable to get metrics for resource {}: no metrics "
                                          "returned from resource metrics API",
                                          resource));
        if (members.empty())
            return make_error(errc::metric_missing,
                              "no pods returned by selector while calculating replica count");
        replica_estimate e;
        auto metrics = detail::resource_metric_map(samples, container, e.notes);
        auto g = detail::group_members(members, metrics, resource == "cpu", opt_, now);
        for (const auto& n : g.ignored) metrics.erase(n);
        for (const auto& n : g.unready) metrics.erase(n);
        detail::apply_weights(metrics, g);
        fill_groups(e, g);
        if (metrics.empty())
            return make_error(errc::metric_missing,
                              "did not receive metrics for targeted pods (pods might be unready)");
        auto requests = detail::member_requests(members, resource, container);
        if (!requests) return requests.error();
        auto first = detail::resource_utilization_ratio(metrics, *requests, target_utilization);
        if (!first) return first.error();
        e.utilization = first->utilization;
        e.usage_milli = first->raw_average;
        e.usage_ratio = first->ratio;

        const bool up_with_unready = !g.unready.empty() && first->ratio > 1.0;
        if (!up_with_unready && g.missing.empty()) {
            return direct(e, current_replicas, first->ratio, g.ready);
        }
        if (!g.missing.empty()) {
            if (first->ratio < 1.0) {
                // Scaling down: a missing member is taken as using its whole request, or the
                // target when the target is above 100 %.
                const milli fallback = std::max<milli>(100, target_utilization);
                // Saturating: a request near the int64 limit times the target must not overflow.
                for (const auto& n : g.missing) {
                    const milli req = (*requests)[n];
                    // req * f / 100 == (req / 100) * f + (req % 100) * f / 100, exactly.
                    constexpr milli hi = std::numeric_limits<milli>::max(), lo = std::numeric_limits<milli>::min();
                    const milli q = req / 100, r = req % 100;
                    metrics[n] = {q > hi / fallback   ? hi
                                  : q < lo / fallback ? lo
                                                      : detail::add_saturating(q * fallback, r * fallback / 100),
                                  zero_time, std::chrono::seconds(60), g.weight(n)};
                }
            } else if (first->ratio > 1.0) {
                for (const auto& n : g.missing) metrics[n] = {0, zero_time, std::chrono::seconds(60), g.weight(n)};
            }
        }
        if (up_with_unready)
            for (const auto& n : g.unready) metrics[n] = {0, zero_time, std::chrono::seconds(60), g.weight(n)};
        auto second = detail::resource_utilization_ratio(metrics, *requests, target_utilization);
        if (!second) return second.error();
        return conservative(e, current_replicas, first->ratio, second->ratio, detail::counted(metrics));
    }

    /// Target average value of `resource` per member in milli-units (a resource metric with an
    /// AverageValue target).
    calc_result<replica_estimate> resource_average_value(std::int32_t current_replicas,
                                                         milli target_average_milli,
                                                         std::string_view resource,
                                                         std::string_view container,
                                                         std::span<const member> members,
                                                         std::span<const resource_sample> samples,
                                                         time_point now) const {
        if (samples.empty())
            return detail::make_error(errc::metric_missing,
                                      fmt::format("unable to get metrics for resource {}: no "
                                                  "metrics returned from resource metrics API",
                                                  resource));
        replica_estimate e;
        auto metrics = detail::resource_metric_map(samples, container, e.notes);
        return plain(std::move(e), std::move(metrics), current_replicas, target_average_milli,
                     resource == "cpu", members, now);
    }

    /// Target average value of a per-member metric (a Pods metric).
    calc_result<replica_estimate> pods_average_value(std::int32_t current_replicas,
                                                     milli target_average_milli,
                                                     std::string_view metric_name,
                                                     std::span<const member> members,
                                                     std::span<const value_sample> samples,
                                                     time_point now) const {
        if (samples.empty())
            return detail::make_error(errc::metric_missing,
                                      fmt::format("unable to get metric {}: no metrics returned "
                                                  "from custom metrics API",
                                                  metric_name));
        replica_estimate e;
        auto metrics = detail::value_metric_map(samples, e.notes);
        return plain(std::move(e), std::move(metrics), current_replicas, target_average_milli,
                     false, members, now);
    }

    /// Target value of one object's metric: ratio times the ready members (from zero:
    /// ceil(ratio)).
    calc_result<replica_estimate> object_value(std::int32_t current_replicas, milli target_value_milli,
                                               double value_milli,
                                               std::span<const member> members) const {
        auto v = detail::to_milli(value_milli);
        if (!v)
            return detail::make_error(
                errc::invalid_metric,
                fmt::format("object metric value {} is not a finite non-negative value", value_milli));
        return by_ratio(current_replicas, target_value_milli, *v, members);
    }

    /// Target average value per member of one object's metric: ceil(value / target).
    calc_result<replica_estimate> object_average_value(std::int32_t status_replicas,
                                                       milli target_average_milli,
                                                       double value_milli) const {
        auto v = detail::to_milli(value_milli);
        if (!v)
            return detail::make_error(
                errc::invalid_metric,
                fmt::format("object metric value {} is not a finite non-negative value", value_milli));
        return per_member(status_replicas, target_average_milli, *v, {});
    }

    /// Target value of an external metric (the values are summed).
    calc_result<replica_estimate> external_value(std::int32_t current_replicas,
                                                 milli target_value_milli,
                                                 std::string_view metric_name,
                                                 std::span<const double> values_milli,
                                                 std::span<const member> members) const {
        std::vector<std::string> notes;
        auto sum = external_sum(metric_name, values_milli, notes);
        if (!sum) return sum.error();
        auto r = by_ratio(current_replicas, target_value_milli, *sum, members);
        if (r) r->notes = std::move(notes);
        return r;
    }

    /// Target average value per member of an external metric: ceil(sum / target).
    calc_result<replica_estimate> external_average_value(std::int32_t status_replicas,
                                                         milli target_average_milli,
                                                         std::string_view metric_name,
                                                         std::span<const double> values_milli) const {
        std::vector<std::string> notes;
        auto sum = external_sum(metric_name, values_milli, notes);
        if (!sum) return sum.error();
        return per_member(status_replicas, target_average_milli, *sum, std::move(notes));
    }

private:
    static void fill_groups(replica_estimate& e, const detail::member_groups& g) {
        e.ready_members = g.ready;
        e.unready_members = detail::names(g.unready);
        e.missing_members = detail::names(g.missing);
        e.ignored_members = detail::names(g.ignored);
    }

    calc_result<replica_estimate> direct(replica_estimate& e, std::int32_t current, double ratio,
                                         std::int32_t ready) const {
        if (opt_.tolerance.within(ratio)) {
            e.replicas = current;
            e.reason = fmt::format("usage ratio {:.4f} is within tolerance; keeping {}", ratio, current);
        } else {
            e.replicas = detail::ceil_int32(ratio * ready);
            e.reason = fmt::format("usage ratio {:.4f} over {} ready members gives {}", ratio, ready,
                                   e.replicas);
        }
        return std::move(e);
    }

    calc_result<replica_estimate> conservative(replica_estimate& e, std::int32_t current,
                                               double first, double second,
                                               std::int64_t counted) const {
        e.adjusted_ratio = second;
        if (opt_.tolerance.within(second) || (first < 1.0 && second > 1.0) ||
            (first > 1.0 && second < 1.0)) {
            e.replicas = current;
            e.reason = fmt::format(
                "usage ratio {:.4f} becomes {:.4f} once missing and unready members are filled in "
                "conservatively, which is within tolerance or reverses direction; keeping {}",
                first, second, current);
            return std::move(e);
        }
        const auto proposed = detail::ceil_int32(second * static_cast<double>(counted));
        if ((second < 1.0 && proposed > current) || (second > 1.0 && proposed < current)) {
            e.replicas = current;
            e.reason = fmt::format(
                "conservative ratio {:.4f} over {} members gives {}, against the direction of the "
                "change; keeping {}",
                second, counted, proposed, current);
            return std::move(e);
        }
        e.replicas = proposed;
        e.reason = fmt::format(
            "usage ratio {:.4f} becomes {:.4f} with missing and unready members filled in "
            "conservatively; over {} members gives {}",
            first, second, counted, proposed);
        return std::move(e);
    }

    calc_result<replica_estimate> plain(replica_estimate e, detail::metric_map metrics,
                                        std::int32_t current, milli target, bool cpu,
                                        std::span<const member> members, time_point now) const {
        using detail::make_error;
        if (target <= 0)
            return make_error(errc::invalid_argument,
                              fmt::format("target average value must be positive, got {}", target));
        if (members.empty())
            return make_error(errc::metric_missing,
                              "no pods returned by selector while calculating replica count");
        auto g = detail::group_members(members, metrics, cpu, opt_, now);
        for (const auto& n : g.ignored) metrics.erase(n);
        for (const auto& n : g.unready) metrics.erase(n);
        detail::apply_weights(metrics, g);
        fill_groups(e, g);
        if (metrics.empty())
            return make_error(errc::metric_missing,
                              "did not receive metrics for targeted pods (pods might be unready)");
        auto [ratio, usage] = detail::usage_ratio(metrics, target);
        e.usage_milli = usage;
        e.usage_ratio = ratio;
        const bool up_with_unready = !g.unready.empty() && ratio > 1.0;
        if (!up_with_unready && g.missing.empty()) return direct(e, current, ratio, g.ready);
        if (!g.missing.empty()) {
            if (ratio < 1.0) {
                for (const auto& n : g.missing)  // exactly on target
                    metrics[n] = {target, zero_time, std::chrono::seconds(60), g.weight(n)};
            } else if (ratio > 1.0) {
                for (const auto& n : g.missing) metrics[n] = {0, zero_time, std::chrono::seconds(60), g.weight(n)};
            }
        }
        if (up_with_unready)
            for (const auto& n : g.unready) metrics[n] = {0, zero_time, std::chrono::seconds(60), g.weight(n)};
        auto second = detail::usage_ratio(metrics, target).first;
        return conservative(e, current, ratio, second, detail::counted(metrics));
    }

    calc_result<replica_estimate> by_ratio(std::int32_t current, milli target, milli usage,
                                           std::span<const member> members) const {
        if (target <= 0)
            return detail::make_error(errc::invalid_argument,
                                      fmt::format("target value must be positive, got {}", target));
        replica_estimate e;
        e.usage_milli = usage;
        e.usage_ratio = static_cast<double>(usage) / static_cast<double>(target);
        if (current == 0) {
            // From zero there are no members to scale by: the ratio itself is the count.
            e.replicas = detail::ceil_int32(e.usage_ratio);
            e.reason = fmt::format("from zero replicas, usage ratio {:.4f} gives {}", e.usage_ratio,
                                   e.replicas);
            return e;
        }
        if (opt_.tolerance.within(e.usage_ratio)) {
            e.replicas = current;
            e.reason = fmt::format("usage ratio {:.4f} is within tolerance; keeping {}", e.usage_ratio,
                                   current);
            return e;
        }
        if (members.empty())
            return detail::make_error(errc::metric_missing,
                                      "unable to calculate ready pods: no pods returned by selector "
                                      "while calculating replica count");
        std::int64_t ready64 = 0;
        for (const auto& m : members)
            if (m.phase == member_phase::running && m.has_ready_condition && m.ready)
                ready64 += std::max<std::int32_t>(1, m.count);
        const auto ready =
            static_cast<std::int32_t>(std::min<std::int64_t>(ready64, std::numeric_limits<std::int32_t>::max()));
        e.ready_members = ready;
        e.replicas = detail::ceil_int32(e.usage_ratio * ready);
        e.reason = fmt::format("usage ratio {:.4f} over {} ready members gives {}", e.usage_ratio,
                               ready, e.replicas);
        return e;
    }

    calc_result<replica_estimate> per_member(std::int32_t status_replicas, milli target, milli usage,
                                             std::vector<std::string> notes) const {
        if (target <= 0)
            return detail::make_error(
                errc::invalid_argument,
                fmt::format("target average value must be positive, got {}", target));
        replica_estimate e;
        e.notes = std::move(notes);
        e.replicas = status_replicas;
        e.usage_ratio = static_cast<double>(usage) /
                        (static_cast<double>(target) * static_cast<double>(status_replicas));
        if (!opt_.tolerance.within(e.usage_ratio)) {
            e.replicas = detail::ceil_int32(static_cast<double>(usage) / static_cast<double>(target));
            e.reason = fmt::format("total {} over a target of {} per member gives {}", usage, target,
                                   e.replicas);
        } else {
            e.reason = fmt::format("usage ratio {:.4f} is within tolerance; keeping {}", e.usage_ratio,
                                   status_replicas);
        }
        e.usage_milli = status_replicas > 0
                            ? detail::saturate_int64(std::ceil(static_cast<double>(usage) /
                                                               static_cast<double>(status_replicas)))
                            : usage;
        return e;
    }

    static calc_result<milli> external_sum(std::string_view metric_name,
                                           std::span<const double> values,
                                           std::vector<std::string>& notes) {
        if (values.empty())
            return detail::make_error(errc::metric_missing,
                                      fmt::format("unable to get external metric {}: no metrics "
                                                  "returned from external metrics API",
                                                  metric_name));
        milli sum = 0;
        std::size_t used = 0;
        for (double v : values) {
            if (auto m = detail::to_milli(v)) {
                sum = detail::add_saturating(sum, *m);
                ++used;
            } else {
                notes.push_back(fmt::format(
                    "external metric {}: value {} is not a finite non-negative value; ignored",
                    metric_name, v));
            }
        }
        if (used == 0)
            return detail::make_error(errc::invalid_metric,
                                      fmt::format("unable to get external metric {}: no usable "
                                                  "value among {} returned",
                                                  metric_name, values.size()));
        return sum;
    }

    calculator_options opt_;
};

}  // namespace salama::scaling::hpa
