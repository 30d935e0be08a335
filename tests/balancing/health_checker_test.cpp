// Active health checks: the pure state machine, option validation, and the TCP and HTTP
// probes and the checker against real servers on 127.0.0.1 started here. Rounds are driven
// one at a time, so assertions are about counts and states, never about durations.
#include "catch.hpp"

#include <salama/balancing/health/checker.hpp>
#include <salama/balancing/health/http_probe.hpp>
#include <salama/balancing/health/state_machine.hpp>
#include <salama/balancing/health/tcp_probe.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace salama::balancing::health;
using namespace std::chrono_literals;

// A tiny HTTP server on 127.0.0.1 answering every request with `status` (changeable).
class test_server {
public:
    explicit test_server(asio::io_context& ioc, unsigned status = 200)
        : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          status_(std::make_shared<std::atomic<unsigned>>(status)) {
        asio::co_spawn(ioc, accept_loop(), asio::detached);
    }
    ~test_server() {
        boost::system::error_code ec;
        acceptor_.close(ec);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    void set_status(unsigned s) { status_->store(s); }
    std::size_t served() const { return *served_; }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(acceptor_.get_executor(), session(std::move(sock), status_, served_),
                           asio::detached);
        }
    }
    static asio::awaitable<void> session(tcp::socket sock,
                                         std::shared_ptr<std::atomic<unsigned>> status,
                                         std::shared_ptr<std::size_t> served) {
        boost::beast::flat_buffer buf;
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(sock, buf, req, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        http::response<http::string_body> res{static_cast<http::status>(status->load()), 11};
        res.body() = "ok";
        res.prepare_payload();
        res.keep_alive(false);
        ++*served;
        co_await http::async_write(sock, res, asio::as_tuple(asio::use_awaitable));
        boost::system::error_code ignored;
        sock.shutdown(tcp::socket::shutdown_both, ignored);
    }

    tcp::acceptor acceptor_;
    std::shared_ptr<std::atomic<unsigned>> status_;
    std::shared_ptr<std::size_t> served_ = std::make_shared<std::size_t>(0);
};

// Listens but never accepts nor answers: connects succeed (the kernel's backlog), reads hang.
struct silent_server {
    explicit silent_server(asio::io_context& ioc)
        : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    tcp::acceptor acceptor_;
};

// A port on 127.0.0.1 that refuses connections: bound but never listening, and held for the
// test's lifetime, so no other process can take it between the bind and the probe.
struct closed_port {
    explicit closed_port(asio::io_context& ioc) : socket_(ioc) {
        socket_.open(tcp::v4());
        socket_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    }
    std::uint16_t port() const { return socket_.local_endpoint().port(); }
    tcp::socket socket_;
};

// Runs `op` on `ioc` until it completes (servers keep running in the background).
template <class T>
T run_op(asio::io_context& ioc, asio::awaitable<T> op) {
    std::optional<T> out;
    std::exception_ptr err;
    ioc.restart();
    asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T v) {
        err = e;
        if (!e) out = std::move(v);
        ioc.stop();
    });
    ioc.run();
    if (err) std::rethrow_exception(err);
    return std::move(*out);
}

health_target local(std::string id, std::uint16_t port) { return {std::move(id), "127.0.0.1", port}; }

}  // namespace

TEST_CASE("state machine: rise successes make a node healthy, fall failures unhealthy") {
    health_state_machine m({.rise = 2, .fall = 3});
    CHECK(m.status() == health_status::unhealthy);
    CHECK_FALSE(m.record(true));
    REQUIRE(m.record(true) == health_status::healthy);
    CHECK_FALSE(m.record(true));  // no second transition
    CHECK_FALSE(m.record(false));
    CHECK_FALSE(m.record(false));
    REQUIRE(m.record(false) == health_status::unhealthy);
    CHECK(m.consecutive_failures() == 3);
}

TEST_CASE("state machine: an interrupted streak starts over") {
    health_state_machine m({.rise = 2, .fall = 3}, health_status::healthy);
    CHECK_FALSE(m.record(false));
    CHECK_FALSE(m.record(false));
    CHECK_FALSE(m.record(true));  // resets the failure streak
    CHECK_FALSE(m.record(false));
    CHECK_FALSE(m.record(false));
    CHECK(m.healthy());
    CHECK(m.record(false) == health_status::unhealthy);
    CHECK_FALSE(m.record(true));
    CHECK_FALSE(m.record(false));  // resets the success streak
    CHECK_FALSE(m.record(true));
    CHECK(m.record(true) == health_status::healthy);
}

