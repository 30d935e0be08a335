// salama: target tracking: the Kubernetes HPA decision core (scaling/hpa/) as a policy.
//
// The snapshot is turned into the HPA's inputs: every member named by a sample (label
// "member") is a running, ready member; members the actuator reports beyond those are
// members without metrics, which the HPA fills conservatively. Sample values map to the
// HPA's milli-units as follows:
//   Resource / ContainerResource, Utilization   the sample is the member's utilization in
//                                               percent of its request
//   Resource / ContainerResource, AverageValue  the sample is the member's usage
//   Pods                                        the sample is the member's value
//   Object                                      the first sample is the object's value
//   External                                    the samples are summed
// The HPA's own stabilization windows and rate policies (spec.behavior) apply.
#pragma once

#include "salama/core/metric.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/hpa/controller.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace salama::scaling {

/// Settings of target_tracking.
struct target_tracking_options {
    std::string name = "target_tracking";    ///< shown in explanations
    hpa::hpa_spec spec{};                      ///< metrics with targets, min/max, behavior
    hpa::controller_options controller{};      ///< tolerance, stabilization, ...
    std::string member_label{label::member}; ///< the label naming a sample's member

    /// Throws config_error naming the field (the HPA spec's own validation included).
    void validate() const {
        validator v{"target_tracking_options"};
        v.non_empty("name", name);
        v.check(is_valid_label_name(member_label), "member_label", "must be a valid label name");
        for (std::size_t i = 0; i < spec.metrics.size(); ++i)
            v.check(spec.metrics[i].type == hpa::metric_source_type::unknown ||
                        is_valid_metric_name(spec.metrics[i].name),
                    fmt::format("spec.metrics[{}].name", i),
                    fmt::format("must be a metric name of the snapshot, got '{}'", spec.metrics[i].name));
        v.throw_if_failed();
    }
};

/// The salama limit for the HPA's ScalingLimited reason.
constexpr limit from_hpa(hpa::limit_reason r) noexcept {
    switch (r) {
    case hpa::limit_reason::desired_within_range: return limit::none;
    case hpa::limit_reason::scale_up_limit: return limit::scale_up_rate;
    case hpa::limit_reason::too_many_replicas: return limit::max_replicas;
    case hpa::limit_reason::scale_down_limit: return limit::scale_down_rate;
    case hpa::limit_reason::too_few_replicas: return limit::min_replicas;
    }
    return limit::none;
}

/// The HPA as a scaling policy (combine several with max, or give it several metrics).
class target_tracking {
public:
    /// The HPA's own state and its last decision.
    struct state_type {
        hpa::autoscaler_state hpa;
        std::optional<std::int32_t> last_desired;
    };

    /// Validates the options and the HPA spec (config_error naming the field).
    explicit target_tracking(target_tracking_options opts)
        : opts_((opts.validate(), std::move(opts))),
          ctrl_(opts_.spec, opts_.controller) {}

    /// The configured name.
    const std::string& name() const noexcept { return opts_.name; }
    /// The HPA controller in use.
    const hpa::controller& controller() const noexcept { return ctrl_; }
    /// Nothing recorded yet.
    state_type initial_state() const { return {}; }

