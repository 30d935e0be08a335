// salama: a recommender described in JSON, for configuration files and replays.
//
// Needs Boost.JSON: link Boost::json, or include <boost/json/src.hpp> in one source file. Every field is checked; a wrong type, an unknown
// field or an unknown policy type throws config_error naming the field by its path, e.g.
// "invalid scaling_config.policies[1].type: unknown policy type 'magic' (known: ...)".
//
//   { "resource": "gpu", "min_replicas": 1, "max_replicas": 20,
//     "fallback": { "mode": "replicas", "replicas": 4, "failure_threshold": 3 },
//     "policies": [ { "type": "rules", "rules": [ { "metric": "gpu_utilization",
//                     "threshold": 80, "action": "scale_up", "cooldown": 300, "scale_size": 2 } ] },
//                   { "type": "target_tracking", "metrics": [ { "source": "Resource",
//                     "name": "cpu", "target_type": "Utilization", "target": 60 } ] } ] }
//
// Policy types: rules, step, target_tracking, panic, schedule, scale_to_zero and
// hysteresis (the last two wrap a nested "policy"). Durations are seconds; times of day
// are "HH:MM".
#pragma once

#include "salama/core/validation.hpp"
#include "salama/scaling/any_policy.hpp"
#include "salama/scaling/hysteresis.hpp"
#include "salama/scaling/panic_mode.hpp"
#include "salama/scaling/recommender_options.hpp"
#include "salama/scaling/scale_to_zero.hpp"
#include "salama/scaling/schedule.hpp"
#include "salama/scaling/step_scaling.hpp"
#include "salama/scaling/target_tracking.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salama::scaling {

namespace detail {

// Reads one JSON object, naming every field by its path in errors.
class json_fields {
public:
    json_fields(const boost::json::value& v, std::string path, std::initializer_list<std::string_view> known)
        : path_(std::move(path)) {
        if (!v.is_object()) fail(path_, "must be an object");
        obj_ = &v.as_object();
        for (const auto& kv : *obj_) {
            bool ok = false;
            for (auto k : known) ok = ok || kv.key() == k;
            if (!ok) fail(at(kv.key()), "unknown field");
        }
    }

    [[noreturn]] static void fail(std::string field, std::string reason) {
        throw config_error(field_error{std::move(field), std::move(reason)});
    }
    std::string at(std::string_view key) const { return fmt::format("{}.{}", path_, key); }
    const boost::json::value* find(std::string_view key) const { return obj_->if_contains(key); }
    bool has(std::string_view key) const { return find(key) != nullptr; }