TEST_CASE("state machine: rise 1 and fall 1 flip on every change") {
    health_state_machine m({.rise = 1, .fall = 1});
    CHECK(m.record(true) == health_status::healthy);
    CHECK(m.record(false) == health_status::unhealthy);
    m.reset(health_status::healthy);
    CHECK(m.healthy());
    CHECK(m.consecutive_failures() == 0);
}

TEST_CASE("bad health-check configuration names the field") {
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    salama::metrics_registry reg;
    auto field_of = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const salama::config_error& e) {
            return e.field();
        }
        return "<no error>";
    };
    CHECK(field_of([] { health_state_machine m({.rise = 0, .fall = 3}); }) == "health_thresholds.rise");
    CHECK(field_of([] { health_state_machine m({.rise = 2, .fall = 0}); }) == "health_thresholds.fall");
    CHECK(field_of([&] {
              health_checker<tcp_probe> c(ex, tcp_probe{}, {.interval = -1s}, {.registry = &reg});
          }) == "health_check_options.interval");
    CHECK(field_of([&] {
              health_checker<tcp_probe> c(ex, tcp_probe{}, {.interval = 0s}, {.registry = &reg});
          }) == "health_check_options.interval");
    CHECK(field_of([&] {
              health_checker<tcp_probe> c(ex, tcp_probe{}, {.jitter = -5ms}, {.registry = &reg});
          }) == "health_check_options.jitter");
    CHECK(field_of([&] {
              health_checker<tcp_probe> c(ex, tcp_probe{}, {.thresholds = {.rise = 0}}, {.registry = &reg});
          }) == "health_check_options.thresholds.rise");
    CHECK(field_of([&] {
              health_checker<tcp_probe> c(ex, tcp_probe{}, {.thresholds = {.fall = 0}}, {.registry = &reg});
          }) == "health_check_options.thresholds.fall");
    CHECK(field_of([] { tcp_probe p({.timeout = -1s}); }) == "tcp_probe_options.timeout");
    CHECK(field_of([] { http_probe p({.timeout = 0s}); }) == "http_probe_options.timeout");
    CHECK(field_of([] { http_probe p({.path = "health"}); }) == "http_probe_options.path");
    CHECK(field_of([] { http_probe p({.path = "/a b"}); }) == "http_probe_options.path");
    CHECK(field_of([] { http_probe p({.host_header = "x\r\nEvil: 1"}); }) ==
          "http_probe_options.host_header");
    CHECK(field_of([] { http_probe p({.expected = {}}); }) == "http_probe_options.expected");
    CHECK(field_of([] { http_probe p({.expected = {{300, 200}}}); }) == "http_probe_options.expected");
    CHECK(field_of([] { http_probe p({.expected = {{200, 700}}}); }) == "http_probe_options.expected");

    CHECK(field_of([&] {
              health_checker<tcp_probe> c(ex, tcp_probe{}, {.probe_deadline = 0s}, {.registry = &reg});
          }) == "health_check_options.probe_deadline");
    CHECK(field_of([&] { health_checker<tcp_probe> c(ex, tcp_probe{}, {}, {.registry = &reg, .name = ""}); }) ==
          "health_checker.telemetry.name");

    // Targets come from service discovery: a bad one is an error value naming the field, never
    // an exception.
    health_checker<tcp_probe> c(ex, tcp_probe{}, {}, {.registry = &reg});
    auto bad_field = [&](health_target t) {
        auto r = c.add_target(std::move(t));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == salama::errc::invalid_argument);
        return r.error().message();
    };
    CHECK(bad_field({"", "127.0.0.1", 80}) == "invalid health_target.id: must not be empty");
    CHECK(bad_field({"a", "", 80}) == "invalid health_target.host: must not be empty");
    CHECK(bad_field({"a", "127.0.0.1", 0}) == "invalid health_target.port: must be within [1, 65535], got 0");
    CHECK(c.targets().empty());
    REQUIRE(c.add_target({"a", "127.0.0.1", 80}).has_value());
    CHECK(c.add_target({"a", "127.0.0.1", 81}).error() == salama::errc::duplicate_id);
    CHECK(c.remove_target("zz").error() == salama::errc::not_found);
    CHECK(c.status("zz").error() == salama::errc::not_found);
}

TEST_CASE("http probe: expected statuses, configurable ranges") {
    http_probe_options o;
    CHECK(o.accepts(200));
    CHECK(o.accepts(302));
    CHECK_FALSE(o.accepts(404));
    CHECK_FALSE(o.accepts(503));
    o.expected = {{200, 200}, {404, 404}};
    CHECK(o.accepts(404));
    CHECK_FALSE(o.accepts(204));
}