    /// One HPA reconcile over the snapshot.
    recommendation recommend(const scaling_input& in, state_type& st) const {
        const auto& spec = ctrl_.spec();
        hpa::reconcile_input ri;
        ri.current_replicas = clamp32(in.current);
        ri.status_replicas = clamp32(in.ready_members());
        ri.last_desired_replicas = st.last_desired;
        if (in.bounds) {
            // Inside a recommender its bounds are the only ones (the spec's are not used).
            ri.min_replicas = clamp32(in.bounds->min);
            ri.max_replicas = clamp32(in.bounds->max);
        }
        std::vector<std::string> notes;

        std::set<std::string, std::less<>> names;
        for (const auto& m : spec.metrics) {
            in.metrics.for_each(m.name, {}, [&](const metric_sample& s) {
                if (auto who = s.labels.get(opts_.member_label)) names.emplace(*who);
            });
        }
        for (const auto& n : names) ri.members.push_back(make_member(n, spec));
        // Members the actuator counts that sent no sample: the HPA treats them as missing.
        // One entry stands for all of them, so a reported size of millions costs nothing.
        if (const auto unreported = in.current - static_cast<std::int64_t>(names.size()); unreported > 0) {
            auto m = make_member(fmt::format("unreported members ({})", unreported), spec);
            m.count = clamp32(unreported);
            ri.members.push_back(std::move(m));
        }

        for (const auto& m : spec.metrics) ri.readings.push_back(reading_for(m, in.metrics, notes));

        hpa::decision d = ctrl_.reconcile(ri, st.hpa, in.now);
        st.hpa = std::move(d.state);
        st.last_desired = d.desired_replicas;

        recommendation r;
        r.why.policy = opts_.name;
        r.why.notes = std::move(notes);
        if (d.error) r.why.notes.push_back(*d.error);
        const bool any_estimate = std::any_of(d.metrics.begin(), d.metrics.end(),
                                              [](const hpa::metric_outcome& o) { return o.estimate.has_value(); });
        if (!d.winning_metric && d.error) {
            if (!any_estimate) {
                r.metric_missing = true;
                r.why.metric = spec.metrics.front().name;
                r.why.reason = d.reason;
                return r;
            }
            r.why.limited_by = limit::partial_metrics;
        }
        r.desired = d.desired_replicas;
        r.why.reason = d.reason;
        if (d.winning_metric) {
            const auto& won = d.metrics[*d.winning_metric];
            r.why.metric = spec.metrics[*d.winning_metric].name;
            if (won.estimate) {
                r.why.value = won.estimate->utilization ? static_cast<double>(*won.estimate->utilization)
                                                        : static_cast<double>(won.estimate->usage_milli) / 1000.0;
                r.why.reason = fmt::format("{}: {}", d.reason, won.estimate->reason);
            }
        }
        if (d.limit && *d.limit != hpa::limit_reason::desired_within_range)
            r.why.limited_by = from_hpa(*d.limit);
        if (d.stabilized_replicas && d.metric_replicas && *d.stabilized_replicas != *d.metric_replicas) {
            r.why.notes.push_back(fmt::format("metrics proposed {}, stabilized to {}", *d.metric_replicas,
                                              *d.stabilized_replicas));
            if (r.why.limited_by == limit::none) r.why.limited_by = limit::stabilization;
        }
        return r;
    }

private:
    static std::int32_t clamp32(std::int64_t v) {
        return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, 0, std::numeric_limits<std::int32_t>::max()));
    }

    // Every member has one container requesting 1.0 of each resource the spec scales on,
    // so a sample in percent of request maps to usage = percent * 10 milli.
    static hpa::member make_member(std::string name, const hpa::hpa_spec& spec) {
        hpa::member m;
        m.name = std::move(name);
        hpa::container_spec c;
        c.name = "main";
        for (const auto& ms : spec.metrics)
            if (ms.type == hpa::metric_source_type::resource || ms.type == hpa::metric_source_type::container_resource)
                c.requests_milli[ms.name] = 1000;
        m.containers.push_back(std::move(c));
        return m;
    }

    hpa::metric_reading reading_for(const hpa::metric_spec& m, const snapshot& snap,
                                    std::vector<std::string>& notes) const {
        hpa::metric_reading r;
        std::size_t used = 0;
        snap.for_each(m.name, {}, [&](const metric_sample& s) {
            if (!std::isfinite(s.value) || s.value < 0) {
                notes.push_back(fmt::format("{}={} ignored: {}", m.name, s.value,
                                            std::isfinite(s.value) ? "negative" : "not finite"));
                return;
            }
            const double milli = s.value * 1000.0;
            const auto who = s.labels.get(opts_.member_label);
            switch (m.type) {
            case hpa::metric_source_type::resource:
            case hpa::metric_source_type::container_resource: {
                if (!who) return;
                const double usage = m.target.type == hpa::target_type::utilization ? s.value * 10.0 : milli;
                hpa::resource_sample rs;
                rs.member = std::string(*who);
                rs.containers.push_back({"main", usage});
                rs.timestamp = s.timestamp;
                r.resource_samples.push_back(std::move(rs));
                break;
            }
            case hpa::metric_source_type::pods:
                if (!who) return;
                r.pod_samples.push_back({std::string(*who), milli, s.timestamp});
                break;
            case hpa::metric_source_type::object:
                if (!r.values_milli.empty()) return;
                r.values_milli.push_back(milli);
                break;
            case hpa::metric_source_type::external:
                r.values_milli.push_back(milli);
                break;
            case hpa::metric_source_type::unknown: return;
            }
            ++used;
        });
        if (used == 0) r.fetch_error = fmt::format("metric {} missing from snapshot", m.name);
        return r;
    }

    target_tracking_options opts_;
    hpa::controller ctrl_;
};

static_assert(scaling_policy<target_tracking>);

}  // namespace salama::scaling