    const boost::json::value& required(std::string_view key) const {
        if (auto* v = find(key)) return *v;
        fail(at(key), "is required");
    }
    double number(std::string_view key, std::optional<double> def = std::nullopt) const {
        const auto* v = find(key);
        if (!v) {
            if (def) return *def;
            fail(at(key), "is required");
        }
        if (v->is_double()) return v->get_double();
        if (v->is_int64()) return static_cast<double>(v->get_int64());
        if (v->is_uint64()) return static_cast<double>(v->get_uint64());
        fail(at(key), "must be a number");
    }
    std::optional<double> optional_number(std::string_view key) const {
        if (!has(key) || find(key)->is_null()) return std::nullopt;
        return number(key);
    }
    std::int64_t integer(std::string_view key, std::optional<std::int64_t> def = std::nullopt) const {
        const double d = number(key, def ? std::optional<double>(static_cast<double>(*def)) : std::nullopt);
        if (!(std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9e15))
            fail(at(key), fmt::format("must be a whole number, got {}", d));
        return static_cast<std::int64_t>(d);
    }
    std::string string(std::string_view key, std::optional<std::string_view> def = std::nullopt) const {
        const auto* v = find(key);
        if (!v) {
            if (def) return std::string(*def);
            fail(at(key), "is required");
        }
        if (!v->is_string()) fail(at(key), "must be a string");
        return std::string(v->get_string());
    }
    bool boolean(std::string_view key, bool def) const {
        const auto* v = find(key);
        if (!v) return def;
        if (!v->is_bool()) fail(at(key), "must be true or false");
        return v->get_bool();
    }
    const boost::json::array& array(std::string_view key) const {
        const auto& v = required(key);
        if (!v.is_array()) fail(at(key), "must be an array");
        return v.as_array();
    }
    // Range-checked before the conversion: 1e10 or 1e400 (infinity) would overflow the
    // nanosecond count.
    duration seconds(std::string_view key, duration def) const {
        const double s = number(key, to_seconds(def));
        if (s < 0) fail(at(key), fmt::format("must be non-negative, got {}", s));
        if (!(std::isfinite(s) && s <= max_duration_seconds))
            fail(at(key), fmt::format("must be within [0, {:g}] seconds, got {}", max_duration_seconds, s));
        return seconds_to_duration(s);
    }
    template <class Enum>
    Enum choice(std::string_view key, std::initializer_list<std::pair<std::string_view, Enum>> options,
                std::optional<Enum> def = std::nullopt) const {
        if (!has(key) && def) return *def;
        const std::string s = string(key);
        std::string known;
        for (const auto& [name, value] : options) {
            if (name == s) return value;
            known += known.empty() ? std::string(name) : fmt::format(", {}", name);
        }
        fail(at(key), fmt::format("unknown value '{}' (known: {})", s, known));
    }

private:
    std::string path_;
    const boost::json::object* obj_ = nullptr;
};

inline metric_query parse_query(const json_fields& f, std::string_view key, aggregation def) {
    metric_query q;
    q.name = f.string(key);
    q.aggregate = f.choice<aggregation>("aggregate",
                                        {{"average", aggregation::average}, {"sum", aggregation::sum},
                                         {"max", aggregation::max}, {"min", aggregation::min}},
                                        def);
    q.allow_negative = f.boolean("allow_negative", false);
    return q;
}

inline std::chrono::seconds parse_time_of_day(const json_fields& f, std::string_view key) {
    const std::string s = f.string(key);
    auto digit = [&](std::size_t i) { return s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -100; };
    if (s.size() == 5 && s[2] == ':') {
        const int h = digit(0) * 10 + digit(1), m = digit(3) * 10 + digit(4);
        if (h >= 0 && m >= 0 && m < 60 && (h < 24 || (h == 24 && m == 0)))
            return std::chrono::hours(h) + std::chrono::minutes(m);
    }
    json_fields::fail(f.at(key), fmt::format("must be a time of day \"HH:MM\", got '{}'", s));
}

inline any_policy parse_policy(const boost::json::value& v, const std::string& path, const recommender_options& ro);

inline any_policy parse_rules(const boost::json::value& v, const std::string& path) {
    json_fields f(v, path, {"type", "name", "rules"});
    std::vector<scaling_rule> rules;
    const auto& arr = f.array("rules");
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const std::string rp = fmt::format("{}.rules[{}]", path, i);
        json_fields r(arr[i], rp,
                      {"name", "metric", "threshold", "action", "cooldown", "scale_size"});
        scaling_rule rule;
        rule.name = r.string("name", "");
        rule.metric = r.string("metric");
        rule.threshold = r.number("threshold");
        rule.action = r.choice<scale_action>(
            "action", {{"scale_up", scale_action::scale_up}, {"scale_down", scale_action::scale_down}});
        rule.cooldown = r.seconds("cooldown", std::chrono::seconds(300));
        rule.scale_size = r.integer("scale_size", 1);
        rule.validate(rp);
        rules.push_back(std::move(rule));
    }
    return any_policy(step_scaling(rules, f.string("name", "rules")));
}

