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
using test_scaler = autoscaler<memory_source, memory_actuator, rules_recommender>;

rules_recommender cpu_rules(std::int64_t max = 10, duration cooldown = 60s, std::string resource = "cpu",
                            std::int64_t up = 1) {
    return rules_recommender(
        {.resource = resource, .min_replicas = 1, .max_replicas = max, .fallback = {}},
        step_scaling(std::vector<scaling_rule>{
            {.name = resource + "_high", .metric = resource + "_utilization", .threshold = 80,
             .action = scale_action::scale_up, .cooldown = cooldown, .scale_size = up},
            {.name = resource + "_low", .metric = resource + "_utilization", .threshold = 30,
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
        {"salama_autoscaler_steps_total", {"name"}},
        {"salama_autoscaler_errors_total", {"name", "stage"}},
        {"salama_autoscaler_decisions_total", {"name", "resource", "direction"}},
        {"salama_autoscaler_scale_actions_total", {"name", "resource", "direction", "outcome"}},
        {"salama_autoscaler_fallbacks_total", {"name", "resource"}},
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
                  {.target = "deployment/web", .period = 30s}, {.registry = &fx.reg, .log = logger(fx.sink), .name = "web"}, fx.clock);
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
    CHECK(rep.targets[0].result.why.limited_by == limit::cooldown);
    fx.clock.advance(30s);
    rep = run_step(fx.io, a);
    CHECK(rep.targets[0].result.desired == 4);
    CHECK(*fx.act.current_size_now() == 4);
    CHECK(fx.reg.render().find("salama_autoscaler_desired_replicas{name=\"web\",resource=\"cpu\"} 4") !=
          std::string::npos);
}

TEST_CASE("a failing metric source is logged, counted and survived", "[scaling][autoscaler][fallback]") {
    fixture fx;
    test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                  {.target = "deployment/web", .period = 30s}, {.registry = &fx.reg, .log = logger(fx.sink), .name = "web"}, fx.clock);
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
        {.target = "x", .period = 30s}, {.registry = &reg, .log = logger(sink), .name = "t"});
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
                  {cpu_rules(10, 300s, "cpu", 5)}, {.target = "deployment/web", .period = 30s}, {.registry = &fx.reg, .log = logger(fx.sink), .name = "web"}, fx.clock);
    fx.source.set(load({{"cpu_utilization", 95}}, fx.clock.now()));
    fx.act.fail_next(make_error_code(errc::actuator_failed), 1);
    auto rep = run_step(fx.io, a);
    REQUIRE(rep.targets.size() == 1);
    CHECK_FALSE(rep.targets[0].applied);
    CHECK(rep.targets[0].error == make_error_code(errc::actuator_failed));
    CHECK(rep.targets[0].result.desired == 10);
    CHECK(rep.targets[0].result.why.limited_by == limit::max_replicas);
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
            {.target = "x", .period = 30s}, {.registry = &reg, .name = "b"});
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
                  {.target = "pool/ml", .period = 30s}, {.registry = &fx.reg, .log = logger(fx.sink), .name = "ml"}, fx.clock);
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
                          {.target = "x", .period = 30s}, {.registry = &fx.reg, .name = "x"}, fx.clock);
            FAIL("no error");
        } catch (const config_error& e) {
            CHECK(e.field() == "autoscaler.targets[0].resource");
            CHECK(std::string(e.what()).find("no actuator for resource type 'gpu'") != std::string::npos);
        }
        CHECK_THROWS_AS(test_scaler(fx.io.get_executor(), fx.source, acts, {cpu_rules(), cpu_rules()},
                                    {.target = "x", .period = 30s}, {.registry = &fx.reg, .name = "x"}, fx.clock),
                        config_error);
        CHECK_THROWS_AS(test_scaler(fx.io.get_executor(), fx.source, acts, {cpu_rules()},
                                    {.target = "x", .period = -1s}, {.registry = &fx.reg, .name = "x"}, fx.clock),
                        config_error);
    }
}