TEST_CASE("name lookup: a slow lookup ends at its caller's deadline and holds up no other lookup") {
    // The lookups run on the shared lookup threads; this one blocks for "slow.test" until the
    // test releases it. Were lookups serialized on one thread (Asio's resolver), the fast
    // lookup would wait behind the slow one and time out; were the deadline not applied,
    // the slow lookup would not end before its release.
    struct gate {
        std::mutex mu;
        std::condition_variable cv;
        bool open = false;
        std::atomic<bool> slow_returned{false};
        std::atomic<int> calls{0};
    };
    auto g = std::make_shared<gate>();
    salama::detail::blocking_lookup how = [g](const std::string& host, std::uint16_t port)
        -> salama::result<salama::detail::endpoint_list> {
        ++g->calls;
        if (host == "slow.test") {
            std::unique_lock lk(g->mu);
            g->cv.wait(lk, [&] { return g->open; });
            g->slow_returned = true;
        }
        return salama::detail::endpoint_list{{asio::ip::make_address("127.0.0.1"), port}};
    };
    struct release_on_exit {
        std::shared_ptr<gate> g;
        ~release_on_exit() {
            std::lock_guard lk(g->mu);
            g->open = true;
            g->cv.notify_all();
        }
    } release{g};

    // Declared after the gate: the io_context is gone before the slow lookup returns, which
    // must be safe (the lookup thread never touches the caller's context).
    asio::io_context ioc;
    std::optional<salama::result<salama::detail::endpoint_list>> slow;
    asio::co_spawn(ioc, salama::detail::lookup("slow.test", 80, 300ms, how),
                   [&](std::exception_ptr, salama::result<salama::detail::endpoint_list> r) { slow = std::move(r); });

    auto fast = run_op(ioc, salama::detail::lookup("fast.test", 8080, 30s, how));
    REQUIRE(fast.has_value());
    REQUIRE(fast->size() == 1);
    CHECK(fast->front().port() == 8080);
    CHECK_FALSE(g->slow_returned.load());

    ioc.restart();
    ioc.run_for(30s);  // a guard only: the slow lookup ends at its 300 ms deadline
    REQUIRE(slow.has_value());
    REQUIRE_FALSE(slow->has_value());
    CHECK(slow->error() == salama::errc::timeout);
    CHECK_FALSE(g->slow_returned.load());  // the caller did not wait for the lookup itself

    // An IP address is parsed, never looked up.
    const int before = g->calls.load();
    auto literal = run_op(ioc, salama::detail::lookup("::1", 443, 30s, how));
    REQUIRE(literal.has_value());
    CHECK(literal->front().address() == asio::ip::make_address("::1"));
    CHECK(g->calls.load() == before);
}

TEST_CASE("probes against local servers: 200, 503, closed port, no answer") {
    asio::io_context ioc;
    test_server ok(ioc, 200);
    test_server unavailable(ioc, 503);
    silent_server silent(ioc);
    const closed_port closed_holder(ioc);
    const auto closed = closed_holder.port();

    // Generous timeouts where an answer comes (a loaded machine may be slow); a short one
    // only where none ever comes, so that it ends in a timeout whatever the load.
    http_probe http({.path = "/healthz", .timeout = 10s});
    http_probe http_short({.path = "/healthz", .timeout = 300ms});
    tcp_probe tcp({.timeout = 10s});

    SECTION("http 200 is healthy") {
        auto r = run_op(ioc, http.check(local("a", ok.port())));
        REQUIRE(r.has_value());
        CHECK(r->healthy);
        CHECK(r->detail == "status 200");
        CHECK(ok.served() == 1);
    }
    SECTION("http 503 is reachable but unhealthy") {
        auto r = run_op(ioc, http.check(local("b", unavailable.port())));
        REQUIRE(r.has_value());
        CHECK_FALSE(r->healthy);
        CHECK(r->detail == "status 503 not expected");
    }
    SECTION("503 is healthy when listed as expected") {
        http_probe lenient({.expected = {{200, 299}, {503, 503}}, .timeout = 10s});
        auto r = run_op(ioc, lenient.check(local("b", unavailable.port())));
        REQUIRE(r.has_value());
        CHECK(r->healthy);
    }
    SECTION("http to a closed port fails to connect") {
        auto r = run_op(ioc, http.check(local("c", closed)));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == salama::errc::connection_failed);
    }
    SECTION("http to a server that never answers times out") {
        auto r = run_op(ioc, http_short.check(local("d", silent.port())));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == salama::errc::timeout);
    }
    SECTION("tcp connects to a listening port, fails on a closed one") {
        auto r = run_op(ioc, tcp.check(local("a", ok.port())));
        REQUIRE(r.has_value());
        CHECK(r->healthy);
        auto s = run_op(ioc, tcp.check(local("d", silent.port())));
        REQUIRE(s.has_value());  // a TCP check only needs the handshake
        CHECK(s->healthy);
        auto c = run_op(ioc, tcp.check(local("c", closed)));
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error() == salama::errc::connection_failed);
    }
    SECTION("a host name is resolved") {
        auto r = run_op(ioc, http.check({"a", "localhost", ok.port()}));
        // localhost may resolve to ::1 first; the probe tries every address.
        REQUIRE(r.has_value());
        CHECK(r->healthy);
    }
}

