// Run-time composition: any_policy, dynamic_recommender and the JSON configuration with
// its validation errors.
#include "catch.hpp"

#include <salama/scaling/autoscaler.hpp>
#include <salama/scaling/scaling_config.hpp>
#include <salama/scaling/trace.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/src.hpp>  // Boost.JSON compiled into this test, no library to link

#include <chrono>
#include <string>

using namespace salama;
using namespace salama::scaling;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{24h};

std::string error_of(std::string_view json) {
    try {
        (void)parse_recommender_config(json);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

constexpr std::string_view seed_config = R"({
  "resource": "gpu", "min_replicas": 1, "max_replicas": 12,
  "fallback": { "mode": "replicas", "replicas": 3, "failure_threshold": 2 },
  "policies": [
    { "type": "rules", "rules": [
        { "name": "gpu_high", "metric": "gpu_utilization", "threshold": 80,
          "action": "scale_up", "cooldown": 300, "scale_size": 2 },
        { "name": "gpu_low", "metric": "gpu_utilization", "threshold": 30,
          "action": "scale_down", "cooldown": 600, "scale_size": 1 } ] },
    { "type": "target_tracking", "name": "cpu_target",
      "metrics": [ { "source": "Resource", "name": "cpu", "target_type": "Utilization", "target": 60 } ] },
    { "type": "panic", "metric": "in_flight", "target": 20 },
    { "type": "schedule", "windows": [
        { "name": "business hours", "start": "08:00", "end": "18:00", "min_replicas": 4,
          "days": ["mon", "tue", "wed", "thu", "fri"] } ] },
    { "type": "hysteresis", "metric": "queue", "scale_up_above": 100, "scale_down_below": 20,
      "policy": { "type": "step", "name": "queue_steps", "metric": "queue", "threshold": 60,
                  "steps": [ { "lower": 0, "upper": 100, "adjustment": 1 },
                             { "lower": 100, "adjustment": 3 } ] } }
  ]
})";

}  // namespace

TEST_CASE("a recommender from JSON behaves like the compiled one", "[scaling][config]") {
    auto rec = parse_recommender_config(seed_config);
    CHECK(rec.options().resource == "gpu");
    CHECK(rec.options().max_replicas == 12);
    REQUIRE(rec.policies().size() == 5);
    CHECK(rec.policies()[0].name() == "rules");
    CHECK(rec.policies()[1].name() == "cpu_target");
    CHECK(rec.policies()[4].name() == "hysteresis(queue_steps)");

    auto st = rec.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("gpu_utilization", 90, {{"member", "a"}}));
    REQUIRE(s.add("cpu", 30, {{"member", "a"}}));
    REQUIRE(s.add("cpu", 30, {{"member", "b"}}));
    REQUIRE(s.add("in_flight", 10));
    REQUIRE(s.add("queue", 50));
    auto d = rec.evaluate_in_place(scaling_input{s, 2, std::nullopt, t0, std::nullopt}, st);
    CHECK(d.desired == 4);
    CHECK(d.why.policy == "gpu_high");
    REQUIRE(d.fired.size() == 1);
    CHECK(d.fired[0].rule == "gpu_high");

    SECTION("state copies are independent values") {
        auto copy = st;
        auto d2 = rec.evaluate_in_place(scaling_input{s, 4, std::nullopt, t0 + 10s, std::nullopt}, copy);
        CHECK(d2.why.limited_by == limit::cooldown);
        auto fresh = rec.initial_state();
        auto d3 = rec.evaluate_in_place(scaling_input{s, 4, std::nullopt, t0 + 10s, std::nullopt}, fresh);
        CHECK(d3.desired == 6);
    }
    SECTION("the fallback from the configuration") {
        auto st2 = rec.initial_state();
        const auto ec = make_error_code(errc::source_failed);
        CHECK(rec.on_source_failure(scaling_input{s, 7, std::nullopt, t0, std::nullopt}, st2, ec).desired == 7);
        CHECK(rec.on_source_failure(scaling_input{s, 7, std::nullopt, t0, std::nullopt}, st2, ec).desired == 3);
    }
    STATIC_REQUIRE(scaling_recommender<dynamic_recommender>);
}

