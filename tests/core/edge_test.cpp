// The edge vocabulary every loop and adapter shares: errors with conditions and details, the
// clock reference, the telemetry handle, and calls with deadlines.
#include "catch.hpp"

#include <salama/core/clock.hpp>
#include <salama/core/error.hpp>
#include <salama/core/loop.hpp>
#include <salama/core/telemetry.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

using namespace salama;
using namespace std::chrono_literals;

namespace {

result<int> parse_port(int v) {
    if (v <= 0 || v > 65535)
        return error(errc::invalid_argument, fmt::format("invalid port: must be within [1, 65535], got {}", v));
    return v;
}

}  // namespace

TEST_CASE("an error keeps its code, its detail and its classification", "[core][error]") {
    auto r = parse_port(0);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK(r.error() == condition::invalid_input);
    CHECK_FALSE(r.error() == condition::timeout);
    CHECK(r.error().message() == "invalid port: must be within [1, 65535], got 0");
    const error_code ec = r.error();  // where an error_code is wanted
    CHECK(ec == errc::invalid_argument);
    CHECK(*parse_port(80) == 80);
    // Without a detail, the message is the code's.
    CHECK(error(errc::timeout).message() == "timed out");
    CHECK_THROWS_AS(parse_port(-1).value(), boost::system::system_error);
}

TEST_CASE("system and Asio errors stay themselves and are classified by condition", "[core][error]") {
    // A refused connection is not flattened to one salama code: its message stays the
    // system's, and the condition tells refused and unreachable apart from a timeout.
    const error_code refused = boost::asio::error::connection_refused;
    const error_code unreachable = boost::asio::error::host_unreachable;
    const error_code timed_out = boost::asio::error::timed_out;
    const error_code aborted = boost::asio::error::operation_aborted;
    CHECK(refused == condition::connection_failed);
    CHECK(unreachable == condition::connection_failed);
    CHECK(refused != unreachable);
    CHECK(refused != condition::timeout);
    CHECK(timed_out == condition::timeout);
    CHECK(make_error_code(errc::timeout) == condition::timeout);
    CHECK(aborted == condition::cancelled);
    CHECK(aborted != condition::connection_failed);
    CHECK(make_error_code(errc::no_healthy_nodes) == condition::unavailable);
    CHECK(make_error_code(errc::metric_missing) == condition::not_found);
    CHECK(refused.message() != make_error_code(errc::connection_failed).message());
}

TEST_CASE("clock_ref reads the clock it refers to, the system clocks by default", "[core][clock]") {
    manual_clock m;
    const clock_ref r = m;
    const auto t = m.now();
    m.advance(90s);
    CHECK(r.now() == t + 90s);
    // The time of day moves with the manual time, and can be set.
    const auto w = r.wall_now();
    m.advance(30s);
    CHECK(r.wall_now() == w + 30s);
    m.set_wall(wall_time{std::chrono::seconds(1'800'000'000)});
    CHECK(r.wall_now() == wall_time{std::chrono::seconds(1'800'000'000)});
    CHECK(r.now() == t + 120s);  // setting the time of day does not move `now`
    // The default refers to the system's clocks.
    const clock_ref sys;
    CHECK(sys.now().time_since_epoch() > duration::zero());  // not the epoch: a clock is read
    CHECK(sys.wall_now().time_since_epoch() > std::chrono::seconds(1'700'000'000));
    static_assert(!std::is_constructible_v<clock_ref, manual_clock&&>, "a temporary would dangle");
    static_assert(std::is_trivially_copyable_v<clock_ref>);
}

TEST_CASE("telemetry: an instance label on every series, removal, and a bound", "[core][metrics]") {
    metrics_registry reg(3);
    bound_telemetry a({.registry = &reg, .name = "a"});
    bound_telemetry b({.registry = &reg, .name = "b"});
    auto fa = a.counter("x_checks_total", "Checks.", {"node"});
    auto fb = b.counter("x_checks_total", "Checks.", {"node"});
    (void)fa.with({"n1"}).inc();
    (void)fb.with({"n1"}).inc(2);
    const auto text = reg.render();
    // Two instances on one registry keep separate series.
    CHECK(text.find("x_checks_total{name=\"a\",node=\"n1\"} 1") != std::string::npos);
    CHECK(text.find("x_checks_total{name=\"b\",node=\"n1\"} 2") != std::string::npos);
    // Removing a node removes that instance's series only.
    CHECK(fa.remove("node", "n1") == 1);
    CHECK(reg.render().find("name=\"a\"") == std::string::npos);
    CHECK(reg.render().find("x_checks_total{name=\"b\",node=\"n1\"} 2") != std::string::npos);
    // Past the bound (3 here) new label tuples share one overflow series, keeping the
    // instance: node ids from outside cannot grow memory without bound.
    for (int i = 0; i < 10; ++i) (void)fb.with({fmt::format("m{}", i)}).inc();
    CHECK(fb.underlying().size() == 4);  // 3 + the overflow series
    CHECK(reg.render().find("x_checks_total{name=\"b\",node=\"overflow\"} 8") != std::string::npos);
    // No registry given: a private one.
    bound_telemetry own({});
    (void)own.counter("y_total", "Y.").with().inc();
    CHECK(own.registry().render().find("y_total{name=\"default\"} 1") != std::string::npos);
    CHECK_THROWS_AS(bound_telemetry({.name = ""}), config_error);
}

TEST_CASE("call_with_deadline: a value, a timeout, a throw, a cancellation", "[core][loop]") {
    boost::asio::io_context io;
    const auto strand = boost::asio::make_strand(io.get_executor());
    auto run = [&](awaitable<result<int>> op, duration limit) {
        auto f = boost::asio::co_spawn(strand, call_with_deadline(strand, std::move(op), limit, errc::source_failed),
                                       boost::asio::use_future);
        io.restart();
        io.run();
        return f.get();
    };
    auto answers = []() -> awaitable<result<int>> { co_return 7; };
    CHECK(*run(answers(), 1h) == 7);

    // Never answers (an hour-long wait): the deadline ends it, and the call is cancelled.
    auto aborted = std::make_shared<bool>(false);
    auto hangs = [aborted]() -> awaitable<result<int>> {
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 1h);
        auto [ec] = co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        *aborted = ec == boost::asio::error::operation_aborted;
        co_return 1;
    };
    auto r = run(hangs(), 1ms);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::timeout);
    CHECK(*aborted);

    auto throws = []() -> awaitable<result<int>> {
        throw std::runtime_error("sensor on fire");
        co_return 0;
    };
    r = run(throws(), 1h);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::source_failed);
    CHECK(r.error().message() == "sensor on fire");

    // A system_error keeps its own code (an operation_aborted of the callee is its failure).
    auto aborts = []() -> awaitable<result<int>> {
        throw boost::system::system_error(boost::asio::error::operation_aborted);
        co_return 0;
    };
    r = run(aborts(), 1h);
    REQUIRE_FALSE(r);
    CHECK(r.error() == boost::asio::error::operation_aborted);
}
