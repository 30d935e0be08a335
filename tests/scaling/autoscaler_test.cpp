// The autoscaler shell end to end with memory_source and memory_actuator: steps driven
// one at a time with a manual clock, failing sources and actuators, per-resource
// actuators, start/stop and cancellation of the loop.
#include "catch.hpp"

#include <salama/scaling/autoscaler.hpp>
#include <salama/scaling/recommender.hpp>
#include <salama/scaling/schedule.hpp>
#include <salama/scaling/step_scaling.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

using namespace salama;
using namespace salama::scaling;
using namespace std::chrono_literals;

namespace {

using rules_recommender = recommender<step_scaling>;
using test_scaler = autoscaler<memory_source, memory_actuator, rules_recommender, clock_ref<manual_clock>,
                               manual_wall_clock>;

rules_recommender cpu_rules(std::int64_t max = 10, duration cooldown = 60s, std::string resource = "cpu",
                            std::int64_t up = 1) {
    return rules_recommender(
        {.resource = resource, .min_replicas = 1, .max_replicas = max, .fallback = {}},
        step_scaling(std::vector<scaling_rule>{
            {.name = resource + "_high", .resource = resource, .metric = resource + "_utilization", .threshold = 80,
             .action = scale_action::scale_up, .cooldown = cooldown, .scale_size = up},
            {.name = resource + "_low", .resource = resource, .metric = resource + "_utilization", .threshold = 30,
             .action = scale_action::scale_down, .cooldown = cooldown, .scale_size = 1},
        }));
}

snapshot load(std::initializer_list<std::pair<std::string, double>> values, time_point at) {
    snapshot s(at);
    for (const auto& [k, v] : values) REQUIRE(s.add(k, v, {{"member", "m0"}}));
    return s;
}

template <class Scaler>
step_report run_step(boost::asio::io_context& io, Scaler& a) {
    auto f = boost::asio::co_spawn(io, a.step(), boost::asio::use_future);
    io.restart();
    io.run();
    return f.get();
}

// The label names the autoscaler registers its counters with.
double count(metrics_registry& reg, std::string_view family, std::initializer_list<std::string_view> labels) {
    static const std::map<std::string_view, std::vector<std::string>> names{
        {"salama_autoscaler_steps_total", {"autoscaler"}},
        {"salama_autoscaler_errors_total", {"autoscaler", "stage"}},
        {"salama_autoscaler_decisions_total", {"autoscaler", "resource", "direction"}},
        {"salama_autoscaler_scale_actions_total", {"autoscaler", "resource", "direction", "outcome"}},
        {"salama_autoscaler_fallbacks_total", {"autoscaler", "resource"}},
    };
    return reg.counter(family, "", names.at(family)).with(labels).value();
}

struct fixture {
    boost::asio::io_context io;
    manual_clock clock;
    memory_source source;
    memory_actuator act{2};
    metrics_registry reg;
    std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
};

}  // namespace

TEST_CASE("a step reads, decides, applies, logs and counts", "[scaling][autoscaler]") {
    fixture fx;
    test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                  {.name = "web", .target = "deployment/web", .period = 30s}, fx.reg, logger(fx.sink),
                  clock_ref(fx.clock), manual_wall_clock{});
    fx.source.set(load({{"cpu_utilization", 92}}, fx.clock.now()));
    auto rep = run_step(fx.io, a);
    REQUIRE(rep.source_ok);
    REQUIRE(rep.targets.size() == 1);
    CHECK(rep.targets[0].applied);
    CHECK(rep.targets[0].result.desired == 3);
    CHECK(*fx.act.current_size_now() == 3);
    const auto applied = fx.act.applied();
    REQUIRE(applied.size() == 1);
    CHECK(applied[0].target == "deployment/web");
    CHECK(applied[0].resource == "cpu");
    CHECK(applied[0].current == 2);
    CHECK(applied[0].desired == 3);
    CHECK(applied[0].reason.find("cpu_high") != std::string::npos);
    CHECK(applied[0].at == fx.clock.now());
    CHECK(fx.sink->contains("autoscaler web: scaled cpu 2 -> 3"));
    CHECK(count(fx.reg, "salama_autoscaler_scale_actions_total", {"web", "cpu", "up", "applied"}) == 1);
    CHECK(count(fx.reg, "salama_autoscaler_decisions_total", {"web", "cpu", "up"}) == 1);
    CHECK(count(fx.reg, "salama_autoscaler_steps_total", {"web"}) == 1);

    // Inside the rule's cooldown the same load adds nothing; after it, one more.
    fx.clock.advance(30s);
    rep = run_step(fx.io, a);
    CHECK_FALSE(rep.targets[0].result.changes());
    CHECK(rep.targets[0].result.why.limited_by == "cooldown");
    fx.clock.advance(30s);
    rep = run_step(fx.io, a);
    CHECK(rep.targets[0].result.desired == 4);
    CHECK(*fx.act.current_size_now() == 4);
    CHECK(fx.reg.render().find("salama_autoscaler_desired_replicas{autoscaler=\"web\",resource=\"cpu\"} 4") !=
          std::string::npos);
}