TEST_CASE("checker: rounds apply rise and fall, count and report transitions") {
    asio::io_context ioc;
    test_server a(ioc, 200);
    test_server b(ioc, 503);
    const closed_port closed_holder(ioc);
    const auto closed = closed_holder.port();

    // No deadline decides an outcome here: every target answers or refuses (the timeout is
    // only a bound), so the counts hold on a loaded machine.
    salama::metrics_registry reg;
    auto sink = std::make_shared<salama::memory_sink>();
    health_checker<http_probe> checker(ioc.get_executor(), http_probe({.timeout = 10s}),
                                       {.thresholds = {.rise = 2, .fall = 3}},
                                       {.registry = &reg, .log = salama::logger(sink), .name = "hc"});
    std::vector<health_change> changes;
    checker.on_change([&](const health_change& c) { changes.push_back(c); });
    REQUIRE(checker.add_target(local("a", a.port())).has_value());
    REQUIRE(checker.add_target(local("b", b.port())).has_value());
    REQUIRE(checker.add_target(local("c", closed)).has_value());

    // Round 1: one success is not enough (rise 2); everything starts unhealthy.
    auto r1 = run_op(ioc, checker.check_once());
    CHECK(r1.probed == 3);
    CHECK(r1.succeeded == 1);
    CHECK(r1.failed == 2);
    CHECK(r1.changes.empty());
    CHECK(checker.status("a").value() == health_status::unhealthy);

    // Round 2: the second success in a row makes "a" healthy.
    auto r2 = run_op(ioc, checker.check_once());
    REQUIRE(r2.changes.size() == 1);
    CHECK(r2.changes[0].node_id == "a");
    CHECK(r2.changes[0].to == health_status::healthy);
    CHECK(checker.status("a").value() == health_status::healthy);
    CHECK(checker.status("b").value() == health_status::unhealthy);
    CHECK(checker.status("c").value() == health_status::unhealthy);
    REQUIRE(changes.size() == 1);

    // "a" starts failing: it takes fall = 3 failures to go unhealthy.
    a.set_status(500);
    for (int i = 0; i < 2; ++i) {
        auto r = run_op(ioc, checker.check_once());
        CHECK(r.changes.empty());
        CHECK(checker.status("a").value() == health_status::healthy);
    }
    auto r5 = run_op(ioc, checker.check_once());
    REQUIRE(r5.changes.size() == 1);
    CHECK(r5.changes[0].node_id == "a");
    CHECK(r5.changes[0].from == health_status::healthy);
    CHECK(r5.changes[0].to == health_status::unhealthy);
    CHECK(r5.changes[0].reason == "status 500 not expected");
    CHECK(changes.size() == 2);

    // "b" recovers: two rounds.
    b.set_status(202);
    CHECK(run_op(ioc, checker.check_once()).changes.empty());
    auto r7 = run_op(ioc, checker.check_once());
    REQUIRE(r7.changes.size() == 1);
    CHECK(r7.changes[0].node_id == "b");

    // What the registry and the log saw.
    const auto text = reg.render();
    CHECK(text.find("salama_health_checks_total{name=\"hc\",node=\"a\"} 7") != std::string::npos);
    CHECK(text.find("salama_health_check_failures_total{name=\"hc\",node=\"c\",reason=\"connection_failed\"} 7") !=
          std::string::npos);
    CHECK(text.find("salama_health_check_failures_total{name=\"hc\",node=\"a\",reason=\"unhealthy\"} 5") !=
          std::string::npos);
    CHECK(text.find("salama_health_transitions_total{name=\"hc\",node=\"a\",to=\"healthy\"} 1") != std::string::npos);
    CHECK(text.find("salama_health_transitions_total{name=\"hc\",node=\"a\",to=\"unhealthy\"} 1") != std::string::npos);
    CHECK(text.find("salama_health_node_healthy{name=\"hc\",node=\"b\"} 1") != std::string::npos);
    CHECK(text.find("salama_health_node_healthy{name=\"hc\",node=\"a\"} 0") != std::string::npos);
    CHECK(text.find("salama_health_check_rounds_total{name=\"hc\"} 7") != std::string::npos);
    CHECK(sink->contains("health hc: node a healthy -> unhealthy (status 500 not expected)"));

    const auto all = checker.targets();
    REQUIRE(all.size() == 3);
    CHECK(all[0].target.id == "a");
    CHECK(all[0].consecutive_failures == 5);  // rounds 3 to 7
    CHECK(all[1].consecutive_successes == 2);
    CHECK(all[2].last_result == "connection failed");
}

