// hpa_conformance: replays Kubernetes HPA reference vectors (JSON, schema in
// tests/data/hpa/README.md) through salama's public HPA API. It only translates each vector into
// API calls and compares; every decision is made by salama::scaling::hpa.
//
// Usage: hpa_conformance [--expect N] FILE.json [FILE.json ...]
// Every object is read strictly: an unknown or misspelled key is an error naming its JSON path,
// and a case's `function` must be the one its `kind` (and target) calls. Prints "id: expected X,
// got Y" per failing vector and ends with "N passed, M failed". Exit status: 0 when nothing
// failed and the count matches --expect, 1 otherwise, 2 when a file could not be used.
#include <salama/scaling/hpa/hpa.hpp>

#ifdef SALAMA_HPA_JSON_HEADER_ONLY
#include <boost/json/src.hpp>
#endif
#include "strict_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace hpa = salama::scaling::hpa;
using salama::time_point;
using namespace salama::strict_json;

namespace {

/// The evaluation instant; ages count back from it.
const time_point now{std::chrono::hours(24 * 365 * 50)};

/// An age in seconds before `now`; null (or an age beyond any real clock) is the zero time.
time_point time_at_age(const json::value& v, const std::string& path) {
    if (v.is_null()) return hpa::zero_time;
    const double age = as_number(v, path);
    if (age >= 1.0e9) return hpa::zero_time;
    // Range-checked before the conversion to nanoseconds.
    const auto d = salama::checked_seconds_to_duration(age);
    if (!d) throw bad_input(fmt::format("{}: age {} s is outside [-1e9, 1e9)", path, age));
    return now - *d;
}

/// Seconds from a vector as a duration; outside [-1e9, 1e9] the vector is bad input.
salama::duration seconds(double s) {
    const auto d = salama::checked_seconds_to_duration(s);
    if (!d) throw bad_input(fmt::format("a duration of {} s is outside [-1e9, 1e9]", s));
    return *d;
}

// ---- translation of vector parts into API values ------------------------------------------

hpa::member_phase phase_of(const std::string& s, const std::string& path) {
    if (s == "Running") return hpa::member_phase::running;
    if (s == "Pending") return hpa::member_phase::pending;
    if (s == "Failed") return hpa::member_phase::failed;
    if (s == "Succeeded") return hpa::member_phase::succeeded;
    if (s == "Unknown") return hpa::member_phase::unknown;
    throw bad_input(fmt::format("{}: unknown phase \"{}\"", path, s));
}

std::vector<hpa::member> members_of(const json::object& c, const std::string& p, std::string_view resource) {
    std::vector<hpa::member> out;
    const auto& pods = array_at(c, "pods", p);
    for (std::size_t i = 0; i < pods.size(); ++i) {
        const auto pp = fmt::format("{}.pods[{}]", p, i);
        const auto& o = as_object(pods[i], pp,
                                  {"name", "phase", "ready", "start_age_s", "ready_transition_age_s", "deleted",
                                   "containers"});
        hpa::member m;
        m.name = string_at(o, "name", pp);
        m.phase = phase_of(string_at(o, "phase", pp), pp + ".phase");
        m.ready = as_bool(at(o, "ready", pp), pp + ".ready");
        m.start_time = time_at_age(at(o, "start_age_s", pp), pp + ".start_age_s");
        m.ready_transition = time_at_age(at(o, "ready_transition_age_s", pp), pp + ".ready_transition_age_s");
        m.being_deleted = as_bool(at(o, "deleted", pp), pp + ".deleted");
        const auto& cs = array_at(o, "containers", pp);
        for (std::size_t j = 0; j < cs.size(); ++j) {
            const auto cp = fmt::format("{}.containers[{}]", pp, j);
            const auto& co = as_object(cs[j], cp, {"name", "request_milli"});
            hpa::container_spec spec;
            spec.name = string_at(co, "name", cp);
            if (has(co, "request_milli")) spec.requests_milli.emplace(resource, int_at(co, "request_milli", cp));
            m.containers.push_back(std::move(spec));
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<hpa::resource_sample> resource_samples_of(const json::object& c, const std::string& p,
                                                      time_point ts, salama::duration window) {
    std::vector<hpa::resource_sample> out;
    if (!has(c, "resource_metrics")) return out;
    const auto& arr = array_at(c, "resource_metrics", p);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const auto sp = fmt::format("{}.resource_metrics[{}]", p, i);
        const auto& o = as_object(arr[i], sp, {"pod", "containers"});
        hpa::resource_sample s;
        s.member = string_at(o, "pod", sp);
        s.timestamp = ts;
        s.window = window;
        const auto& cs = array_at(o, "containers", sp);
        for (std::size_t j = 0; j < cs.size(); ++j) {
            const auto cp = fmt::format("{}.containers[{}]", sp, j);
            const auto& co = as_object(cs[j], cp, {"name", "usage_milli"});
            hpa::container_usage u;
            u.name = has(co, "name") ? string_at(co, "name", cp) : std::string();
            if (has(co, "usage_milli")) u.usage_milli = number_at(co, "usage_milli", cp);
            s.containers.push_back(std::move(u));
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<hpa::value_sample> pod_samples_of(const json::object& c, const std::string& p, time_point ts,
                                              salama::duration window) {
    std::vector<hpa::value_sample> out;
    if (!has(c, "pod_metrics")) return out;
    const auto& arr = array_at(c, "pod_metrics", p);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const auto sp = fmt::format("{}.pod_metrics[{}]", p, i);
        const auto& o = as_object(arr[i], sp, {"pod", "value_milli"});
        out.push_back({string_at(o, "pod", sp), number_at(o, "value_milli", sp), ts, window});
    }
    return out;
}

std::vector<double> external_values_of(const json::object& c, const std::string& p) {
    std::vector<double> out;
    if (!has(c, "external_metric_values_milli")) return out;
    const auto& arr = array_at(c, "external_metric_values_milli", p);
    for (std::size_t i = 0; i < arr.size(); ++i)
        out.push_back(as_number(arr[i], fmt::format("{}.external_metric_values_milli[{}]", p, i)));
    return out;
}

hpa::metric_target target_of(const json::object& t, const std::string& p) {
    only_keys(t, p, {"type", "average_utilization", "average_value_milli", "value_milli"});
    hpa::metric_target out;
    if (!has(t, "type")) return out;  // no target: left unset
    const auto type = string_at(t, "type", p);
    auto parsed = hpa::parse_target_type(type);
    if (!parsed) throw bad_input(fmt::format("{}.type: unknown target type \"{}\"", p, type));
    out.type = *parsed;
    switch (out.type) {
    case hpa::target_type::utilization: out.average_utilization = int32_at(t, "average_utilization", p); break;
    case hpa::target_type::value: out.value_milli = int_at(t, "value_milli", p); break;
    case hpa::target_type::average_value: out.average_value_milli = int_at(t, "average_value_milli", p); break;
    case hpa::target_type::unset: break;
    }
    return out;
}

std::optional<hpa::scaling_rules> rules_of(const json::value& v, const std::string& p) {
    if (v.is_null()) return std::nullopt;
    const auto& o = as_object(v, p, {"stabilization_window_seconds", "select_policy", "policies", "tolerance"});
    hpa::scaling_rules r;
    if (has(o, "stabilization_window_seconds"))
        r.stabilization_window_seconds = int32_at(o, "stabilization_window_seconds", p);
    if (has(o, "select_policy")) {
        const auto s = string_at(o, "select_policy", p);
        r.select = hpa::parse_select_policy(s);
        if (!r.select) throw bad_input(fmt::format("{}.select_policy: unknown select policy \"{}\"", p, s));
    }
    if (has(o, "policies")) {
        std::vector<hpa::rate_policy> ps;
        const auto& arr = array_at(o, "policies", p);
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const auto pp = fmt::format("{}.policies[{}]", p, i);
            const auto& po = as_object(arr[i], pp, {"type", "value", "period_seconds"});
            const auto type = string_at(po, "type", pp);
            auto t = hpa::parse_policy_type(type);
            if (!t) throw bad_input(fmt::format("{}.type: unknown policy type \"{}\"", pp, type));
            ps.push_back({*t, int32_at(po, "value", pp), int32_at(po, "period_seconds", pp)});
        }
        r.policies = std::move(ps);
    }
    if (has(o, "tolerance")) r.tolerance = number_at(o, "tolerance", p);
    return r;
}

std::vector<hpa::scale_event> events_of(const json::value& v, const std::string& p) {
    std::vector<hpa::scale_event> out;
    const auto& arr = as_array(v, p);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const auto ep = fmt::format("{}[{}]", p, i);
        const auto& o = as_object(arr[i], ep, {"replica_change", "age_s", "outdated"});
        hpa::scale_event e;
        e.replica_change = int32_at(o, "replica_change", ep);
        e.timestamp = time_at_age(at(o, "age_s", ep), ep + ".age_s");
        if (has(o, "outdated")) e.outdated = as_bool(at(o, "outdated", ep), ep + ".outdated");
        out.push_back(e);
    }
    return out;
}

std::vector<hpa::recommendation> recommendations_of(const json::value& v, const std::string& p) {
    std::vector<hpa::recommendation> out;
    const auto& arr = as_array(v, p);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const auto rp = fmt::format("{}[{}]", p, i);
        const auto& o = as_object(arr[i], rp, {"replicas", "age_s"});
        out.push_back({int32_at(o, "replicas", rp), time_at_age(at(o, "age_s", rp), rp + ".age_s")});
    }
    return out;
}

/// "expected X, got Y" when they differ; empty when they match.
std::string compare(const std::string& expected, const std::string& got) {
    if (expected == got) return {};
    return fmt::format("expected {}, got {}", expected, got);
}

// ---- replica_calculator_cases --------------------------------------------------------------

/// The replica calculator function each kind exercises (a resource kind: by its target type).
std::string function_of(const std::string& kind, const std::string& target_type, const std::string& p) {
    if (kind == "resource_utilization")
        return target_type == "AverageValue" ? "GetRawResourceReplicas" : "GetResourceReplicas";
    if (kind == "pods_average_value") return "GetMetricReplicas";
    if (kind == "object_value") return "GetObjectMetricReplicas";
    if (kind == "object_average_value") return "GetObjectPerPodMetricReplicas";
    if (kind == "external_value") return "GetExternalMetricReplicas";
    if (kind == "external_average_value") return "GetExternalPerPodMetricReplicas";
    throw bad_input(fmt::format("{}.kind: unknown kind \"{}\"", p, kind));
}

/// The keys a calculator case of `kind` may have.
void check_calculator_keys(const json::object& c, const std::string& p, const std::string& kind) {
    // Each list lives only within its statement (an initializer_list's array does no longer).
#define SALAMA_CALC_COMMON "id", "source", "note", "function", "kind", "tolerance", "cpu_initialization_period_s", \
        "delay_of_initial_readiness_status_s", "metric_age_s", "metric_window_s", "current_replicas", "target", \
        "pods", "expected"
    if (kind == "resource_utilization")
        only_keys(c, p, {SALAMA_CALC_COMMON, "resource", "container", "resource_metrics"});
    else if (kind == "pods_average_value")
        only_keys(c, p, {SALAMA_CALC_COMMON, "pod_metrics"});
    else if (kind == "object_value")
        only_keys(c, p, {SALAMA_CALC_COMMON, "object_metric_milli"});
    else if (kind == "object_average_value")
        only_keys(c, p, {SALAMA_CALC_COMMON, "object_metric_milli", "status_replicas"});
    else if (kind == "external_value")
        only_keys(c, p, {SALAMA_CALC_COMMON, "external_metric_values_milli"});
    else if (kind == "external_average_value")
        only_keys(c, p, {SALAMA_CALC_COMMON, "external_metric_values_milli", "status_replicas"});
    else
        throw bad_input(fmt::format("{}.kind: unknown kind \"{}\"", p, kind));
#undef SALAMA_CALC_COMMON
}

/// source: where in Kubernetes the vector comes from.
void check_source(const json::object& c, const std::string& p) {
    const auto& src = object_at(c, "source", p, {"repo", "file", "test", "case"});
    string_at(src, "test", join(p, "source"));
}

std::string run_calculator_case(const json::object& c, const std::string& p) {
    const auto kind = string_at(c, "kind", p);
    check_calculator_keys(c, p, kind);
    check_source(c, p);
    {
        const auto function = string_at(c, "function", p);
        const auto& t = object_at(c, "target", p);
        const auto want = function_of(kind, has(t, "type") ? string_at(t, "type", join(p, "target")) : "", p);
        if (function != want)
            throw bad_input(fmt::format("{}.function: kind {} calls {}, got \"{}\"", p, kind, want, function));
    }
    hpa::calculator_options opt;
    const double tol = number_at(c, "tolerance", p);
    opt.tolerance = {tol, tol};
    opt.cpu_initialization_period = seconds(number_at(c, "cpu_initialization_period_s", p));
    opt.initial_readiness_delay = seconds(number_at(c, "delay_of_initial_readiness_status_s", p));
    const hpa::replica_calculator calc{opt};
    const time_point metric_ts = time_at_age(at(c, "metric_age_s", p), p + ".metric_age_s");
    const auto window = seconds(number_at(c, "metric_window_s", p));
    const auto current = int32_at(c, "current_replicas", p);
    const auto target = target_of(object_at(c, "target", p), p + ".target");
    const std::string resource = has(c, "resource") ? string_at(c, "resource", p) : std::string("cpu");
    const auto members = members_of(c, p, resource);

    hpa::calc_result<hpa::replica_estimate> r = salama::error{};
    bool resource_kind = false;
    if (kind == "resource_utilization") {
        resource_kind = true;
        const auto container = has(c, "container") ? string_at(c, "container", p) : std::string();
        const auto samples = resource_samples_of(c, p, metric_ts, window);
        if (target.type == hpa::target_type::utilization)
            r = calc.resource_utilization(current, target.average_utilization, resource, container, members,
                                          samples, now);
        else if (target.type == hpa::target_type::average_value)
            r = calc.resource_average_value(current, target.average_value_milli, resource, container, members,
                                            samples, now);
        else
            throw bad_input(p + ".target: a resource case needs a Utilization or AverageValue target");
    } else if (kind == "pods_average_value") {
        r = calc.pods_average_value(current, target.average_value_milli, "qps", members,
                                    pod_samples_of(c, p, metric_ts, window), now);
    } else if (kind == "object_value") {
        r = calc.object_value(current, target.value_milli, number_at(c, "object_metric_milli", p), members);
    } else if (kind == "object_average_value") {
        r = calc.object_average_value(int32_at(c, "status_replicas", p), target.average_value_milli,
                                      number_at(c, "object_metric_milli", p));
    } else if (kind == "external_value") {
        const auto values = external_values_of(c, p);
        r = calc.external_value(current, target.value_milli, "qps", values, members);
    } else if (kind == "external_average_value") {
        const auto values = external_values_of(c, p);
        r = calc.external_average_value(int32_at(c, "status_replicas", p), target.average_value_milli, "qps",
                                        values);
    } else {
        throw bad_input(fmt::format("{}.kind: unknown kind \"{}\"", p, kind));
    }

    const auto& exp = object_at(c, "expected", p);
    const auto xp = join(p, "expected");
    if (has(exp, "error_contains")) {
        only_keys(exp, xp, {"error_contains"});
        const auto want = string_at(exp, "error_contains", xp);
        const std::string expected = fmt::format("an error containing \"{}\"", want);
        if (!r) {
            if (r.error().message().find(want) != std::string::npos) return {};
            return compare(expected, fmt::format("error \"{}\"", r.error().message()));
        }
        return compare(expected, fmt::format("replicas={}", r->replicas));
    }
    std::string expected = fmt::format("replicas={}", int32_at(exp, "replicas", xp));
    std::string got = r ? fmt::format("replicas={}", r->replicas) : fmt::format("error \"{}\"", r.error().message());
    if (resource_kind && target.type == hpa::target_type::utilization) {
        only_keys(exp, xp, {"replicas", "utilization", "raw_average_milli"});
        expected += fmt::format(" utilization={} raw_average_milli={}", int32_at(exp, "utilization", xp),
                                int_at(exp, "raw_average_milli", xp));
        if (r) got += fmt::format(" utilization={} raw_average_milli={}", r->utilization.value_or(-1), r->usage_milli);
    } else {
        // usage_milli, or raw_average_milli naming the same number; never both.
        if (has(exp, "usage_milli")) only_keys(exp, xp, {"replicas", "usage_milli"});
        else only_keys(exp, xp, {"replicas", "raw_average_milli"});
        const std::string key = has(exp, "usage_milli") ? "usage_milli" : "raw_average_milli";
        expected += fmt::format(" usage_milli={}", int_at(exp, key, xp));
        if (r) got += fmt::format(" usage_milli={}", r->usage_milli);
    }
    return compare(expected, got);
}

// ---- controller_cases ----------------------------------------------------------------------

hpa::metric_spec metric_spec_of(const json::object& m, const std::string& p) {
    only_keys(m, p, {"type", "resource", "metric", "container", "described_object", "target"});
    hpa::metric_spec s;
    s.type_name = string_at(m, "type", p);
    auto t = hpa::parse_metric_source_type(s.type_name);
    s.type = t.value_or(hpa::metric_source_type::unknown);
    if (s.type == hpa::metric_source_type::resource || s.type == hpa::metric_source_type::container_resource)
        s.name = string_at(m, "resource", p);
    else if (s.type != hpa::metric_source_type::unknown)
        s.name = string_at(m, "metric", p);
    if (s.type == hpa::metric_source_type::container_resource) s.container = string_at(m, "container", p);
    if (s.type == hpa::metric_source_type::object) {
        const auto op = p + ".described_object";
        const auto& o = object_at(m, "described_object", p, {"api_version", "kind", "name"});
        s.described_object = {string_at(o, "api_version", op), string_at(o, "kind", op), string_at(o, "name", op)};
    }
    if (has(m, "target")) s.target = target_of(object_at(m, "target", p), p + ".target");
    return s;
}

std::string run_controller_case(const json::object& c, const std::string& p) {
    only_keys(c, p,
              {"id", "source", "note", "controller", "hpa", "scale", "pods", "reported_levels", "resource_metrics",
               "pod_metrics", "object_metric_milli", "external_metric_values_milli", "metric_fetch_errors",
               "recommendations", "expected"});
    check_source(c, p);
    if (has(c, "kind") || has(c, "function")) throw bad_input(p + ": a controller case has no kind or function");
    const auto& co = object_at(c, "controller", p,
                               {"downscale_stabilization_s", "tolerance", "cpu_initialization_period_s",
                                "delay_of_initial_readiness_status_s", "scale_up_limit_factor",
                                "scale_up_limit_minimum", "metric_age_s", "metric_window_s"});
    const auto cp = p + ".controller";
    hpa::controller_options opt;
    opt.downscale_stabilization = seconds(number_at(co, "downscale_stabilization_s", cp));
    const double tol = number_at(co, "tolerance", cp);
    opt.tolerance = {tol, tol};
    opt.cpu_initialization_period = seconds(number_at(co, "cpu_initialization_period_s", cp));
    opt.initial_readiness_delay = seconds(number_at(co, "delay_of_initial_readiness_status_s", cp));
    opt.scale_up_limit_factor = number_at(co, "scale_up_limit_factor", cp);
    opt.scale_up_limit_minimum = number_at(co, "scale_up_limit_minimum", cp);
    const time_point metric_ts = time_at_age(at(co, "metric_age_s", cp), cp + ".metric_age_s");
    const auto window = seconds(number_at(co, "metric_window_s", cp));

    const auto& h = object_at(c, "hpa", p, {"min_replicas", "max_replicas", "status_desired_replicas", "metrics", "behavior"});
    const auto hp = p + ".hpa";
    hpa::hpa_spec spec;
    spec.min_replicas = int32_at(h, "min_replicas", hp);
    spec.max_replicas = int32_at(h, "max_replicas", hp);
    const auto& ms = array_at(h, "metrics", hp);
    for (std::size_t i = 0; i < ms.size(); ++i) {
        const auto mp = fmt::format("{}.metrics[{}]", hp, i);
        spec.metrics.push_back(metric_spec_of(as_object(ms[i], mp), mp));
    }
    if (has(h, "behavior")) {
        const auto& b = object_at(h, "behavior", hp, {"scale_up", "scale_down"});
        hpa::behavior beh;
        beh.scale_up = rules_of(at(b, "scale_up", hp + ".behavior"), hp + ".behavior.scale_up");
        beh.scale_down = rules_of(at(b, "scale_down", hp + ".behavior"), hp + ".behavior.scale_down");
        spec.behavior = beh;
    }

    hpa::reconcile_input in;
    const auto& scale = object_at(c, "scale", p, {"spec_replicas", "status_replicas"});
    in.current_replicas = int32_at(scale, "spec_replicas", p + ".scale");
    in.status_replicas = int32_at(scale, "status_replicas", p + ".scale");
    if (has(h, "status_desired_replicas")) in.last_desired_replicas = int32_at(h, "status_desired_replicas", hp);
    in.members = members_of(c, p, "cpu");
    std::vector<std::string> fetch_errors;
    if (has(c, "metric_fetch_errors")) {
        const auto& fe = array_at(c, "metric_fetch_errors", p);
        for (std::size_t i = 0; i < fe.size(); ++i)
            fetch_errors.push_back(as_string(fe[i], fmt::format("{}.metric_fetch_errors[{}]", p, i)));
    }
    for (const auto& m : spec.metrics) {
        hpa::metric_reading r;
        for (const auto& e : fetch_errors)
            if (e == m.type_name) r.fetch_error = "the metrics source returned an error";
        switch (m.type) {
        case hpa::metric_source_type::resource:
        case hpa::metric_source_type::container_resource:
            r.resource_samples = resource_samples_of(c, p, metric_ts, window);
            break;
        case hpa::metric_source_type::pods: r.pod_samples = pod_samples_of(c, p, metric_ts, window); break;
        case hpa::metric_source_type::object:
            if (has(c, "object_metric_milli")) r.values_milli.push_back(number_at(c, "object_metric_milli", p));
            break;
        case hpa::metric_source_type::external: r.values_milli = external_values_of(c, p); break;
        case hpa::metric_source_type::unknown: break;
        }
        in.readings.push_back(std::move(r));
    }
    hpa::autoscaler_state state;
    if (has(c, "recommendations"))
        state.recommendations = recommendations_of(at(c, "recommendations", p), p + ".recommendations");

    const hpa::controller ctl{spec, opt};
    const auto d = ctl.reconcile(in, state, now);

    const auto& exp = object_at(c, "expected", p, {"desired_replicas", "conditions"});
    std::string expected =
        fmt::format("desired_replicas={} conditions=[", int32_at(exp, "desired_replicas", join(p, "expected")));
    const auto& conds = array_at(exp, "conditions", p + ".expected");
    for (std::size_t i = 0; i < conds.size(); ++i) {
        const auto ep = fmt::format("{}.expected.conditions[{}]", p, i);
        const auto& t = as_array(conds[i], ep);
        if (t.size() != 3) throw bad_input(ep + ": expected [type, status, reason]");
        expected += fmt::format("{}{} {} {}", i ? ", " : "", as_string(t[0], ep), as_string(t[1], ep),
                                as_string(t[2], ep));
    }
    expected += "]";
    std::string got = fmt::format("desired_replicas={} conditions=[", d.desired_replicas);
    for (std::size_t i = 0; i < d.conditions.size(); ++i)
        got += fmt::format("{}{} {} {}", i ? ", " : "", hpa::to_string(d.conditions[i].type),
                           d.conditions[i].status ? "True" : "False", d.conditions[i].reason);
    got += "]";
    return compare(expected, got);
}

// ---- behavior_cases ------------------------------------------------------------------------

std::string run_behavior_case(const json::object& c, const std::string& p) {
    const auto kind = string_at(c, "kind", p);
    only_keys(c, p, {"id", "kind", "source", "note", "inputs", "expected"});
    check_source(c, p);
    const auto& in = object_at(c, "inputs", p);
    const auto ip = p + ".inputs";
    const auto& exp = object_at(c, "expected", p);
    const auto xp = p + ".expected";
    if (kind == "rate_limit") {
        only_keys(in, ip, {"scale_up_rules", "scale_down_rules", "scale_up_events", "scale_down_events",
                           "current_replicas", "desired_replicas", "min_replicas", "max_replicas"});
        only_keys(exp, xp, {"replicas", "condition"});
    } else if (kind == "stabilization") {
        only_keys(in, ip, {"recommendations", "current_replicas", "desired_replicas",
                           "scale_up_stabilization_window_s", "scale_down_stabilization_window_s"});
        only_keys(exp, xp, {"replicas", "stored_recommendations"});
    } else if (kind == "legacy_stabilization") {
        only_keys(in, ip, {"recommendations", "desired_replicas", "downscale_stabilization_window_s"});
        only_keys(exp, xp, {"replicas", "stored_recommendations_count"});
    } else if (kind == "legacy_clamp") {
        only_keys(in, ip, {"current_replicas", "desired_replicas", "min_replicas", "max_replicas",
                           "scale_up_limit_factor", "scale_up_limit_minimum"});
        only_keys(exp, xp, {"replicas", "condition"});
    } else if (kind == "scale_up_limit" || kind == "scale_down_limit") {
        only_keys(in, ip, {"scale_up_events", "scale_down_events", "rules", "current_replicas"});
        only_keys(exp, xp, {"limit"});
    } else if (kind == "store_events") {
        only_keys(in, ip, {"prev_events", "rules", "prev_replicas", "replica_change", "query_period_s"});
        only_keys(exp, xp, {"replicas_change_in_period_before_store", "events_after_store"});
    }

    if (kind == "rate_limit") {
        hpa::resolved_behavior b{hpa::resolve_scale_up(rules_of(at(in, "scale_up_rules", ip), ip + ".scale_up_rules")),
                                 hpa::resolve_scale_down(rules_of(at(in, "scale_down_rules", ip), ip + ".scale_down_rules"))};
        const auto up = events_of(at(in, "scale_up_events", ip), ip + ".scale_up_events");
        const auto down = events_of(at(in, "scale_down_events", ip), ip + ".scale_down_events");
        const auto r = hpa::limit_with_behavior(int32_at(in, "current_replicas", ip), int32_at(in, "desired_replicas", ip),
                                                int32_at(in, "min_replicas", ip), int32_at(in, "max_replicas", ip), b, up,
                                                down, now);
        return compare(fmt::format("replicas={} condition={}", int32_at(exp, "replicas", xp), string_at(exp, "condition", xp)),
                       fmt::format("replicas={} condition={}", r.replicas, hpa::to_string(r.reason)));
    }
    if (kind == "stabilization") {
        auto recs = recommendations_of(at(in, "recommendations", ip), ip + ".recommendations");
        const auto r = hpa::stabilize_with_behavior(recs, int32_at(in, "current_replicas", ip),
                                                    int32_at(in, "desired_replicas", ip),
                                                    int32_at(in, "scale_up_stabilization_window_s", ip),
                                                    int32_at(in, "scale_down_stabilization_window_s", ip), now);
        std::string expected = fmt::format("replicas={}", int32_at(exp, "replicas", xp));
        std::string got = fmt::format("replicas={}", r.replicas);
        if (has(exp, "stored_recommendations")) {
            const auto& want = array_at(exp, "stored_recommendations", xp);
            std::vector<std::int32_t> w, g;
            for (std::size_t i = 0; i < want.size(); ++i)
                w.push_back(as_int32(want[i], fmt::format("{}.stored_recommendations[{}]", xp, i)));
            for (const auto& rec : recs) g.push_back(rec.replicas);
            expected += fmt::format(" stored=[{}]", fmt::join(w, ","));
            got += fmt::format(" stored=[{}]", fmt::join(g, ","));
        }
        return compare(expected, got);
    }
    if (kind == "legacy_stabilization") {
        auto recs = recommendations_of(at(in, "recommendations", ip), ip + ".recommendations");
        const auto r = hpa::stabilize_legacy(recs, int32_at(in, "desired_replicas", ip),
                                             seconds(number_at(in, "downscale_stabilization_window_s", ip)), now);
        return compare(fmt::format("replicas={} stored_count={}", int32_at(exp, "replicas", xp),
                                   int_at(exp, "stored_recommendations_count", xp)),
                       fmt::format("replicas={} stored_count={}", r.replicas, recs.size()));
    }
    if (kind == "legacy_clamp") {
        const auto r = hpa::limit_legacy(int32_at(in, "current_replicas", ip), int32_at(in, "desired_replicas", ip),
                                         int32_at(in, "min_replicas", ip), int32_at(in, "max_replicas", ip),
                                         number_at(in, "scale_up_limit_factor", ip),
                                         number_at(in, "scale_up_limit_minimum", ip));
        return compare(fmt::format("replicas={} condition={}", int32_at(exp, "replicas", xp), string_at(exp, "condition", xp)),
                       fmt::format("replicas={} condition={}", r.replicas, hpa::to_string(r.reason)));
    }
    if (kind == "scale_up_limit" || kind == "scale_down_limit") {
        const auto up = events_of(at(in, "scale_up_events", ip), ip + ".scale_up_events");
        const auto down = events_of(at(in, "scale_down_events", ip), ip + ".scale_down_events");
        const auto rules = rules_of(at(in, "rules", ip), ip + ".rules");
        const auto current = int32_at(in, "current_replicas", ip);
        const auto limit = kind == "scale_up_limit"
                               ? hpa::scale_up_limit(current, up, down, hpa::resolve_scale_up(rules), now)
                               : hpa::scale_down_limit(current, up, down, hpa::resolve_scale_down(rules), now);
        return compare(fmt::format("limit={}", int32_at(exp, "limit", xp)), fmt::format("limit={}", limit));
    }
    if (kind == "store_events") {
        const auto prev = events_of(at(in, "prev_events", ip), ip + ".prev_events");
        const auto rules = rules_of(at(in, "rules", ip), ip + ".rules");
        const auto prev_replicas = int32_at(in, "prev_replicas", ip);
        const auto change = int32_at(in, "replica_change", ip);
        const auto period = int32_at(in, "query_period_s", ip);
        std::string expected = fmt::format("change_before={} events=[", int32_at(exp, "replicas_change_in_period_before_store", xp));
        const auto& want = array_at(exp, "events_after_store", xp);
        for (std::size_t i = 0; i < want.size(); ++i) {
            const auto wp = fmt::format("{}.events_after_store[{}]", xp, i);
            const auto& w = as_object(want[i], wp, {"replica_change", "outdated"});
            expected += fmt::format("{}{}{}", i ? "," : "", int32_at(w, "replica_change", wp),
                                    has(w, "outdated") && as_bool(at(w, "outdated", wp), wp + ".outdated")
                                        ? " outdated"
                                        : "");
        }
        expected += "]";
        std::optional<hpa::resolved_behavior> b;
        if (rules) b = hpa::resolved_behavior{hpa::resolve_scale_up(rules), hpa::resolve_scale_down(rules)};
        std::string failures;
        // Once as a scale-up and once as a scale-down, each direction keeping its own list.
        for (const bool up : {true, false}) {
            std::vector<hpa::scale_event> up_events, down_events;
            (up ? up_events : down_events) = prev;
            const auto before = hpa::replicas_change_in_period(period, prev, now);
            hpa::store_scale_event(up_events, down_events, b ? &*b : nullptr, prev_replicas,
                                   up ? prev_replicas + change : prev_replicas - change, now);
            std::string got = fmt::format("change_before={} events=[", before);
            const auto& after = up ? up_events : down_events;
            for (std::size_t i = 0; i < after.size(); ++i)
                got += fmt::format("{}{}{}", i ? "," : "", after[i].replica_change, after[i].outdated ? " outdated" : "");
            got += "]";
            if (auto diff = compare(expected, got); !diff.empty())
                failures += fmt::format("{}{} ({})", failures.empty() ? "" : "; ", diff, up ? "scale-up" : "scale-down");
        }
        return failures;
    }
    throw bad_input(fmt::format("{}.kind: unknown kind \"{}\"", p, kind));
}

void run_section(const json::object& root, std::string_view section, const std::string& file,
                 std::string (*run)(const json::object&, const std::string&), tally& t) {
    const auto& cases = as_array(at(root, section, file), join(file, section));
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto p = fmt::format("{}[{}]", section, i);
        std::string id = p;
        std::string outcome;
        try {
            const auto& c = as_object(cases[i], p);
            id = string_at(c, "id", p);
            outcome = run(c, p);
        } catch (const bad_input& e) {
            outcome = fmt::format("expected a vector following the schema, got bad input: {}", e.what());
        } catch (const std::exception& e) {
            outcome = fmt::format("expected a result, got an exception: {}", e.what());
        }
        if (outcome.empty()) {
            ++t.passed;
        } else {
            ++t.failed;
            fmt::print("{}: {}\n", id, outcome);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto args = parse_args(argc, argv);
    if (!args.error.empty()) {
        fmt::print(stderr, "{}\nusage: {} [--expect N] FILE.json [FILE.json ...]\n", args.error,
                   argc > 0 ? argv[0] : "hpa_conformance");
        return 2;
    }
    tally t;
    bool file_error = false;
    for (const auto& file : args.files) {
        auto parsed = read_file(file);
        if (!parsed.error.empty()) {
            fmt::print("{}: {}\n", file, parsed.error);
            file_error = true;
            continue;
        }
        try {
            const auto& o = as_object(parsed.root, file,
                                      {"schema_version", "description", "provenance", "time_conventions",
                                       "replica_calculator_cases", "controller_cases", "behavior_cases"});
            const auto version = int_at(o, "schema_version", file);
            if (version != 1) throw bad_input(fmt::format("{}.schema_version: unsupported version {}", file, version));
            if (has(o, "provenance")) object_at(o, "provenance", file, {"repo", "files", "snapshot_note"});
            if (has(o, "time_conventions"))
                object_at(o, "time_conventions", file, {"age_s", "go_zero_time_age_s_suggestion", "inside_window_rule"});
            run_section(o, "replica_calculator_cases", file, run_calculator_case, t);
            run_section(o, "controller_cases", file, run_controller_case, t);
            run_section(o, "behavior_cases", file, run_behavior_case, t);
        } catch (const bad_input& e) {
            fmt::print("{}: bad input: {}\n", file, e.what());
            file_error = true;
        }
    }
    return finish(t, args, file_error);
}