inline any_policy parse_step(const boost::json::value& v, const std::string& path) {
    json_fields f(v, path,
                  {"type", "name", "metric", "aggregate", "allow_negative", "threshold", "breach", "adjustment_type",
                   "steps", "min_adjustment_magnitude", "cooldown"});
    step_policy_options p;
    p.name = f.string("name");
    p.metric = parse_query(f, "metric", aggregation::average);
    p.threshold = f.number("threshold");
    p.when = f.choice<breach>("breach", {{"above", breach::above}, {"below", breach::below}}, breach::above);
    p.type = f.choice<adjustment_type>("adjustment_type",
                                       {{"change_in_capacity", adjustment_type::change_in_capacity},
                                        {"percent_change_in_capacity", adjustment_type::percent_change_in_capacity},
                                        {"exact_capacity", adjustment_type::exact_capacity}},
                                       adjustment_type::change_in_capacity);
    const auto& steps = f.array("steps");
    for (std::size_t i = 0; i < steps.size(); ++i) {
        json_fields s(steps[i], fmt::format("{}.steps[{}]", path, i), {"lower", "upper", "adjustment"});
        p.steps.push_back({s.optional_number("lower"), s.optional_number("upper"), s.number("adjustment")});
    }
    p.min_adjustment_magnitude = f.integer("min_adjustment_magnitude", 0);
    p.cooldown = f.seconds("cooldown", std::chrono::seconds(300));
    p.validate(path);
    return any_policy(step_scaling({p}, p.name));
}

/// The largest utilization target a configuration may give, in percent of the request.
inline constexpr double max_target_utilization = 1e6;
/// The largest value or average-value target, so that its milli-units stay exact in a double.
inline constexpr double max_target_value = 1e12;

inline any_policy parse_target_tracking(const boost::json::value& v, const std::string& path,
                                        const recommender_options& ro) {
    json_fields f(v, path, {"type", "name", "metrics", "tolerance", "downscale_stabilization", "member_label"});
    target_tracking_options o;
    o.name = f.string("name", "target_tracking");
    o.member_label = f.string("member_label", label::member);
    constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
    o.spec.min_replicas = static_cast<std::int32_t>(std::clamp<std::int64_t>(ro.min_replicas, 0, int32_max));
    o.spec.max_replicas = static_cast<std::int32_t>(std::clamp<std::int64_t>(ro.max_replicas, 1, int32_max));
    const double tol = f.number("tolerance", 0.1);
    o.controller.tolerance = {tol, tol};
    o.controller.downscale_stabilization = f.seconds("downscale_stabilization", std::chrono::seconds(300));
    const auto& metrics = f.array("metrics");
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        const std::string mp = fmt::format("{}.metrics[{}]", path, i);
        json_fields m(metrics[i], mp, {"source", "name", "target_type", "target"});
        hpa::metric_spec ms;
        ms.type = m.choice<hpa::metric_source_type>("source",
                                                    {{"Resource", hpa::metric_source_type::resource},
                                                     {"Pods", hpa::metric_source_type::pods},
                                                     {"Object", hpa::metric_source_type::object},
                                                     {"External", hpa::metric_source_type::external}});
        ms.name = m.string("name");
        ms.target.type = m.choice<hpa::target_type>("target_type",
                                                    {{"Utilization", hpa::target_type::utilization},
                                                     {"AverageValue", hpa::target_type::average_value},
                                                     {"Value", hpa::target_type::value}});
        const double target = m.number("target");
        if (!(std::isfinite(target) && target > 0)) json_fields::fail(m.at("target"), fmt::format("must be positive, got {}", target));
        // Range-checked before the integer conversions: 4294967396 % would wrap through int32.
        if (ms.target.type == hpa::target_type::utilization) {
            if (ms.type != hpa::metric_source_type::resource)
                json_fields::fail(m.at("target_type"), "Utilization applies to Resource metrics only");
            if (!(target >= 1 && target <= max_target_utilization))
                json_fields::fail(m.at("target"), fmt::format("a utilization must be within [1, {:g}] percent, got {}",
                                                             max_target_utilization, target));
            ms.target.average_utilization = static_cast<std::int32_t>(std::lround(target));
        } else {
            if (!(target >= 0.001 && target <= max_target_value))
                json_fields::fail(m.at("target"),
                                  fmt::format("must be within [0.001, {:g}], got {}", max_target_value, target));
            const auto milli = static_cast<hpa::milli>(std::llround(target * 1000));
            if (ms.target.type == hpa::target_type::average_value) ms.target.average_value_milli = milli;
            else ms.target.value_milli = milli;
        }
        o.spec.metrics.push_back(std::move(ms));
    }
    return any_policy(target_tracking(std::move(o)));
}