TEST_CASE("a failing metric source is logged, counted and survived", "[scaling][autoscaler][fallback]") {
    fixture fx;
    test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                  {.name = "web", .target = "deployment/web", .period = 30s}, fx.reg, logger(fx.sink),
                  clock_ref(fx.clock), manual_wall_clock{});
    fx.source.set(load({{"cpu_utilization", 92}}, fx.clock.now()));
    fx.source.fail_next(make_error_code(errc::connection_failed), 2);
    auto rep = run_step(fx.io, a);
    CHECK_FALSE(rep.source_ok);
    CHECK(rep.source_error == make_error_code(errc::connection_failed));
    REQUIRE(rep.targets.size() == 1);
    CHECK(rep.targets[0].result.fallback);
    CHECK(rep.targets[0].result.desired == 2);  // hold, never the minimum
    CHECK_FALSE(rep.targets[0].applied);
    rep = run_step(fx.io, a);
    CHECK_FALSE(rep.source_ok);
    CHECK(count(fx.reg, "salama_autoscaler_errors_total", {"web", "source"}) == 2);
    CHECK(count(fx.reg, "salama_autoscaler_fallbacks_total", {"web", "cpu"}) == 2);
    CHECK(fx.sink->contains("metric source failed"));
    CHECK(fx.act.attempts().empty());

    rep = run_step(fx.io, a);  // the source is back
    CHECK(rep.source_ok);
    CHECK(rep.targets[0].applied);
    CHECK(*fx.act.current_size_now() == 3);
}

TEST_CASE("a source that throws is survived too", "[scaling][autoscaler]") {
    struct throwing_source {
        int reads = 0;
        awaitable<result<snapshot>> read() {
            ++reads;
            if (reads == 1) throw std::runtime_error("sensor on fire");
            co_return snapshot{};
        }
    };
    static_assert(metric_source<throwing_source>);
    boost::asio::io_context io;
    throwing_source src;
    memory_actuator act(2);
    metrics_registry reg;
    auto sink = std::make_shared<memory_sink>();
    autoscaler<throwing_source, memory_actuator, rules_recommender> a(
        io.get_executor(), src, actuator_set<memory_actuator>(act), {cpu_rules()},
        {.name = "t", .target = "x", .period = 30s}, reg, logger(sink));
    auto rep = run_step(io, a);
    CHECK_FALSE(rep.source_ok);
    CHECK(sink->contains("sensor on fire"));
    rep = run_step(io, a);
    CHECK(rep.source_ok);
    CHECK(src.reads == 2);
}