TEST_CASE("checker: starting healthy takes fall failures; removed targets are not probed") {
    asio::io_context ioc;
    const closed_port closed_holder(ioc);
    const auto closed = closed_holder.port();
    test_server up(ioc, 200);
    salama::metrics_registry reg;
    health_checker<tcp_probe> checker(ioc.get_executor(), tcp_probe({.timeout = 10s}),
                                      {.thresholds = {.rise = 1, .fall = 2},
                                       .initial = health_status::healthy},
                                      {.registry = &reg, .name = "rm"});
    REQUIRE(checker.add_target(local("gone", closed)).has_value());
    REQUIRE(checker.add_target(local("up", up.port())).has_value());
    CHECK(run_op(ioc, checker.check_once()).changes.empty());
    auto r = run_op(ioc, checker.check_once());
    REQUIRE(r.changes.size() == 1);
    CHECK(r.changes[0].node_id == "gone");
    CHECK(reg.render().find("node=\"gone\"") != std::string::npos);
    REQUIRE(checker.remove_target("gone").has_value());
    // A removed target's series go with it (they grew without bound under churn before).
    CHECK(reg.render().find("node=\"gone\"") == std::string::npos);
    CHECK(reg.render().find("salama_health_checks_total{name=\"rm\",node=\"up\"} 2") != std::string::npos);
    auto r3 = run_op(ioc, checker.check_once());
    CHECK(r3.probed == 1);
    CHECK(r3.succeeded == 1);
    CHECK(reg.render().find("node=\"gone\"") == std::string::npos);
}

namespace {
// A probe that throws on its first call and succeeds afterwards: the loop must survive.
struct flaky_probe {
    std::shared_ptr<int> calls = std::make_shared<int>(0);
    salama::awaitable<salama::result<health>> check(const health_target&) {
        if ((*calls)++ == 0) throw std::runtime_error("probe exploded");
        co_return health{true, {}, "fine"};
    }
};
static_assert(health_probe<flaky_probe>);
}  // namespace

TEST_CASE("checker: a throwing probe counts as a failure; run() stops on cancellation") {
    asio::io_context ioc;
    salama::metrics_registry reg;
    flaky_probe probe;
    auto calls = probe.calls;
    health_checker<flaky_probe> checker(ioc.get_executor(), probe,
                                        {.interval = 1ms, .jitter = 1ms, .thresholds = {.rise = 1}},
                                        {.registry = &reg, .name = "flaky"});
    REQUIRE(checker.add_target(local("x", 1)).has_value());
    auto r1 = run_op(ioc, checker.check_once());
    CHECK(r1.failed == 1);
    CHECK(checker.targets()[0].last_result == "probe exploded");

    // Let run() go until the node is healthy, then cancel it; the loop must end.
    asio::cancellation_signal stop;
    bool finished = false;
    checker.on_change([&](const health_change& c) {
        if (c.to == health_status::healthy) stop.emit(asio::cancellation_type::terminal);
    });
    ioc.restart();
    asio::co_spawn(ioc, checker.run(),
                   asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr) { finished = true; }));
    ioc.run();  // returns once run() has ended: no other work is left
    CHECK(finished);
    CHECK(checker.status("x").value() == health_status::healthy);
    CHECK(*calls == 2);  // the throwing call, then the success that made it healthy
    CHECK(reg.render().find("salama_health_check_failures_total{name=\"flaky\",node=\"x\",reason=\"exception\"} 1") !=
          std::string::npos);
}

TEST_CASE("checker: rounds on a thread pool while targets come and go", "[tsan]") {
    asio::io_context servers;
    test_server up(servers, 200);
    test_server down(servers, 503);
    auto guard = asio::make_work_guard(servers);
    std::thread server_thread([&] { servers.run(); });

    salama::metrics_registry reg;
    asio::thread_pool pool(4);
    health_checker<http_probe> checker(pool.get_executor(), http_probe({.timeout = 2s}),
                                       {.thresholds = {.rise = 1, .fall = 1}}, {.registry = &reg});
    REQUIRE(checker.add_target(local("up", up.port())).has_value());
    REQUIRE(checker.add_target(local("down", down.port())).has_value());
    std::atomic<int> changes{0};
    checker.on_change([&](const health_change&) { changes.fetch_add(1); });

    constexpr int rounds = 20;
    std::size_t probed = 0;
    for (int i = 0; i < rounds; ++i) {
        // Membership changes from this thread while the round runs on the pool.
        auto f = asio::co_spawn(pool, checker.check_once(), asio::use_future);
        const std::string extra = "extra" + std::to_string(i % 3);
        if (i % 2 == 0)
            (void)checker.add_target(local(extra, up.port()));
        else
            (void)checker.remove_target(extra);
        (void)checker.targets();
        probed += f.get().probed;
    }
    pool.join();
    guard.reset();
    servers.stop();
    server_thread.join();

    CHECK(probed >= 2 * rounds);
    CHECK(checker.status("up").value() == health_status::healthy);
    CHECK(checker.status("down").value() == health_status::unhealthy);
    CHECK(changes.load() >= 1);
}