inline any_policy parse_panic(const boost::json::value& v, const std::string& path) {
    json_fields f(v, path,
                  {"type", "name", "metric", "aggregate", "allow_negative", "target", "stable_window",
                   "panic_window_percentage", "panic_threshold", "max_scale_up_rate", "max_scale_down_rate"});
    panic_mode_options o;
    o.name = f.string("name", "panic_mode");
    o.metric = parse_query(f, "metric", aggregation::sum);
    o.target = f.number("target");
    o.stable_window = f.seconds("stable_window", o.stable_window);
    o.panic_window_percentage = f.number("panic_window_percentage", o.panic_window_percentage);
    o.panic_threshold = f.number("panic_threshold", o.panic_threshold);
    o.max_scale_up_rate = f.number("max_scale_up_rate", o.max_scale_up_rate);
    o.max_scale_down_rate = f.number("max_scale_down_rate", o.max_scale_down_rate);
    return any_policy(panic_mode(std::move(o)));
}

inline any_policy parse_schedule(const boost::json::value& v, const std::string& path) {
    json_fields f(v, path, {"type", "utc_offset", "windows"});
    schedule_options o;
    o.utc_offset = std::chrono::seconds(f.integer("utc_offset", 0));
    const auto& windows = f.array("windows");
    for (std::size_t i = 0; i < windows.size(); ++i) {
        const std::string wp = fmt::format("{}.windows[{}]", path, i);
        json_fields w(windows[i], wp, {"name", "start", "end", "min_replicas", "days"});
        schedule_window sw;
        sw.name = w.string("name");
        sw.start = parse_time_of_day(w, "start");
        sw.end = parse_time_of_day(w, "end");
        sw.min_replicas = w.integer("min_replicas");
        if (w.has("days")) {
            sw.days.fill(false);
            const auto& days = w.array("days");
            static constexpr std::string_view names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
            for (std::size_t d = 0; d < days.size(); ++d) {
                const std::string dp = fmt::format("{}.days[{}]", wp, d);
                if (!days[d].is_string()) json_fields::fail(dp, "must be a weekday name");
                bool found = false;
                for (std::size_t k = 0; k < 7; ++k)
                    if (days[d].get_string() == names[k]) sw.days[k] = found = true;
                if (!found)
                    json_fields::fail(dp, fmt::format("unknown weekday '{}' (known: sun, mon, tue, wed, thu, fri, sat)",
                                                      std::string_view(days[d].get_string())));
            }
        }
        o.windows.push_back(std::move(sw));
    }
    return any_policy(schedule_floor(std::move(o)));
}