TEST_CASE("a failing actuator is retried on the next tick, never past max", "[scaling][autoscaler]") {
    fixture fx;
    fx.act.set_size(8);
    test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act),
                  {cpu_rules(10, 300s, "cpu", 5)}, {.name = "web", .target = "deployment/web", .period = 30s},
                  fx.reg, logger(fx.sink), clock_ref(fx.clock), manual_wall_clock{});
    fx.source.set(load({{"cpu_utilization", 95}}, fx.clock.now()));
    fx.act.fail_next(make_error_code(errc::actuator_failed), 1);
    auto rep = run_step(fx.io, a);
    REQUIRE(rep.targets.size() == 1);
    CHECK_FALSE(rep.targets[0].applied);
    CHECK(rep.targets[0].error == make_error_code(errc::actuator_failed));
    CHECK(rep.targets[0].result.desired == 10);
    CHECK(rep.targets[0].result.why.limited_by == "max_replicas");
    CHECK(count(fx.reg, "salama_autoscaler_errors_total", {"web", "apply"}) == 1);
    CHECK(count(fx.reg, "salama_autoscaler_scale_actions_total", {"web", "cpu", "up", "failed"}) == 1);
    // The failed step did not start the cooldown.
    CHECK_FALSE(std::get<0>(a.state(0).policies).out_until.has_value());

    fx.clock.advance(30s);
    rep = run_step(fx.io, a);
    CHECK(rep.targets[0].applied);
    CHECK(*fx.act.current_size_now() == 10);
    for (const auto& r : fx.act.attempts()) CHECK(r.desired <= 10);
    CHECK(std::get<0>(a.state(0).policies).out_until == fx.clock.now() + 300s);

    SECTION("a failing current_size skips the target for this step") {
        struct broken_size : memory_actuator {
            using memory_actuator::memory_actuator;
            awaitable<result<std::int64_t>> current_size() { co_return make_error_code(errc::timeout); }
        };
        boost::asio::io_context io;
        broken_size act(3);
        metrics_registry reg;
        autoscaler<memory_source, broken_size, rules_recommender> b(
            io.get_executor(), fx.source, actuator_set<broken_size>(act), {cpu_rules()},
            {.name = "b", .target = "x", .period = 30s}, reg);
        auto r2 = run_step(io, b);
        REQUIRE(r2.targets.size() == 1);
        CHECK(r2.targets[0].error == make_error_code(errc::timeout));
        CHECK(count(reg, "salama_autoscaler_errors_total", {"b", "current_size"}) == 1);
        CHECK(act.attempts().empty());
    }
}

TEST_CASE("one actuator per resource type", "[scaling][autoscaler]") {
    fixture fx;
    memory_actuator gpu(1);
    actuator_set<memory_actuator> acts;
    acts.add("cpu", fx.act).add("gpu", gpu);
    test_scaler a(fx.io.get_executor(), fx.source, acts, {cpu_rules(10, 60s, "cpu"), cpu_rules(4, 60s, "gpu")},
                  {.name = "ml", .target = "pool/ml", .period = 30s}, fx.reg, logger(fx.sink), clock_ref(fx.clock),
                  manual_wall_clock{});
    fx.source.set(load({{"cpu_utilization", 10}, {"gpu_utilization", 99}}, fx.clock.now()));
    auto rep = run_step(fx.io, a);
    REQUIRE(rep.targets.size() == 2);
    CHECK(*fx.act.current_size_now() == 1);
    CHECK(*gpu.current_size_now() == 2);
    REQUIRE(gpu.applied().size() == 1);
    CHECK(gpu.applied()[0].resource == "gpu");
    CHECK(fx.act.applied()[0].resource == "cpu");

    SECTION("construction refuses a resource without an actuator, or scaled twice") {
        actuator_set<memory_actuator> only_cpu;
        only_cpu.add("cpu", fx.act);
        try {
            test_scaler b(fx.io.get_executor(), fx.source, only_cpu, {cpu_rules(10, 60s, "gpu")},
                          {.name = "x", .target = "x", .period = 30s}, fx.reg, {}, clock_ref(fx.clock),
                          manual_wall_clock{});
            FAIL("no error");
        } catch (const config_error& e) {
            CHECK(e.field() == "autoscaler.targets[0].resource");
            CHECK(std::string(e.what()).find("no actuator for resource type 'gpu'") != std::string::npos);
        }
        CHECK_THROWS_AS(test_scaler(fx.io.get_executor(), fx.source, acts, {cpu_rules(), cpu_rules()},
                                    {.name = "x", .target = "x", .period = 30s}, fx.reg, {}, clock_ref(fx.clock),
                                    manual_wall_clock{}),
                        config_error);
        CHECK_THROWS_AS(test_scaler(fx.io.get_executor(), fx.source, acts, {cpu_rules()},
                                    {.name = "x", .target = "x", .period = -1s}, fx.reg, {}, clock_ref(fx.clock),
                                    manual_wall_clock{}),
                        config_error);
    }
}