namespace {
// A probe that waits on a timer the test controls: it never answers on its own.
struct hanging_probe {
    std::shared_ptr<asio::steady_timer> timer;
    std::shared_ptr<bool> started = std::make_shared<bool>(false);
    std::shared_ptr<bool> done = std::make_shared<bool>(false);
    std::shared_ptr<bool> aborted = std::make_shared<bool>(false);
    salama::awaitable<salama::result<health>> check(const health_target&) {
        *started = true;
        auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        *aborted = ec == asio::error::operation_aborted;
        *done = true;
        co_return health{true, {}, "late"};
    }
};
}  // namespace

TEST_CASE("checker: cancelling run() ends it while a probe is still in flight") {
    asio::io_context ioc;
    salama::metrics_registry reg;
    // The 10 s expiry only bounds the test if cancellation were broken.
    auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::seconds(10));
    hanging_probe probe{timer};
    auto started = probe.started;
    auto done = probe.done;
    health_checker<hanging_probe> checker(ioc.get_executor(), probe, {}, {.registry = &reg, .name = "hang"});
    REQUIRE(checker.add_target(local("slow", 1)).has_value());

    asio::cancellation_signal stop;
    bool finished = false;
    asio::co_spawn(ioc, checker.run(),
                   asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr) { finished = true; }));
    while (!*started) ioc.run_one();
    stop.emit(asio::cancellation_type::terminal);
    while (!finished) ioc.run_one();
    ioc.run();  // drains: the probe in flight was cancelled with the round
    CHECK(*done);
    CHECK(*probe.aborted);  // ended by our cancellation, not by its 10 s timer
    CHECK(checker.targets()[0].last_result.empty());  // the abandoned round applied nothing
    // Stopping is not a failed round: nothing counted or logged as an error.
    CHECK(reg.counter("salama_health_check_errors_total", "", {"name"}).with({"hang"}).value() == 0);
}

namespace {
// Answers at once with the health it is told; counts its calls.
struct scripted_probe {
    std::shared_ptr<std::atomic<bool>> healthy = std::make_shared<std::atomic<bool>>(true);
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    salama::awaitable<salama::result<health>> check(const health_target&) {
        calls->fetch_add(1);
        co_return health{healthy->load(), {}, healthy->load() ? "ok" : "down"};
    }
};
static_assert(health_probe<scripted_probe>);
}  // namespace

TEST_CASE("checker: two checkers on one registry keep separate series") {
    // Before the instance label, both wrote salama_health_checks_total{node="n"}: one series
    // counting both checkers' rounds.
    asio::io_context ioc;
    salama::metrics_registry reg;
    scripted_probe up, down;
    down.healthy->store(false);
    health_checker<scripted_probe> a(ioc.get_executor(), up, {}, {.registry = &reg, .name = "east"});
    health_checker<scripted_probe> b(ioc.get_executor(), down, {}, {.registry = &reg, .name = "west"});
    REQUIRE(a.add_target(local("n", 1)).has_value());
    REQUIRE(b.add_target(local("n", 1)).has_value());
    (void)run_op(ioc, a.check_once());
    (void)run_op(ioc, a.check_once());
    (void)run_op(ioc, b.check_once());
    const auto text = reg.render();
    CHECK(text.find("salama_health_checks_total{name=\"east\",node=\"n\"} 2") != std::string::npos);
    CHECK(text.find("salama_health_checks_total{name=\"west\",node=\"n\"} 1") != std::string::npos);
    CHECK(text.find("salama_health_check_failures_total{name=\"west\",node=\"n\",reason=\"unhealthy\"} 1") !=
          std::string::npos);
    CHECK(text.find("salama_health_check_failures_total{name=\"east\"") == std::string::npos);
    // Removing the node from one checker leaves the other's series.
    REQUIRE(b.remove_target("n").has_value());
    const auto after = reg.render();
    CHECK(after.find("name=\"west\",node=\"n\"") == std::string::npos);
    CHECK(after.find("salama_health_checks_total{name=\"east\",node=\"n\"} 2") != std::string::npos);
}