inline any_policy parse_policy(const boost::json::value& v, const std::string& path,
                               const recommender_options& ro) {
    json_fields head(v, path,
                     {"type", "name", "rules", "metric", "aggregate", "allow_negative", "threshold", "breach",
                      "adjustment_type", "steps", "min_adjustment_magnitude", "cooldown", "metrics", "tolerance",
                      "downscale_stabilization", "member_label", "target", "stable_window", "panic_window_percentage",
                      "panic_threshold", "max_scale_up_rate", "max_scale_down_rate", "utc_offset", "windows",
                      "activation_metric", "activation_threshold", "policy", "scale_up_above", "scale_down_below"});
    const std::string type = head.string("type");
    if (type == "rules") return parse_rules(v, path);
    if (type == "step") return parse_step(v, path);
    if (type == "target_tracking") return parse_target_tracking(v, path, ro);
    if (type == "panic") return parse_panic(v, path);
    if (type == "schedule") return parse_schedule(v, path);
    if (type == "scale_to_zero") {
        json_fields f(v, path, {"type", "activation_metric", "aggregate", "allow_negative", "activation_threshold",
                                "cooldown", "policy"});
        scale_to_zero_options o;
        o.activation_metric = parse_query(f, "activation_metric", aggregation::sum);
        o.activation_threshold = f.number("activation_threshold", 0);
        o.cooldown = f.seconds("cooldown", std::chrono::seconds(300));
        return any_policy(scale_to_zero<any_policy>(std::move(o), parse_policy(f.required("policy"), f.at("policy"), ro)));
    }
    if (type == "hysteresis") {
        json_fields f(v, path,
                      {"type", "metric", "aggregate", "allow_negative", "scale_up_above", "scale_down_below", "policy"});
        hysteresis_options o;
        o.metric = parse_query(f, "metric", aggregation::average);
        o.scale_up_above = f.number("scale_up_above");
        o.scale_down_below = f.number("scale_down_below");
        return any_policy(hysteresis<any_policy>(std::move(o), parse_policy(f.required("policy"), f.at("policy"), ro)));
    }
    json_fields::fail(head.at("type"),
                      fmt::format("unknown policy type '{}' (known: rules, step, target_tracking, panic, schedule, "
                                  "scale_to_zero, hysteresis)",
                                  type));
}

}  // namespace detail

/// Builds a run-time recommender from its JSON description. Throws config_error naming
/// the field ("scaling_config.<path>") for any invalid input.
inline dynamic_recommender make_recommender(const boost::json::value& config) {
    using detail::json_fields;
    json_fields f(config, "scaling_config", {"resource", "min_replicas", "max_replicas", "fallback", "policies"});
    recommender_options ro;
    ro.resource = f.string("resource", resource::cpu);
    ro.min_replicas = f.integer("min_replicas", ro.min_replicas);
    ro.max_replicas = f.integer("max_replicas", ro.max_replicas);
    if (const auto* fb = f.find("fallback")) {
        json_fields b(*fb, f.at("fallback"), {"mode", "replicas", "failure_threshold"});
        ro.fallback.mode = b.choice<fallback_mode>("mode", {{"hold", fallback_mode::hold},
                                                            {"replicas", fallback_mode::replicas}},
                                                   fallback_mode::hold);
        ro.fallback.replicas = b.integer("replicas", 0);
        const auto th = b.integer("failure_threshold", 1);
        if (th < 1) json_fields::fail(b.at("failure_threshold"), fmt::format("must be at least 1, got {}", th));
        ro.fallback.failure_threshold = static_cast<std::size_t>(th);
    }
    ro.validate("scaling_config");
    std::vector<any_policy> policies;
    const auto& arr = f.array("policies");
    if (arr.empty()) json_fields::fail(f.at("policies"), "must not be empty");
    for (std::size_t i = 0; i < arr.size(); ++i)
        policies.push_back(detail::parse_policy(arr[i], fmt::format("scaling_config.policies[{}]", i), ro));
    return dynamic_recommender(std::move(ro), std::move(policies));
}

/// Parses `json_text` and builds the recommender; a syntax error is a config_error for
/// the field "scaling_config".
inline dynamic_recommender parse_recommender_config(std::string_view json_text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json_text, ec);
    if (ec) throw config_error(field_error{"scaling_config", fmt::format("is not valid JSON: {}", ec.message())});
    return make_recommender(v);
}

}  // namespace salama::scaling