TEST_CASE("configuration errors name the field", "[scaling][config][validation]") {
    CHECK(error_of(R"({"policies":[{"type":"magic"}]})") ==
          "invalid scaling_config.policies[0].type: unknown policy type 'magic' (known: rules, step, "
          "target_tracking, panic, schedule, scale_to_zero, hysteresis)");
    CHECK(error_of(R"({"policies":[{"type":"rules","rules":[{"metric":"cpu","threshold":80,"action":"scale_up",
                     "cooldown":-1}]}]})") ==
          "invalid scaling_config.policies[0].rules[0].cooldown: must be non-negative, got -1");
    CHECK(error_of(R"({"policies":[{"type":"rules","rules":[{"metric":"cpu","threshold":80,"action":"scale_up",
                     "scale_size":0}]}]})") ==
          "invalid scaling_config.policies[0].rules[0].scale_size: must be positive, got 0");
    CHECK(error_of(R"({"policies":[{"type":"rules","rules":[{"metric":"cpu","threshold":"high",
                     "action":"scale_up"}]}]})") ==
          "invalid scaling_config.policies[0].rules[0].threshold: must be a number");
    CHECK(error_of(R"({"policies":[{"type":"rules","rules":[{"metric":"cpu","threshold":80,
                     "action":"sideways"}]}]})") ==
          "invalid scaling_config.policies[0].rules[0].action: unknown value 'sideways' (known: scale_up, "
          "scale_down)");
    CHECK(error_of(R"({"min_replicas":5,"max_replicas":2,"policies":[{"type":"panic","metric":"x","target":1}]})") ==
          "invalid scaling_config.min_replicas: must not exceed max_replicas (2), got 5");
    CHECK(error_of(R"({"policies":[{"type":"panic","metric":"x","target":1,"stable_windw":60}]})") ==
          "invalid scaling_config.policies[0].stable_windw: unknown field");
    CHECK(error_of(R"({"policies":[]})") == "invalid scaling_config.policies: must not be empty");
    CHECK(error_of(R"({"policies":[{"type":"schedule","windows":[{"name":"x","start":"25:00","end":"08:00",
                     "min_replicas":1}]}]})") ==
          "invalid scaling_config.policies[0].windows[0].start: must be a time of day \"HH:MM\", got '25:00'");
    CHECK(error_of(R"({"policies":[{"type":"hysteresis","metric":"q","scale_up_above":1,"scale_down_below":0,
                     "policy":{"type":"nope"}}]})") ==
          "invalid scaling_config.policies[0].policy.type: unknown policy type 'nope' (known: rules, step, "
          "target_tracking, panic, schedule, scale_to_zero, hysteresis)");
    CHECK(error_of(R"({"policies":[{"type":"step","name":"s","metric":"q","threshold":1,
                     "steps":[{"lower":0,"upper":5,"adjustment":1},{"lower":6,"adjustment":2}]}]})") ==
          "invalid scaling_config.policies[0].steps[1].lower: leaves a gap after steps[0], which ends at 5");
    CHECK(error_of("{not json") .starts_with("invalid scaling_config: is not valid JSON"));
    CHECK(error_of(seed_config).empty());
}