TEST_CASE("checker: destroyed while its loop runs and right after stop()") {
    // Under AddressSanitizer a round or a loop frame that kept the destroyed checker (the old
    // coroutine member functions held `this`) is a heap-use-after-free here.
    asio::io_context ioc;
    salama::metrics_registry reg;
    scripted_probe probe;
    const int variant = GENERATE(0, 1, 2);
    auto c = std::make_unique<health_checker<scripted_probe>>(ioc.get_executor(), probe,
                                                              health_check_options{.interval = 1h},
                                                              salama::telemetry{.registry = &reg, .name = "d"});
    REQUIRE(c->add_target(local("n", 1)).has_value());
    int changes = 0;
    c->on_change([&](const health_change&) { ++changes; });
    REQUIRE(c->start());
    if (variant >= 1) ioc.poll();  // the first round ran; the loop waits an hour
    if (variant == 2) c->stop();
    c.reset();
    ioc.run();  // the loop ends at its next resumption
    // A loop that outlived its checker would run a second round.
    CHECK(probe.calls->load() == (variant >= 1 ? 1 : 0));
    CHECK(changes == 0);  // rise is 2: one round cannot make the node healthy
}

TEST_CASE("checker: stop() and destruction from another thread on a two-thread io_context", "[tsan]") {
    asio::io_context ioc(2);
    salama::metrics_registry reg;
    scripted_probe probe;
    auto work = asio::make_work_guard(ioc);
    std::thread t1([&] { ioc.run(); });
    std::thread t2([&] { ioc.run(); });
    std::atomic<int> late_changes{0};
    for (int round = 0; round < 20; ++round) {
        auto c = std::make_unique<health_checker<scripted_probe>>(
            ioc.get_executor(), probe, health_check_options{.interval = std::chrono::microseconds(50)},
            salama::telemetry{.registry = &reg, .name = "mt"});
        for (int i = 0; i < 4; ++i) REQUIRE(c->add_target(local("n" + std::to_string(i), 1)).has_value());
        auto gone = std::make_shared<std::atomic<bool>>(false);
        c->on_change([gone, &late_changes](const health_change&) {
            if (gone->load()) late_changes.fetch_add(1);
        });
        const int before = probe.calls->load();
        REQUIRE(c->start());
        while (probe.calls->load() < before + 8) std::this_thread::yield();
        probe.healthy->store(round % 2 == 0);
        if (round % 2 == 0) c->stop();
        c.reset();  // from this thread, while a round may run on another
        gone->store(true);
    }
    work.reset();
    t1.join();
    t2.join();
    // A change handler that started after the destructor returned (the destructor must wait
    // for one in progress and call none after) is counted here.
    CHECK(late_changes.load() == 0);
}

namespace {
// Yields a few times before answering, so that probes overlap; records the most at once.
struct overlapping_probe {
    std::shared_ptr<int> running = std::make_shared<int>(0);
    std::shared_ptr<int> most = std::make_shared<int>(0);
    std::shared_ptr<int> calls = std::make_shared<int>(0);
    salama::awaitable<salama::result<health>> check(const health_target&) {
        ++*calls;
        *most = std::max(*most, ++*running);
        auto ex = co_await asio::this_coro::executor;
        for (int i = 0; i < 3; ++i) co_await asio::post(ex, asio::use_awaitable);
        --*running;
        co_return health{true, {}, "ok"};
    }
};
static_assert(health_probe<overlapping_probe>);
}  // namespace

TEST_CASE("checker: at most max_in_flight probes run at once; every target is still probed") {
    asio::io_context ioc;
    overlapping_probe probe;
    auto most = probe.most;
    auto calls = probe.calls;
    health_check_options opts;
    opts.max_in_flight = 3;
    health_checker<overlapping_probe> checker(ioc.get_executor(), probe, opts);
    for (int i = 0; i < 20; ++i) REQUIRE(checker.add_target(local("n" + std::to_string(i), 1)).has_value());
    auto r = run_op(ioc, checker.check_once());
    CHECK(r.probed == 20);
    CHECK(r.succeeded == 20);
    CHECK(*calls == 20);
    CHECK(*most == 3);  // overlapping up to the bound, never past it (all 20 at once before)
}

