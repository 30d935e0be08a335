// Core async concepts: the in-memory source and actuator driven from coroutines, and the
// Redis fixtures reached over real loopback sockets.
#include "catch.hpp"
#include "test_env.hpp"

#include <salama/salama.hpp>

#include <boost/asio.hpp>

#include <cmath>
#include <thread>

using namespace salama;
namespace net = boost::asio;

namespace {

// Runs `op` to completion on a fresh io_context and returns its value.
template <class T>
T run(awaitable<T> op) {
    net::io_context io;
    auto fut = net::co_spawn(io, std::move(op), net::use_future);
    io.run();
    return fut.get();
}

}  // namespace

TEST_CASE("memory_source returns its snapshot and injected failures", "[core][source]") {
    manual_clock clk;
    snapshot s(clk.now());
    REQUIRE(s.add("requests_per_second", 120));
    memory_source src(s);
    STATIC_REQUIRE(metric_source<memory_source>);

    auto r = run(src.read());
    REQUIRE(r.has_value());
    CHECK(r->find("requests_per_second")->value == 120);

    src.fail_next(errc::source_failed, 2);
    CHECK(run(src.read()).error() == errc::source_failed);
    CHECK(run(src.read()).error() == errc::source_failed);
    CHECK(run(src.read()).has_value());
    CHECK(src.reads() == 4);

    snapshot s2(clk.now());
    REQUIRE(s2.add("requests_per_second", 7));
    src.set(s2);
    CHECK(run(src.read())->find("requests_per_second")->value == 7);
}

TEST_CASE("memory_actuator applies and records requests", "[core][actuator]") {
    memory_actuator act(3);
    STATIC_REQUIRE(actuator<memory_actuator>);
    CHECK(*run(act.current_size()) == 3);

    scale_request up{.target = "pool/web", .resource = "cpu", .current = 3, .desired = 5,
                     .reason = "cpu 0.92 > 0.80"};
    auto o = run(act.apply(up));
    REQUIRE(o.has_value());
    CHECK(o->previous == 3);
    CHECK(o->applied == 5);
    CHECK(*run(act.current_size()) == 5);

    act.fail_next(errc::actuator_failed);
    CHECK(run(act.apply(up)).error() == errc::actuator_failed);
    CHECK(act.attempts().size() == 2);
    REQUIRE(act.applied().size() == 1);
    CHECK(act.applied()[0].reason == "cpu 0.92 > 0.80");

    scale_request bad = up;
    bad.desired = -1;
    CHECK(run(act.apply(bad)).error() == errc::invalid_argument);
    act.set_size(9);
    CHECK(*run(act.current_size()) == 9);
}

TEST_CASE("memory source and actuator are safe across threads", "[core][tsan]") {
    memory_source src;
    memory_actuator act(1);
    std::thread writer([&] {
        for (int i = 0; i < 2000; ++i) {
            snapshot s;
            (void)s.add("load", i);
            src.set(std::move(s));
            act.set_size(i);
        }
    });
    std::size_t seen = 0;
    for (int i = 0; i < 2000; ++i) {
        auto r = src.read_now();
        REQUIRE(r.has_value());
        // Only values the writer wrote: a torn or stale read would show as something else.
        if (const auto* p = r->find("load")) {
            CHECK((p->value >= 0 && p->value < 2000 && p->value == std::trunc(p->value)));
            ++seen;
        }
        const auto size = act.current_size_now().value();
        CHECK((size >= 0 && size < 2000));
    }
    writer.join();
    CHECK(src.reads() == 2000);
    // After the writer: the last values are seen.
    auto last = src.read_now();
    REQUIRE(last.has_value());
    REQUIRE(last->find("load") != nullptr);
    CHECK(last->find("load")->value == 1999);
    CHECK(act.current_size_now().value() == 1999);
    (void)seen;
}

namespace {

// Sends one RESP command written inline and returns the first reply line.
awaitable<std::string> redis_roundtrip(unsigned short port, std::string commands, int replies) {
    auto ex = co_await net::this_coro::executor;
    net::ip::tcp::socket sock(ex);
    co_await sock.async_connect({net::ip::make_address("127.0.0.1"), port}, net::use_awaitable);
    co_await net::async_write(sock, net::buffer(commands), net::use_awaitable);
    std::string buf;
    std::string last;
    for (int i = 0; i < replies; ++i) {
        auto n = co_await net::async_read_until(sock, net::dynamic_buffer(buf), "\r\n",
                                                net::use_awaitable);
        last = buf.substr(0, n - 2);
        buf.erase(0, n);
    }
    co_return last;
}

}  // namespace

TEST_CASE("the redis fixtures serve on loopback, one with a password", "[redis]") {
    const auto plain_fx = test::redis_from_env("SALAMA_REDIS_DIR");
    const auto authed_fx = test::redis_from_env("SALAMA_REDIS_AUTH_DIR");
    if (!plain_fx || !authed_fx) {
        SUCCEED("skipped: no Redis fixture");  // ctest reports the entry as skipped
        return;
    }
    const auto& plain = *plain_fx;
    const auto& authed = *authed_fx;
    CHECK(plain.password.empty());
    CHECK(run(redis_roundtrip(plain.port, "PING\r\n", 1)) == "+PONG");

    REQUIRE_FALSE(authed.password.empty());
    // Without AUTH the server refuses; with it, it answers.
    CHECK(run(redis_roundtrip(authed.port, "PING\r\n", 1)).rfind("-NOAUTH", 0) == 0);
    CHECK(run(redis_roundtrip(authed.port, fmt::format("AUTH {}\r\nPING\r\n", authed.password), 2)) ==
          "+PONG");
}