TEST_CASE("the wall clock reaches scheduled minimums through the shell", "[scaling][autoscaler][schedule]") {
    using namespace std::chrono;
    using sched_rec = recommender<step_scaling, schedule_floor>;
    fixture fx;
    manual_wall_clock wall(sys_seconds{sys_days{year{2024} / January / 1} + 7h});
    sched_rec rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 10, .fallback = {}},
                  std::get<0>(cpu_rules().policies()),
                  schedule_floor({.windows = {{.name = "day", .start = 8h, .end = 20h, .min_replicas = 6}},
                                  .utc_offset = 0s}));
    autoscaler<memory_source, memory_actuator, sched_rec, clock_ref<manual_clock>, clock_ref<manual_wall_clock>> a(
        fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {rec},
        {.name = "s", .target = "x", .period = 30s}, fx.reg, {}, clock_ref(fx.clock), clock_ref(wall));
    fx.source.set(load({{"cpu_utilization", 50}}, fx.clock.now()));
    CHECK_FALSE(run_step(fx.io, a).targets[0].result.changes());
    wall.set(wall.now() + 1h);
    auto rep = run_step(fx.io, a);
    CHECK(rep.targets[0].result.desired == 6);
    CHECK(rep.targets[0].result.why.limited_by == "schedule");
    CHECK(*fx.act.current_size_now() == 6);
}

TEST_CASE("the loop runs until stopped or cancelled", "[scaling][autoscaler][loop]") {
    fixture fx;
    fx.source.set(load({{"cpu_utilization", 50}}, fx.clock.now()));
    SECTION("start and stop") {
        test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                      {.name = "loop", .target = "x", .period = 1ms}, fx.reg, logger(fx.sink), clock_ref(fx.clock),
                      manual_wall_clock{});
        int steps = 0;
        a.on_step([&](const step_report&) {
            if (++steps == 3) a.stop();
        });
        a.start();
        CHECK(a.running());
        fx.io.run();  // returns once the loop has ended: nothing else is queued
        CHECK(steps == 3);
        CHECK_FALSE(a.running());
        CHECK(fx.source.reads() == 3);
        CHECK(count(fx.reg, "salama_autoscaler_steps_total", {"loop"}) == 3);
        CHECK(fx.sink->contains("autoscaler loop: stopped"));
    }
    SECTION("a step that fails does not end the loop") {
        fx.source.fail_next(make_error_code(errc::source_failed), 2);
        test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                      {.name = "loop", .target = "x", .period = 1ms}, fx.reg, {}, clock_ref(fx.clock),
                      manual_wall_clock{});
        int ok = 0;
        a.on_step([&](const step_report& r) {
            if (r.source_ok && ++ok == 2) a.stop();
        });
        a.start();
        fx.io.run();
        CHECK(fx.source.reads() == 4);
    }
    SECTION("cancelling the awaiting coroutine ends run()") {
        test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                      {.name = "loop", .target = "x", .period = 1h}, fx.reg, {}, clock_ref(fx.clock),
                      manual_wall_clock{});
        boost::asio::cancellation_signal sig;
        bool done = false;
        boost::asio::co_spawn(fx.io, a.run(),
                              boost::asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr) { done = true; }));
        // The first step runs at once; then the loop waits an hour, which we cancel.
        fx.io.poll();
        CHECK(fx.source.reads() == 1);
        CHECK_FALSE(done);
        sig.emit(boost::asio::cancellation_type::terminal);
        fx.io.run();
        CHECK(done);
        CHECK(fx.source.reads() == 1);
    }
}

TEST_CASE("stop() from another thread while the loop runs and the metrics change", "[scaling][autoscaler][tsan]") {
    boost::asio::io_context io;
    memory_source source;
    memory_actuator act(2);
    metrics_registry reg;
    source.set(load({{"cpu_utilization", 90}}, time_point{24h}));
    rules_recommender rec = cpu_rules(50, 0s);
    autoscaler<memory_source, memory_actuator, rules_recommender> a(
        io.get_executor(), source, actuator_set<memory_actuator>(act), {rec},
        {.name = "mt", .target = "x", .period = 1ms}, reg);
    std::atomic<int> steps{0};
    a.on_step([&](const step_report&) { steps.fetch_add(1); });
    a.start();
    std::thread runner([&] { io.run(); });
    // Change the metrics from this thread while the loop reads them on the other.
    const snapshot hot = load({{"cpu_utilization", 90}}, time_point{24h});
    const snapshot cold = load({{"cpu_utilization", 10}}, time_point{24h});
    for (int i = 0; steps.load() < 20 && i < 200000; ++i) {
        source.set(i % 2 ? hot : cold);
        std::this_thread::yield();
    }
    a.stop();
    runner.join();  // the loop ends once stopped: run() returns
    CHECK(steps.load() >= 1);
    CHECK(source.reads() == static_cast<std::size_t>(steps.load()));
    const auto size = *act.current_size_now();
    CHECK(size >= 1);
    CHECK(size <= 50);
}
