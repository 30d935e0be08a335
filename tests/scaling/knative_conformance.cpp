// knative_conformance: replays Knative Serving's KPA decision vectors (JSON, schema in
// tests/data/knative/README.md) through salama's KPA core (salama/scaling/kpa/). It only
// translates each vector into API calls and compares; every decision is salama's.
//
// Usage: knative_conformance [--expect N] [--exact-ebc] FILE.json [FILE.json ...]
// Prints "id: expected X, got Y" per failing vector, how many excess burst capacities matched
// exactly, and ends with "N passed, M failed". --exact-ebc also fails a vector whose excess
// burst capacity is within its tolerance but not equal. Exit status: 0 when nothing failed
// (and the count matches --expect), 1 otherwise, 2 when a file could not be used.
#include <salama/scaling/kpa/kpa.hpp>

#ifdef SALAMA_KNATIVE_JSON_HEADER_ONLY
#include <boost/json/src.hpp>
#endif
#include "strict_json.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace kpa = salama::scaling::kpa;
using namespace salama::strict_json;
using salama::time_point;

namespace {

/// Go's zero time (year 1) in Unix seconds.
constexpr std::int64_t go_zero_time_unix = -62135596800;

/// The most buckets a window in a vector may have (Knative's longest window, an hour, has 1,800).
constexpr std::int64_t max_buckets = 1'000'000;

/// A time given as seconds from the vector's clock base; the base is time_point's epoch.
time_point at_offset(double s) { return time_point{} + salama::seconds_to_duration(s); }

salama::duration seconds(double s) { return salama::seconds_to_duration(s); }

/// A time or duration in seconds, within what a nanosecond clock holds (+-4e9 s).
double seconds_at(const json::object& o, std::string_view key, const std::string& p) {
    const double v = number_at(o, key, p);
    if (!(v >= -4.0e9 && v <= 4.0e9)) throw bad_input(fmt::format("{}: must be within +-4e9 seconds, got {}", join(p, key), v));
    return v;
}

/// What one vector run found.
struct outcome {
    std::vector<std::string> mismatches;
    int ebc_compared = 0;
    int ebc_exact = 0;
    std::vector<std::string> ebc_inexact;

