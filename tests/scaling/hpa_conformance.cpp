// hpa_conformance: replays Kubernetes HPA reference vectors (JSON, schema in
// tests/data/hpa/README.md) through salama's public HPA API. It only translates each vector into
// API calls and compares; every decision is made by salama::scaling::hpa.
//
// Usage: hpa_conformance FILE.json [FILE.json ...]
// Prints "id: expected X, got Y" per failing vector and ends with "N passed, M failed".
// Exit status: 0 when nothing failed, 1 when a vector failed, 2 when a file could not be used.
#include <salama/scaling/hpa/hpa.hpp>

#ifdef SALAMA_HPA_JSON_HEADER_ONLY
#include <boost/json/src.hpp>
#else
#include <boost/json.hpp>
#endif

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace json = boost::json;
namespace hpa = salama::scaling::hpa;
using salama::time_point;

namespace {

/// A vector or file that does not follow the schema.
struct bad_input : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The evaluation instant; ages count back from it.
const time_point now{std::chrono::hours(24 * 365 * 50)};

// ---- checked access to JSON values --------------------------------------------------------

const json::object& as_object(const json::value& v, const std::string& path) {
    if (!v.is_object()) throw bad_input(fmt::format("{}: expected an object", path));
    return v.get_object();
}

const json::array& as_array(const json::value& v, const std::string& path) {
    if (!v.is_array()) throw bad_input(fmt::format("{}: expected an array", path));
    return v.get_array();
}

const json::value& at(const json::object& o, std::string_view key, const std::string& path) {
    auto it = o.find(key);
    if (it == o.end()) throw bad_input(fmt::format("{}.{}: missing", path, key));
    return it->value();
}

bool has(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && !it->value().is_null();
}

double as_number(const json::value& v, const std::string& path) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double() && std::isfinite(v.get_double())) return v.get_double();
    throw bad_input(fmt::format("{}: expected a number", path));
}

std::int64_t as_int(const json::value& v, const std::string& path) {
    const double d = as_number(v, path);
    if (d != std::floor(d) || std::abs(d) > 9.0e15)
        throw bad_input(fmt::format("{}: expected an integer, got {}", path, d));
    return static_cast<std::int64_t>(d);
}

std::int32_t as_int32(const json::value& v, const std::string& path) {
    const auto i = as_int(v, path);
    if (i < INT32_MIN || i > INT32_MAX) throw bad_input(fmt::format("{}: out of the int32 range", path));
    return static_cast<std::int32_t>(i);
}

std::string as_string(const json::value& v, const std::string& path) {
    if (!v.is_string()) throw bad_input(fmt::format("{}: expected a string", path));
    return std::string(v.get_string());
}

bool as_bool(const json::value& v, const std::string& path) {
    if (!v.is_bool()) throw bad_input(fmt::format("{}: expected true or false", path));
    return v.get_bool();
}

std::int32_t int32_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_int32(at(o, k, p), fmt::format("{}.{}", p, k));
}
std::int64_t int_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_int(at(o, k, p), fmt::format("{}.{}", p, k));
}
double number_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_number(at(o, k, p), fmt::format("{}.{}", p, k));
}
std::string string_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_string(at(o, k, p), fmt::format("{}.{}", p, k));
}
const json::array& array_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_array(at(o, k, p), fmt::format("{}.{}", p, k));
}
const json::object& object_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_object(at(o, k, p), fmt::format("{}.{}", p, k));
}

/// An age in seconds before `now`; null (or an age beyond any real clock) is the zero time.
time_point time_at_age(const json::value& v, const std::string& path) {
    if (v.is_null()) return hpa::zero_time;
    const double age = as_number(v, path);
    if (age >= 1.0e9) return hpa::zero_time;
    return now - salama::seconds_to_duration(age);
}