TEST_CASE("metric traces parse into one snapshot per timestamp", "[scaling][trace]") {
    const auto t = parse_trace("# a comment\n"
                               "timestamp,member,metric,value\n"
                               "1704067200,,in_flight,12\n"
                               "1704067200,m0,cpu,50\n"
                               "1704067200,m1,cpu,nan\n"
                               "\n"
                               "1704067215,m0,cpu,70.5\r\n",
                               t0);
    REQUIRE(t.has_value());
    REQUIRE(t->frames.size() == 2);
    CHECK(t->frames[0].wall.time_since_epoch().count() == 1704067200);
    CHECK(t->frames[0].metrics.taken_at() == t0);
    CHECK(t->frames[1].metrics.taken_at() == t0 + 15s);
    CHECK(t->frames[0].metrics.size() == 2);
    REQUIRE(t->frames[0].metrics.rejected().size() == 1);  // the NaN, kept as a reason
    CHECK(t->frames[0].metrics.find("cpu", {{"member", "m0"}})->value == 50);
    CHECK(t->frames[1].metrics.find("cpu")->value == Approx(70.5));

    auto err = [](std::string_view text) { return parse_trace(text).error().message(); };
    CHECK(err("time,metric\n") == "line 1: expected the header \"timestamp,member,metric,value\"");
    CHECK(err("timestamp,member,metric,value\n1,m0,cpu\n") == "line 2: expected 4 comma-separated fields");
    CHECK(err("timestamp,member,metric,value\nnoon,m0,cpu,1\n") ==
          "line 2: timestamp 'noon' is not whole Unix seconds");
    CHECK(err("timestamp,member,metric,value\n1,m0,cpu,lots\n") == "line 2: value 'lots' is not a number");
    CHECK(err("timestamp,member,metric,value\n1,m0,cpu load,1\n") == "line 2: metric name 'cpu load' is not valid");
    CHECK(err("timestamp,member,metric,value\n5,m0,cpu,1\n4,m0,cpu,1\n") == "line 3: timestamp 4 goes back in time");
    CHECK(err("") == "line 0: empty trace: no header");
    // Timestamps whose distance overflowed the nanosecond count of a time_point.
    CHECK(err("timestamp,member,metric,value\n-9223372036854775807,m0,cpu,1\n9223372036854775807,m0,cpu,1\n") ==
          "line 2: timestamp -9223372036854775807 is outside [0, 4000000000]");
    CHECK(err("timestamp,member,metric,value\n0,m0,cpu,1\n9223372036854775807,m0,cpu,1\n") ==
          "line 3: timestamp 9223372036854775807 is outside [0, 4000000000]");
}

TEST_CASE("a trace replays through the autoscaler shell with a manual clock", "[scaling][trace][autoscaler]") {
    const auto t = parse_trace("timestamp,member,metric,value\n"
                               "1704096000,m0,cpu,90\n"   // Monday 08:00 UTC
                               "1704096030,m0,cpu,90\n"
                               "1704096060,m0,cpu,90\n"
                               "1704096090,m0,cpu,nan\n"
                               "1704096120,m0,cpu,10\n",
                               t0);
    REQUIRE(t.has_value());
    const auto rec = parse_recommender_config(R"({"min_replicas":1,"max_replicas":10,"policies":[
        {"type":"rules","rules":[{"name":"up","metric":"cpu","threshold":80,"action":"scale_up","cooldown":45},
                                 {"name":"down","metric":"cpu","threshold":20,"action":"scale_down","cooldown":0}]}]})");
    struct frame_source {
        const std::vector<trace_frame>* frames;
        std::size_t i = 0;
        awaitable<result<snapshot>> read() { co_return (*frames)[i].metrics; }
    };
    boost::asio::io_context io;
    manual_clock clock(t->frames.front().metrics.taken_at());
    clock.set_wall(t->frames.front().wall);
    memory_actuator act(2);
    metrics_registry reg;
    frame_source src{&t->frames};
    autoscaler a(io.get_executor(), src, act, rec, {.target = "r", .period = 30s}, {.registry = &reg, .name = "r"},
                 clock);
    std::vector<std::int64_t> sizes;
    std::vector<std::string> limits;
    boost::asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
            for (std::size_t i = 0; i < t->frames.size(); ++i) {
                clock.set(t->frames[i].metrics.taken_at());
                clock.set_wall(t->frames[i].wall);
                src.i = i;
                auto rep = co_await a.step();
                sizes.push_back(*act.current_size_now());
                limits.push_back(std::string(to_string(rep.targets.at(0).result.why.limited_by)));
            }
        },
        boost::asio::detached);
    io.run();
    // Up at 08:00; held by the 45 s cooldown at 08:00:30; up again at 08:01; the NaN sample
    // is missing data (the fallback holds); down at 08:02.
    CHECK(sizes == std::vector<std::int64_t>{3, 3, 4, 4, 3});
    CHECK(limits[1] == "cooldown");
    CHECK(limits[3] == "fallback");
}