TEST_CASE("the wall clock reaches scheduled minimums through the shell", "[scaling][autoscaler][schedule]") {
    using namespace std::chrono;
    using sched_rec = recommender<step_scaling, schedule_floor>;
    fixture fx;
    fx.clock.set_wall(sys_seconds{sys_days{year{2024} / January / 1} + 7h});
    sched_rec rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 10, .fallback = {}},
                  std::get<0>(cpu_rules().policies()),
                  schedule_floor({.windows = {{.name = "day", .start = 8h, .end = 20h, .min_replicas = 6}},
                                  .utc_offset = 0s}));
    // One template argument at most: the types are deduced.
    autoscaler a(fx.io.get_executor(), fx.source, fx.act, rec, {.target = "x", .period = 30s},
                 {.registry = &fx.reg, .name = "s"}, fx.clock);
    fx.source.set(load({{"cpu_utilization", 50}}, fx.clock.now()));
    CHECK_FALSE(run_step(fx.io, a).targets[0].result.changes());
    fx.clock.set_wall(fx.clock.wall_now() + 1h);
    auto rep = run_step(fx.io, a);
    CHECK(rep.targets[0].result.desired == 6);
    CHECK(rep.targets[0].result.why.limited_by == limit::schedule);
    CHECK(*fx.act.current_size_now() == 6);
}

TEST_CASE("the loop runs until stopped or cancelled", "[scaling][autoscaler][loop]") {
    fixture fx;
    fx.source.set(load({{"cpu_utilization", 50}}, fx.clock.now()));
    SECTION("start and stop") {
        test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                      {.target = "x", .period = 1ms}, {.registry = &fx.reg, .log = logger(fx.sink), .name = "loop"}, fx.clock);
        int steps = 0;
        a.on_step([&](const step_report&) {
            if (++steps >= 3) a.stop();
        });
        a.start();
        CHECK(a.running());
        fx.io.run();  // returns once the loop has ended: nothing else is queued
        CHECK(steps == 3);
        CHECK_FALSE(a.running());
        CHECK(fx.source.reads() == 3);
        CHECK(count(fx.reg, "salama_autoscaler_steps_total", {"loop"}) == 3);
        CHECK(fx.sink->contains("autoscaler loop: stopped"));
        CHECK(a.start());  // a stopped autoscaler starts again
        fx.io.restart();
        fx.io.run();
        CHECK(steps == 4);
    }
    SECTION("a step that fails does not end the loop") {
        fx.source.fail_next(make_error_code(errc::source_failed), 2);
        test_scaler a(fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act), {cpu_rules()},
                      {.target = "x", .period = 1ms}, {.registry = &fx.reg, .name = "loop"}, fx.clock);
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
                      {.target = "x", .period = 1h}, {.registry = &fx.reg, .name = "loop"}, fx.clock);
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
        {.target = "x", .period = 1ms}, {.registry = &reg, .name = "mt"});
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

namespace {

// A source that never answers: its read waits on a timer an hour long. With `cancellable`
// false it also ignores cancellation (an empty slot), as a stuck client library would.
struct hanging_source {
    bool cancellable = true;
    int reads = 0;
    awaitable<result<snapshot>> read() {
        ++reads;
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 1h);
        if (cancellable)
            co_await t.async_wait(boost::asio::use_awaitable);
        else
            co_await t.async_wait(boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(),
                                                                       boost::asio::use_awaitable));
        co_return snapshot{};
    }
};

}  // namespace

TEST_CASE("a source that hangs times out, is counted, and the loop goes on", "[scaling][autoscaler][loop]") {
    boost::asio::io_context io;
    memory_actuator act(2);
    metrics_registry reg;
    auto sink = std::make_shared<memory_sink>();
    hanging_source src{.cancellable = GENERATE(true, false)};
    // The deadline is real time, but nothing here depends on how long it takes: the source
    // never answers, so every read ends in a timeout.
    autoscaler a(io.get_executor(), src, act, cpu_rules(), {.target = "x", .period = 1ms, .call_timeout = 1ms},
                 {.registry = &reg, .log = logger(sink), .name = "hang"});
    std::vector<step_report> reports;
    a.on_step([&](const step_report& r) {
        reports.push_back(r);
        if (reports.size() == 3) {
            a.stop();
            io.stop();  // an abandoned read that ignores cancellation still holds its hour-long timer
        }
    });
    a.start();
    io.run();
    REQUIRE(reports.size() == 3);
    for (const auto& r : reports) {
        CHECK_FALSE(r.source_ok);
        CHECK(r.source_error == errc::timeout);
        CHECK(r.source_error == condition::timeout);
    }
    CHECK(src.reads == 3);
    CHECK(count(reg, "salama_autoscaler_errors_total", {"hang", "source"}) == 3);
    CHECK(sink->contains("no answer within the deadline"));
}