    void check(const std::string& what, const std::string& expected, const std::string& got) {
        if (expected != got) mismatches.push_back(fmt::format("{}: expected {}, got {}", what, expected, got));
    }
};

kpa::decider_spec spec_of(const json::object& c, const std::string& p) {
    only_keys(c, p,
              {"scaling_metric", "target_value", "total_value", "target_burst_capacity", "activator_capacity",
               "panic_threshold", "max_scale_up_rate", "max_scale_down_rate", "stable_window_s",
               "scale_down_delay_s", "initial_scale", "reachable", "activation_scale"});
    kpa::decider_spec s;
    // Knative reads RPS for "rps" and concurrency for anything else, "" included.
    s.metric = string_at(c, "scaling_metric", p) == "rps" ? kpa::scaling_metric::rps : kpa::scaling_metric::concurrency;
    s.target_value = number_at(c, "target_value", p);
    s.total_value = number_at(c, "total_value", p);
    s.target_burst_capacity = number_at(c, "target_burst_capacity", p);
    s.activator_capacity = number_at(c, "activator_capacity", p);
    s.panic_threshold = number_at(c, "panic_threshold", p);
    s.max_scale_up_rate = number_at(c, "max_scale_up_rate", p);
    s.max_scale_down_rate = number_at(c, "max_scale_down_rate", p);
    s.stable_window = seconds(seconds_at(c, "stable_window_s", p));
    s.scale_down_delay = seconds(seconds_at(c, "scale_down_delay_s", p));
    s.initial_scale = int32_at(c, "initial_scale", p);
    s.reachable = bool_at(c, "reachable", p);
    s.activation_scale = int32_at(c, "activation_scale", p);
    try {
        s.validate();
    } catch (const salama::config_error& e) {
        throw bad_input(fmt::format("{}: {}", p, e.what()));
    }
    return s;
}

/// The clock's Unix time at offset 0.
std::int64_t clock_of(const json::object& v, const std::string& p) {
    const auto& c = object_at(v, "clock", p, {"base", "base_unix_s", "note"});
    const auto cp = join(p, "clock");
    const auto base = string_at(c, "base", cp);
    const auto unix_s = int_at(c, "base_unix_s", cp);
    if (base == "go_zero_time" && unix_s != go_zero_time_unix)
        throw bad_input(fmt::format("{}.base_unix_s: Go's zero time is {}, got {}", cp, go_zero_time_unix, unix_s));
    if (base != "go_zero_time" && base != "wall_clock")
        throw bad_input(fmt::format("{}.base: expected \"go_zero_time\" or \"wall_clock\", got \"{}\"", cp, base));
    return unix_s;
}

kpa::pod_count_status pod_status_of(const json::object& o, const std::string& p) {
    if (!has(o, "ready_pods_error")) {
        at(o, "ready_pods_error", p);  // present, even when null
        return kpa::pod_count_status::ok;
    }
    const auto e = string_at(o, "ready_pods_error", p);
    if (e == "not_found") return kpa::pod_count_status::not_found;
    if (e == "other") return kpa::pod_count_status::error;
    throw bad_input(fmt::format("{}.ready_pods_error: expected null, \"not_found\" or \"other\", got \"{}\"", p, e));
}

kpa::metric_status metric_status_of(const json::object& o, const std::string& p) {
    if (!has(o, "metrics_error")) {
        at(o, "metrics_error", p);
        return kpa::metric_status::ok;
    }
    const auto e = string_at(o, "metrics_error", p);
    if (e == "no_data") return kpa::metric_status::no_data;
    if (e == "other") return kpa::metric_status::error;
    throw bad_input(fmt::format("{}.metrics_error: expected null, \"no_data\" or \"other\", got \"{}\"", p, e));
}

/// Knative's constructor (New or newAutoscaler) as the vector describes it.
kpa::decider_state construct(const kpa::decider_spec& spec, const json::object& c, const std::string& p,
                             std::int64_t epoch_unix) {
    only_keys(c, p, {"function", "delay_window", "ready_pods", "ready_pods_error", "at_s"});
    const auto function = string_at(c, "function", p);
    const auto window = string_at(c, "delay_window", p);
    if (function != "New" && function != "newAutoscaler")
        throw bad_input(fmt::format("{}.function: expected \"New\" or \"newAutoscaler\", got \"{}\"", p, function));
    if (window != "nil" && window != "from_spec")
        throw bad_input(fmt::format("{}.delay_window: expected \"nil\" or \"from_spec\", got \"{}\"", p, window));
    if (function == "New" && window != "from_spec")
        throw bad_input(fmt::format("{}.delay_window: New makes the window from the spec, got \"{}\"", p, window));
    return kpa::make_state(spec, int_at(c, "ready_pods", p), pod_status_of(c, p), at_offset(seconds_at(c, "at_s", p)),
                           window == "from_spec" ? kpa::delay_window_mode::from_spec : kpa::delay_window_mode::none,
                           epoch_unix);
}

std::string panic_time_text(const std::optional<time_point>& t) {
    if (!t) return "null";
    return fmt::format("{:g}", salama::to_seconds(t->time_since_epoch()));
}

std::string panic_time_text(const json::value& v, const std::string& p) {
    if (v.is_null()) return "null";
    return fmt::format("{:g}", as_number(v, p));
}

/// Compares the Go-asserted panic fields present in `e` with `st`.
void check_panic_fields(const json::object& e, const std::string& p, const kpa::decider_state& st,
                        const std::string& what, outcome& out) {
    if (e.find("in_panic") != e.end())
        out.check(what + " in_panic", bool_at(e, "in_panic", p) ? "true" : "false", st.in_panic() ? "true" : "false");
    if (e.find("panic_time_s") != e.end())
        out.check(what + " panic_time_s", panic_time_text(at(e, "panic_time_s", p), join(p, "panic_time_s")),
                  panic_time_text(st.panic_time));
    if (e.find("max_panic_pods") != e.end())
        out.check(what + " max_panic_pods", fmt::format("{}", int32_at(e, "max_panic_pods", p)),
                  fmt::format("{}", st.max_panic_pods));
}

/// Builds the initial state (construction, then the fields a test sets directly) and checks it
/// against the state the vector records.
kpa::decider_state initial_state_of(const kpa::decider_spec& spec, const json::object& v, const std::string& p,
                                    std::int64_t epoch_unix, outcome& out) {
    const auto& is = object_at(v, "initial_state", p, {"construction", "overrides", "state"});
    const auto ip = join(p, "initial_state");
    auto st = construct(spec, object_at(is, "construction", ip), join(ip, "construction"), epoch_unix);
    if (has(is, "overrides")) {
        const auto op = join(ip, "overrides");
        const auto& o = object_at(is, "overrides", ip, {"panic_time_s", "max_panic_pods"});
        if (o.find("panic_time_s") != o.end()) {
            const auto& t = at(o, "panic_time_s", op);
            if (t.is_null()) st.panic_time.reset();
            else st.panic_time = at_offset(seconds_at(o, "panic_time_s", op));
        }
        if (o.find("max_panic_pods") != o.end()) st.max_panic_pods = int32_at(o, "max_panic_pods", op);
    }
    const auto sp = join(ip, "state");
    const auto& s = object_at(is, "state", ip, {"in_panic", "panic_time_s", "max_panic_pods", "delay_window"});
    at(s, "in_panic", sp);
    at(s, "panic_time_s", sp);
    at(s, "max_panic_pods", sp);
    check_panic_fields(s, sp, st, "initial state", out);
    std::string want_window = "null";
    if (has(s, "delay_window")) {
        const auto wp = join(sp, "delay_window");
        const auto& w = object_at(s, "delay_window", sp, {"duration_s", "granularity_s", "buckets", "entries"});
        if (!array_at(w, "entries", wp).empty())
            throw bad_input(fmt::format("{}.entries: a window made at construction is empty", wp));
        want_window = fmt::format("{{duration {:g}s, granularity {:g}s, {} buckets}}", seconds_at(w, "duration_s", wp),
                                  seconds_at(w, "granularity_s", wp), int_at(w, "buckets", wp));
    } else {
        at(s, "delay_window", sp);
    }
    std::string got_window = "null";
    if (st.delay_window)
        got_window = fmt::format("{{duration {:g}s, granularity {:g}s, {} buckets}}",
                                 salama::to_seconds(st.delay_window->window()),
                                 salama::to_seconds(st.delay_window->granularity()), st.delay_window->buckets());
    out.check("initial state delay_window", want_window, got_window);
    return st;
}

/// One Scale call and its Go-asserted expectations.
void run_step(kpa::decider_spec& spec, kpa::decider_state& st, const json::object& in, const std::string& inp,
              const json::object& e, const std::string& ep, const std::string& what, bool exact_ebc, outcome& out) {
    only_keys(in, inp, {"now_s", "ready_pods", "ready_pods_error", "stable", "panic", "metrics_error", "spec_update"});
    only_keys(e, ep,
              {"scale_valid", "desired_pod_count", "excess_burst_capacity", "ebc_tolerance", "ebc_go_expr",
               "panic_time_s", "in_panic", "max_panic_pods"});
    if (has(in, "spec_update")) spec = spec_of(object_at(in, "spec_update", inp), join(inp, "spec_update"));
    kpa::decider_input di;
    di.now = at_offset(seconds_at(in, "now_s", inp));
    di.ready_pods = int_at(in, "ready_pods", inp);
    di.pods = pod_status_of(in, inp);
    di.stable = number_at(in, "stable", inp);
    di.panic = number_at(in, "panic", inp);
    di.metrics = metric_status_of(in, inp);
    const auto r = kpa::scale_in_place(spec, di, st);

    out.check(what + " scale_valid", bool_at(e, "scale_valid", ep) ? "true" : "false", r.valid ? "true" : "false");
    out.check(what + " desired_pod_count", fmt::format("{}", int32_at(e, "desired_pod_count", ep)),
              fmt::format("{}", r.desired_pod_count));
    const auto want_ebc = int32_at(e, "excess_burst_capacity", ep);
    const auto tolerance = int_at(e, "ebc_tolerance", ep);
    if (tolerance < 0) throw bad_input(fmt::format("{}.ebc_tolerance: must be non-negative", ep));
    string_at(e, "ebc_go_expr", ep);
    const std::int64_t diff = static_cast<std::int64_t>(r.excess_burst_capacity) - want_ebc;
    ++out.ebc_compared;
    if (diff == 0) {
        ++out.ebc_exact;
    } else {
        if (diff <= tolerance && diff >= -tolerance && !exact_ebc)
            out.ebc_inexact.push_back(fmt::format("{} excess_burst_capacity: Go asserts {}, got {} (within {})", what,
                                                  want_ebc, r.excess_burst_capacity, tolerance));
        else
            out.mismatches.push_back(fmt::format("{} excess_burst_capacity: expected {} (within {}{}), got {}", what,
                                                 want_ebc, exact_ebc ? 0 : tolerance,
                                                 exact_ebc ? ", --exact-ebc" : "", r.excess_burst_capacity));
    }
    check_panic_fields(e, ep, st, what, out);
}

void check_common_keys(const json::object& v, const std::string& p, const std::string& kind) {
    // Each list is used within its own statement: an initializer_list's array lives no longer.
    if (kind == "single")
        only_keys(v, p, {"id", "kind", "source_test", "source", "tags", "note", "config", "clock", "initial_state",
                         "input", "expect"});
    else if (kind == "sequence")
        only_keys(v, p, {"id", "kind", "source_test", "source", "tags", "note", "config", "clock", "initial_state",
                         "steps"});
    else if (kind == "init")
        only_keys(v, p, {"id", "kind", "source_test", "source", "tags", "note", "config", "clock", "input", "expect"});
    else if (kind == "max_window")
        only_keys(v, p, {"id", "kind", "source_test", "source", "tags", "note", "input", "expect"});
    else if (kind == "time_window")
        only_keys(v, p, {"id", "kind", "source_test", "source", "tags", "note", "clock", "input", "expect"});
    else
        throw bad_input(fmt::format(
            "{}.kind: expected single, sequence, init, max_window or time_window, got \"{}\"", p, kind));
    string_at(v, "source_test", p);
    string_at(v, "source", p);
    const auto& tags = array_at(v, "tags", p);
    for (std::size_t i = 0; i < tags.size(); ++i) as_string(tags[i], item(join(p, "tags"), i));
    if (v.find("note") != v.end()) string_at(v, "note", p);
}

outcome run_vector(const json::object& v, const std::string& p, bool exact_ebc) {
    outcome out;
    const auto kind = string_at(v, "kind", p);
    check_common_keys(v, p, kind);

    if (kind == "single" || kind == "sequence") {
        const auto epoch = clock_of(v, p);
        auto spec = spec_of(object_at(v, "config", p), join(p, "config"));
        auto st = initial_state_of(spec, v, p, epoch, out);
        if (kind == "single") {
            run_step(spec, st, object_at(v, "input", p), join(p, "input"), object_at(v, "expect", p), join(p, "expect"),
                     "result", exact_ebc, out);
        } else {
            const auto& steps = array_at(v, "steps", p);
            if (steps.empty()) throw bad_input(join(p, "steps") + ": no steps");
            for (std::size_t i = 0; i < steps.size(); ++i) {
                const auto sp = item(join(p, "steps"), i);
                const auto& s = as_object(steps[i], sp, {"input", "expect"});
                run_step(spec, st, object_at(s, "input", sp), join(sp, "input"), object_at(s, "expect", sp),
                         join(sp, "expect"), fmt::format("step {}", i + 1), exact_ebc, out);
            }
        }
        return out;
    }
    if (kind == "init") {
        const auto epoch = clock_of(v, p);
        const auto spec = spec_of(object_at(v, "config", p), join(p, "config"));
        const auto st = construct(spec, object_at(v, "input", p), join(p, "input"), epoch);
        const auto ep = join(p, "expect");
        const auto& e = object_at(v, "expect", p, {"in_panic", "max_panic_pods", "panic_time_s"});
        if (e.empty()) throw bad_input(ep + ": expects nothing");
        check_panic_fields(e, ep, st, "constructed", out);
        return out;
    }
    if (kind == "max_window") {
        const auto ip = join(p, "input");
        const auto& in = object_at(v, "input", p, {"size", "indexes", "values"});
        const auto size = int_at(in, "size", ip);
        if (size < 1 || size > max_buckets)
            throw bad_input(fmt::format("{}.size: must be within [1, {}], got {}", ip, max_buckets, size));
        const auto& indexes = array_at(in, "indexes", ip);
        const auto& values = array_at(in, "values", ip);
        const auto ep = join(p, "expect");
        const auto& want = array_at(object_at(v, "expect", p, {"current_after_each"}), "current_after_each", ep);
        if (indexes.size() != values.size() || want.size() != values.size())
            throw bad_input(fmt::format("{}: indexes, values and expect.current_after_each differ in length", ip));
        kpa::max_window w(static_cast<std::size_t>(size));
        std::vector<std::int32_t> expected, got;
        for (std::size_t i = 0; i < values.size(); ++i) {
            w.record(as_int(indexes[i], item(join(ip, "indexes"), i)), as_int32(values[i], item(join(ip, "values"), i)));
            expected.push_back(as_int32(want[i], item(join(ep, "current_after_each"), i)));
            got.push_back(w.current());
        }
        out.check("current_after_each", fmt::format("[{}]", fmt::join(expected, ",")), fmt::format("[{}]", fmt::join(got, ",")));
        return out;
    }
    // time_window
    const auto epoch = clock_of(v, p);
    const auto ip = join(p, "input");
    const auto& in = object_at(v, "input", p, {"duration_s", "granularity_s", "records"});
    const double dur = seconds_at(in, "duration_s", ip);
    const double gran = seconds_at(in, "granularity_s", ip);
    if (!(dur > 0)) throw bad_input(fmt::format("{}.duration_s: must be positive", ip));
    if (!(gran >= 1)) throw bad_input(fmt::format("{}.granularity_s: must be at least 1", ip));
    if (!(dur / gran <= static_cast<double>(max_buckets)))
        throw bad_input(fmt::format("{}: at most {} buckets", ip, max_buckets));
    kpa::max_time_window w(seconds(dur), seconds(gran), epoch);
    const auto& records = array_at(in, "records", ip);
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto rp = item(join(ip, "records"), i);
        const auto& r = as_object(records[i], rp, {"now_s", "value"});
        w.record(at_offset(seconds_at(r, "now_s", rp)), int32_at(r, "value", rp));
    }
    const auto ep = join(p, "expect");
    const auto& e = object_at(v, "expect", p, {"current"});
    out.check("current", fmt::format("{}", int32_at(e, "current", ep)), fmt::format("{}", w.current()));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const auto args = parse_args(argc, argv, {"--exact-ebc"});
    if (!args.error.empty()) {
        fmt::print(stderr, "{}\nusage: {} [--expect N] [--exact-ebc] FILE.json [FILE.json ...]\n", args.error,
                   argc > 0 ? argv[0] : "knative_conformance");
        return 2;
    }
    const bool exact_ebc = args.flag("--exact-ebc");
    tally t;
    bool file_error = false;
    int ebc_compared = 0, ebc_exact = 0;
    std::vector<std::string> inexact;
    for (const auto& file : args.files) {
        auto parsed = read_file(file);
        if (!parsed.error.empty()) {
            fmt::print("{}: {}\n", file, parsed.error);
            file_error = true;
            continue;
        }
        try {
            const auto& root = as_object(parsed.root, file,
                                         {"schema_version", "title", "source", "test_constants", "comparison", "vectors"});
            const auto version = int_at(root, "schema_version", file);
            if (version != 1) throw bad_input(fmt::format("{}.schema_version: unsupported version {}", file, version));
            if (has(root, "source")) {
                const auto& s = object_at(root, "source", file, {"repository", "commit", "license", "files"});
                string_at(s, "commit", join(file, "source"));
            }
            if (has(root, "test_constants"))
                object_at(root, "test_constants", file,
                          {"stableWindow_s", "targetUtilization", "activatorCapacity", "tickInterval_s"});
            const auto& vectors = array_at(root, "vectors", file);
            for (std::size_t i = 0; i < vectors.size(); ++i) {
                const auto p = item("vectors", i);
                std::string id = p;
                outcome o;
                try {
                    const auto& v = as_object(vectors[i], p);
                    id = string_at(v, "id", p);
                    o = run_vector(v, p, exact_ebc);
                } catch (const bad_input& e) {
                    o.mismatches = {fmt::format("expected a vector following the schema, got bad input: {}", e.what())};
                } catch (const std::exception& e) {
                    o.mismatches = {fmt::format("expected a result, got an exception: {}", e.what())};
                }
                ebc_compared += o.ebc_compared;
                ebc_exact += o.ebc_exact;
                for (auto& s : o.ebc_inexact) inexact.push_back(fmt::format("{}: {}", id, s));
                if (o.mismatches.empty()) {
                    ++t.passed;
                } else {
                    ++t.failed;
                    fmt::print("{}: {}\n", id, fmt::join(o.mismatches, "; "));
                }
            }
        } catch (const bad_input& e) {
            fmt::print("{}: bad input: {}\n", file, e.what());
            file_error = true;
        }
    }
    for (const auto& s : inexact) fmt::print("{}\n", s);
    fmt::print("excess burst capacity: {} of {} exactly as Go asserts\n", ebc_exact, ebc_compared);
    return finish(t, args, file_error);
}