TEST_CASE("checker: the round's deadline cancels the probes running and skips those waiting") {
    asio::io_context ioc;
    salama::metrics_registry reg;
    // The 10 s expiry only bounds the test if the round's deadline were broken.
    auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::seconds(10));
    hanging_probe probe{timer};
    health_check_options opts;
    opts.max_in_flight = 1;
    opts.round_deadline = 1ms;
    health_checker<hanging_probe> checker(ioc.get_executor(), probe, opts, {.registry = &reg, .name = "rd"});
    REQUIRE(checker.add_target(local("a", 1)).has_value());
    REQUIRE(checker.add_target(local("b", 1)).has_value());
    auto r = run_op(ioc, checker.check_once());
    CHECK(r.probed == 2);
    CHECK(r.failed == 2);
    ioc.restart();
    ioc.run();  // drains: a's probe ends once its cancellation reaches it
    CHECK(*probe.done);
    CHECK(*probe.aborted);  // a's probe was cancelled, not ended by its 10 s timer
    const auto t = checker.targets();
    REQUIRE(t.size() == 2);
    CHECK(t[0].last_result.find("passed while probing") != std::string::npos);
    CHECK(t[1].last_result.find("passed before the probe started") != std::string::npos);
    CHECK(reg.render().find("salama_health_check_failures_total{name=\"rd\",node=\"b\",reason=\"timeout\"} 1") !=
          std::string::npos);
}

TEST_CASE("checker: the bounds on probes in flight and on a round are validated") {
    auto field_of = [](health_check_options o) {
        try {
            o.validate();
        } catch (const salama::config_error& e) {
            return e.field();
        }
        return std::string();
    };
    health_check_options o;
    o.max_in_flight = 0;
    CHECK(field_of(o) == "health_check_options.max_in_flight");
    o = {};
    o.max_in_flight = 100000;
    CHECK(field_of(o) == "health_check_options.max_in_flight");
    o = {};
    o.round_deadline = {};
    CHECK(field_of(o) == "health_check_options.round_deadline");
    o = {};
    o.interval = salama::duration::max();
    CHECK(field_of(o) == "health_check_options.interval");
    CHECK(field_of({}).empty());
}

TEST_CASE("http probe: the response check reads the status, and refuses malformed, huge or cut headers") {
    http_probe_options o;
    o.header_limit = 256;
    auto ok = check_response("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n", o);
    REQUIRE(ok.has_value());
    CHECK(ok->healthy);
    CHECK(ok->detail == "status 204");
    auto down = check_response("HTTP/1.0 503 Service Unavailable\r\n\r\nbody is never read", o);
    REQUIRE(down.has_value());
    CHECK_FALSE(down->healthy);
    CHECK(down->detail == "status 503 not expected");
    auto garbage = check_response("SSH-2.0-OpenSSH_9.2\r\n\r\n", o);
    REQUIRE_FALSE(garbage.has_value());
    CHECK(garbage.error() == salama::errc::protocol_error);
    const std::string huge = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(1000, 'a') + "\r\n\r\n";
    auto big = check_response(huge, o);
    REQUIRE_FALSE(big.has_value());  // over the header limit, whatever the status
    CHECK(big.error() == salama::errc::protocol_error);
    auto cut = check_response("HTTP/1.1 200 OK\r\nContent-Le", o);
    REQUIRE_FALSE(cut.has_value());
    CHECK(cut.error().message() == "incomplete response header");
}

namespace {
// Answers 200 and keeps the request line and the Host header it received.
struct recording_server {
    explicit recording_server(asio::io_context& ioc)
        : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(ioc, serve(), asio::detached);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
    std::shared_ptr<std::vector<std::string>> hosts = std::make_shared<std::vector<std::string>>();

private:
    asio::awaitable<void> serve() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            boost::beast::flat_buffer buf;
            http::request<http::string_body> req;
            auto [rec, n] = co_await http::async_read(sock, buf, req, asio::as_tuple(asio::use_awaitable));
            if (rec) continue;
            lines->push_back(fmt::format("{} {} HTTP/{}.{}", std::string(req.method_string()),
                                         std::string(req.target()), req.version() / 10, req.version() % 10));
            hosts->push_back(std::string(req[http::field::host]));
            http::response<http::string_body> res{http::status::ok, 11};
            res.prepare_payload();
            co_await http::async_write(sock, res, asio::as_tuple(asio::use_awaitable));
        }
    }
    tcp::acceptor acceptor_;
};
}  // namespace

TEST_CASE("http probe: the request line and the Host header") {
    asio::io_context ioc;
    recording_server srv(ioc);
    http_probe plain({.path = "/healthz?deep=1", .timeout = 10s});
    auto r = run_op(ioc, plain.check(local("a", srv.port())));
    REQUIRE(r.has_value());
    CHECK(r->healthy);
    http_probe named({.path = "/", .host_header = "api.internal", .timeout = 10s});
    REQUIRE(run_op(ioc, named.check(local("a", srv.port()))).has_value());
    REQUIRE(srv.lines->size() == 2);
    CHECK((*srv.lines)[0] == "GET /healthz?deep=1 HTTP/1.1");
    CHECK((*srv.hosts)[0] == fmt::format("127.0.0.1:{}", srv.port()));
    CHECK((*srv.lines)[1] == "GET / HTTP/1.1");
    CHECK((*srv.hosts)[1] == "api.internal");
}