TEST_CASE("an operation_aborted from user code and a throwing on_step do not stop the loop",
          "[scaling][autoscaler][loop]") {
    struct aborting_source {
        int reads = 0;
        awaitable<result<snapshot>> read() {
            ++reads;
            // The source's own timer was cancelled for its own reasons: not our stop.
            if (reads % 2 == 1) throw boost::system::system_error(boost::asio::error::operation_aborted);
            co_return snapshot{};
        }
    };
    boost::asio::io_context io;
    aborting_source src;
    memory_actuator act(2);
    metrics_registry reg;
    autoscaler a(io.get_executor(), src, act, cpu_rules(), {.target = "x", .period = 1ms},
                 {.registry = &reg, .name = "ab"});
    int steps = 0;
    a.on_step([&](const step_report&) {
        if (++steps == 4) a.stop();
        throw std::runtime_error("callback bug");
    });
    a.start();
    io.run();
    CHECK(steps == 4);
    CHECK(src.reads == 4);
    CHECK(count(reg, "salama_autoscaler_errors_total", {"ab", "source"}) == 2);
    CHECK(count(reg, "salama_autoscaler_errors_total", {"ab", "on_step"}) == 4);
}

TEST_CASE("destroying an autoscaler while its loop runs, or right after stop(), is safe",
          "[scaling][autoscaler][loop]") {
    // Under AddressSanitizer a loop frame that kept a pointer to the destroyed autoscaler
    // (the old `this` capture) is a heap-use-after-free here.
    boost::asio::io_context io;
    memory_source source;
    memory_actuator act(2);
    metrics_registry reg;
    source.set(load({{"cpu_utilization", 50}}, time_point{24h}));
    SECTION("while waiting between steps") {
        auto a = std::make_unique<test_scaler>(io.get_executor(), source, actuator_set<memory_actuator>(act),
                                               std::vector{cpu_rules()}, autoscaler_options{.period = 1h},
                                               telemetry{.registry = &reg, .name = "d1"});
        a->start();
        io.poll();  // the first step ran; the loop waits an hour
        CHECK(source.reads() == 1);
        a.reset();
        io.run();  // the loop ends at its next resumption, touching nothing freed
        CHECK(source.reads() == 1);
    }
    SECTION("right after stop(), before the stop was processed") {
        auto a = std::make_unique<test_scaler>(io.get_executor(), source, actuator_set<memory_actuator>(act),
                                               std::vector{cpu_rules()}, autoscaler_options{.period = 1h},
                                               telemetry{.registry = &reg, .name = "d2"});
        a->start();
        io.poll();
        a->stop();
        a.reset();
        io.run();
        CHECK(source.reads() == 1);
    }
    SECTION("before the loop ever ran") {
        auto a = std::make_unique<test_scaler>(io.get_executor(), source, actuator_set<memory_actuator>(act),
                                               std::vector{cpu_rules()}, autoscaler_options{.period = 1h},
                                               telemetry{.registry = &reg, .name = "d3"});
        a->start();
        a.reset();
        io.run();
        CHECK(source.reads() == 0);
    }
}

TEST_CASE("stop() and destruction from another thread on a two-thread io_context",
          "[scaling][autoscaler][tsan]") {
    // Under ThreadSanitizer the old plain `running_`/`stopping_` flags written on one thread
    // and read on the other are reported as a data race.
    boost::asio::io_context io(2);
    memory_source source;
    memory_actuator act(2);
    metrics_registry reg;
    source.set(load({{"cpu_utilization", 90}}, time_point{24h}));
    auto work = boost::asio::make_work_guard(io);
    std::thread t1([&] { io.run(); });
    std::thread t2([&] { io.run(); });
    // An on_step call that starts after the destructor returned would use this round's
    // captures after their scope: counted here instead.
    std::atomic<int> late_calls{0};
    for (int round = 0; round < 20; ++round) {
        auto a = std::make_unique<test_scaler>(io.get_executor(), source, actuator_set<memory_actuator>(act),
                                               std::vector{cpu_rules(50, 0s)},
                                               autoscaler_options{.period = std::chrono::microseconds(50)},
                                               telemetry{.registry = &reg, .name = "mt2"});
        auto steps = std::make_shared<std::atomic<int>>(0);
        auto gone = std::make_shared<std::atomic<bool>>(false);
        a->on_step([steps, gone, &late_calls](const step_report&) {
            if (gone->load()) late_calls.fetch_add(1);
            steps->fetch_add(1);
        });
        CHECK(a->start());
        while (steps->load() < 3) std::this_thread::yield();
        if (round % 2 == 0) a->stop();
        a.reset();  // from this thread, while the loop may be mid-step on another
        gone->store(true);
    }
    work.reset();
    t1.join();
    t2.join();
    CHECK(late_calls.load() == 0);
}