TEST_CASE("out-of-range numbers in a configuration are errors naming the field", "[scaling][config][bad_input]") {
    // A step of 1e19 members used to be cast to int64 and turn a scale-out into "10 -> 0".
    CHECK(error_of(R"({"policies":[{"type":"step","name":"s","metric":"q","threshold":1,
                     "steps":[{"lower":0,"adjustment":1e19}]}]})") ==
          "invalid scaling_config.policies[0].steps[0].adjustment: must be within [-2147483647, 2147483647] members, "
          "got 1e+19");
    // Durations: 1e10 s overflowed the nanosecond count ("must be non-negative, got -9223372036.85").
    CHECK(error_of(R"({"policies":[{"type":"rules","rules":[{"metric":"cpu","threshold":80,"action":"scale_up",
                     "cooldown":1e10}]}]})") ==
          "invalid scaling_config.policies[0].rules[0].cooldown: must be within [0, 1e+09] seconds, got 10000000000");
    CHECK(error_of(R"({"policies":[{"type":"panic","metric":"x","target":1,"stable_window":1e10}]})") ==
          "invalid scaling_config.policies[0].stable_window: must be within [0, 1e+09] seconds, got 10000000000");
    const auto inf = error_of(R"({"policies":[{"type":"step","name":"s","metric":"q","threshold":1,"cooldown":1e400,
                                  "steps":[{"lower":0,"adjustment":1}]}]})");
    CHECK(inf.starts_with("invalid scaling_config"));
    CHECK(inf.find("-9223372036") == std::string::npos);
    CHECK(error_of(R"({"policies":[{"type":"target_tracking","metrics":[{"source":"Resource","name":"cpu",
                     "target_type":"Utilization","target":60}],"downscale_stabilization":1e12}]})") ==
          "invalid scaling_config.policies[0].downscale_stabilization: must be within [0, 1e+09] seconds, "
          "got 1000000000000");
    // A utilization of 4294967396 % wrapped through int32 to 100 %.
    CHECK(error_of(R"({"policies":[{"type":"target_tracking","metrics":[{"source":"Resource","name":"cpu",
                     "target_type":"Utilization","target":4294967396}]}]})") ==
          "invalid scaling_config.policies[0].metrics[0].target: a utilization must be within [1, 1e+06] percent, "
          "got 4294967396");
    CHECK(error_of(R"({"policies":[{"type":"target_tracking","metrics":[{"source":"External","name":"q",
                     "target_type":"Value","target":1e300}]}]})") ==
          "invalid scaling_config.policies[0].metrics[0].target: must be within [0.001, 1e+12], got 1e+300");
    CHECK(error_of(R"({"policies":[{"type":"target_tracking","metrics":[{"source":"Pods","name":"q",
                     "target_type":"AverageValue","target":0.0001}]}]})") ==
          "invalid scaling_config.policies[0].metrics[0].target: must be within [0.001, 1e+12], got 0.0001");
    // Panic mode's rates bound the int32 member count the KPA core computes.
    CHECK(error_of(R"({"policies":[{"type":"panic","metric":"x","target":1,"max_scale_up_rate":1e300}]})") ==
          "invalid panic_mode_options.max_scale_up_rate: must be at most 1e+06, got 1e+300");
    CHECK(error_of(R"({"policies":[{"type":"rules","rules":[{"metric":"cpu","threshold":80,"action":"scale_up",
                     "scale_size":4294967396}]}]})") ==
          "invalid scaling_config.policies[0].rules[0].scale_size: must be at most 2147483647, got 4294967396");
}