salama::duration seconds(double s) { return salama::seconds_to_duration(s); }

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
        const auto& o = as_object(pods[i], pp);
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
            const auto& co = as_object(cs[j], cp);
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
        const auto& o = as_object(arr[i], sp);
        hpa::resource_sample s;
        s.member = string_at(o, "pod", sp);
        s.timestamp = ts;
        s.window = window;
        const auto& cs = array_at(o, "containers", sp);
        for (std::size_t j = 0; j < cs.size(); ++j) {
            const auto cp = fmt::format("{}.containers[{}]", sp, j);
            const auto& co = as_object(cs[j], cp);
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
        const auto& o = as_object(arr[i], sp);
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
    const auto& o = as_object(v, p);
    hpa::scaling_rules r;
    if (has(o, "stabilization_window_seconds"))
        r.stabilization_window_seconds = int32_at(o, "stabilization_window_seconds", p);
    if (has(o, "select_policy")) {
        const auto s = string_at(o, "select_policy", p);
        r.select = hpa::parse_select_policy(s);
        if (!r.select) throw bad_input(fmt::format("{}.select_policy: unknown select policy \"{}\"", p, s));
    }
    if (has(o, "policies")) {
        std::vector<hpa::scaling_policy> ps;
        const auto& arr = array_at(o, "policies", p);
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const auto pp = fmt::format("{}.policies[{}]", p, i);
            const auto& po = as_object(arr[i], pp);
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
        const auto& o = as_object(arr[i], ep);
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
        const auto& o = as_object(arr[i], rp);
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

std::string run_calculator_case(const json::object& c, const std::string& p) {
    const auto kind = string_at(c, "kind", p);
    string_at(c, "function", p);
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

    hpa::calc_result<hpa::replica_estimate> r = hpa::calc_error{};
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
    if (has(exp, "error_contains")) {
        const auto want = string_at(exp, "error_contains", p + ".expected");
        const std::string expected = fmt::format("an error containing \"{}\"", want);
        if (!r) {
            if (r.error().message.find(want) != std::string::npos) return {};
            return compare(expected, fmt::format("error \"{}\"", r.error().message));
        }
        return compare(expected, fmt::format("replicas={}", r->replicas));
    }
    std::string expected = fmt::format("replicas={}", int32_at(exp, "replicas", p + ".expected"));
    std::string got = r ? fmt::format("replicas={}", r->replicas) : fmt::format("error \"{}\"", r.error().message);
    if (resource_kind && target.type == hpa::target_type::utilization) {
        expected += fmt::format(" utilization={} raw_average_milli={}", int32_at(exp, "utilization", p),
                                int_at(exp, "raw_average_milli", p));
        if (r) got += fmt::format(" utilization={} raw_average_milli={}", r->utilization.value_or(-1), r->usage_milli);
    } else {
        const std::string key = has(exp, "usage_milli") ? "usage_milli" : "raw_average_milli";
        expected += fmt::format(" usage_milli={}", int_at(exp, key, p + ".expected"));
        if (r) got += fmt::format(" usage_milli={}", r->usage_milli);
    }
    return compare(expected, got);
}

// ---- controller_cases ----------------------------------------------------------------------

hpa::metric_spec metric_spec_of(const json::object& m, const std::string& p) {
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
        const auto& o = object_at(m, "described_object", p);
        s.described_object = {string_at(o, "api_version", op), string_at(o, "kind", op), string_at(o, "name", op)};
    }
    if (has(m, "target")) s.target = target_of(object_at(m, "target", p), p + ".target");
    return s;
}

std::string run_controller_case(const json::object& c, const std::string& p) {
    const auto& co = object_at(c, "controller", p);
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

    const auto& h = object_at(c, "hpa", p);
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
        const auto& b = object_at(h, "behavior", hp);
        hpa::behavior beh;
        beh.scale_up = rules_of(at(b, "scale_up", hp + ".behavior"), hp + ".behavior.scale_up");
        beh.scale_down = rules_of(at(b, "scale_down", hp + ".behavior"), hp + ".behavior.scale_down");
        spec.behavior = beh;
    }

    hpa::reconcile_input in;
    const auto& scale = object_at(c, "scale", p);
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

    const auto& exp = object_at(c, "expected", p);
    std::string expected = fmt::format("desired_replicas={} conditions=[", int32_at(exp, "desired_replicas", p));
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
    const auto& in = object_at(c, "inputs", p);
    const auto ip = p + ".inputs";
    const auto& exp = object_at(c, "expected", p);
    const auto xp = p + ".expected";

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
            const auto& w = as_object(want[i], wp);
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

struct tally {
    int passed = 0;
    int failed = 0;
};

void run_section(const json::object& root, std::string_view section, const std::string& file,
                 std::string (*run)(const json::object&, const std::string&), tally& t) {
    if (root.find(section) == root.end()) throw bad_input(fmt::format("missing section \"{}\"", section));
    const auto& cases = as_array(at(root, section, file), std::string(section));
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
    if (argc < 2) {
        fmt::print(stderr, "usage: {} FILE.json [FILE.json ...]\n", argc > 0 ? argv[0] : "hpa_conformance");
        return 2;
    }
    tally t;
    bool file_error = false;
    for (int a = 1; a < argc; ++a) {
        const std::string file = argv[a];
        std::ifstream f(file, std::ios::binary);
        if (!f) {
            fmt::print("{}: cannot open the file\n", file);
            file_error = true;
            continue;
        }
        std::stringstream buf;
        buf << f.rdbuf();
        boost::system::error_code ec;
        json::value root = json::parse(buf.str(), ec);
        if (ec) {
            fmt::print("{}: not valid JSON: {}\n", file, ec.message());
            file_error = true;
            continue;
        }
        try {
            const auto& o = as_object(root, file);
            const auto version = int_at(o, "schema_version", file);
            if (version != 1) throw bad_input(fmt::format("{}: unsupported schema_version {}", file, version));
            run_section(o, "replica_calculator_cases", file, run_calculator_case, t);
            run_section(o, "controller_cases", file, run_controller_case, t);
            run_section(o, "behavior_cases", file, run_behavior_case, t);
        } catch (const bad_input& e) {
            fmt::print("{}: bad input: {}\n", file, e.what());
            file_error = true;
        }
    }
    fmt::print("{} passed, {} failed\n", t.passed, t.failed);
    if (file_error) return 2;
    return t.failed == 0 && t.passed > 0 ? 0 : 1;
}