namespace {

// Records the ready members the policies were shown.
struct ready_probe_policy {
    struct state_type {};
    std::shared_ptr<std::int64_t> seen = std::make_shared<std::int64_t>(-1);
    state_type initial_state() const { return {}; }
    recommendation recommend(const scaling_input& in, state_type&) const {
        *seen = in.ready_members();
        return recommendation::abstain("ready_probe", "only looks");
    }
    std::string_view name() const { return "ready_probe"; }
};
static_assert(scaling_policy<ready_probe_policy>);

// An actuator that also knows how many of its members are ready.
struct readiness_pool : memory_actuator {
    using memory_actuator::memory_actuator;
    std::int64_t ready = 0;
    awaitable<result<std::int64_t>> ready_members() { co_return ready; }
};
static_assert(readiness_actuator<readiness_pool>);

}  // namespace

TEST_CASE("an actuator that reports readiness shows the policies real readiness", "[scaling][autoscaler]") {
    boost::asio::io_context io;
    memory_source source;
    readiness_pool pool(4);
    metrics_registry reg;
    ready_probe_policy probe;
    recommender rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 10, .fallback = {}}, probe);
    autoscaler a(io.get_executor(), source, pool, rec, {.target = "x"}, {.registry = &reg, .name = "rd"});
    pool.ready = 3;
    auto rep = run_step(io, a);
    CHECK(*probe.seen == 3);  // not the 4 members the pool has
    CHECK(rep.errors == 0);

    // More ready members than members is a broken actuator: the target is skipped, counted.
    pool.ready = 5;
    *probe.seen = -1;
    rep = run_step(io, a);
    CHECK(*probe.seen == -1);
    REQUIRE(rep.targets.size() == 1);
    CHECK(rep.targets[0].error == errc::invalid_argument);
    CHECK(count(reg, "salama_autoscaler_errors_total", {"rd", "ready_members"}) == 1);
}

namespace {
// Throws on its first evaluation, then asks for one more member.
struct throwing_policy {
    struct state_type {};
    std::shared_ptr<int> calls = std::make_shared<int>(0);
    std::string_view name() const { return "boom"; }
    state_type initial_state() const { return {}; }
    recommendation recommend(const scaling_input& in, state_type&) const {
        if ((*calls)++ == 0) throw std::runtime_error("policy exploded");
        recommendation r;
        r.desired = in.current + 1;
        r.why.policy = "boom";
        r.why.reason = "one more";
        return r;
    }
};
static_assert(scaling_policy<throwing_policy>);
}  // namespace

TEST_CASE("a throwing policy fails its step, which is counted, logged and survived", "[scaling][autoscaler]") {
    fixture fx;
    throwing_policy policy;
    auto calls = policy.calls;
    autoscaler<memory_source, memory_actuator, recommender<throwing_policy>> a(
        fx.io.get_executor(), fx.source, actuator_set<memory_actuator>(fx.act),
        {recommender<throwing_policy>({.resource = "cpu", .min_replicas = 1, .max_replicas = 10, .fallback = {}},
                                      policy)},
        {.target = "x", .period = 30s}, {.registry = &fx.reg, .log = logger(fx.sink), .name = "p"}, fx.clock);
    fx.source.set(load({{"cpu_utilization", 50}}, fx.clock.now()));
    auto rep = run_step(fx.io, a);
    CHECK(rep.source_ok);
    CHECK(rep.errors == 1);
    CHECK(fx.act.applied().empty());  // nothing applied on a failed evaluation
    CHECK(*fx.act.current_size_now() == 2);
    CHECK(count(fx.reg, "salama_autoscaler_errors_total", {"p", "evaluate"}) == 1);
    CHECK(fx.sink->contains("policy exploded"));
    // The next step evaluates again and acts.
    fx.clock.advance(30s);
    rep = run_step(fx.io, a);
    CHECK(rep.errors == 0);
    REQUIRE(rep.targets.size() == 1);
    CHECK(rep.targets[0].applied);
    CHECK(*fx.act.current_size_now() == 3);
    CHECK(*calls == 2);
}
