// The metrics registry (Prometheus text format) and the windowed statistics.
#include "catch.hpp"
#include "test_env.hpp"

#include <salama/salama.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>

using namespace salama;
using namespace std::chrono_literals;

namespace {
bool has_line(const std::string& text, std::string_view line) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        if (std::string_view(text).substr(pos, end - pos) == line) return true;
        pos = end + 1;
    }
    return false;
}

std::string sample_exposition() {
    metrics_registry r;
    auto& c = r.counter("salama_decisions_total", "Decisions made, by outcome.", {"outcome"});
    (void)c.with({"scale_up"}).inc();
    (void)c.with({"scale_up"}).inc(2);
    (void)c.with({"hold"}).inc();
    (void)r.gauge("salama_replicas", "Current replicas.").with({}).set(4);
    auto& h = r.histogram("salama_step_duration_seconds", "Step time.", {0.1, 0.5, 1}, {"loop"});
    (void)h.with({"autoscaler"}).observe(0.05);
    (void)h.with({"autoscaler"}).observe(0.3);
    (void)h.with({"autoscaler"}).observe(7);
    (void)r.gauge("salama_info", "Build information.", {"path"}).with({"C:\\dir \"q\"\nx"}).set(1);
    return r.render();
}
}  // namespace

TEST_CASE("registry renders the Prometheus text format", "[core][registry]") {
    const std::string text = sample_exposition();
    CHECK(has_line(text, "# HELP salama_decisions_total Decisions made, by outcome."));
    CHECK(has_line(text, "# TYPE salama_decisions_total counter"));
    CHECK(has_line(text, "salama_decisions_total{outcome=\"scale_up\"} 3"));
    CHECK(has_line(text, "salama_decisions_total{outcome=\"hold\"} 1"));
    CHECK(has_line(text, "# TYPE salama_replicas gauge"));
    CHECK(has_line(text, "salama_replicas 4"));
    CHECK(has_line(text, "# TYPE salama_step_duration_seconds histogram"));
    CHECK(has_line(text, "salama_step_duration_seconds_bucket{loop=\"autoscaler\",le=\"0.1\"} 1"));
    CHECK(has_line(text, "salama_step_duration_seconds_bucket{loop=\"autoscaler\",le=\"0.5\"} 2"));
    CHECK(has_line(text, "salama_step_duration_seconds_bucket{loop=\"autoscaler\",le=\"1\"} 2"));
    CHECK(has_line(text, "salama_step_duration_seconds_bucket{loop=\"autoscaler\",le=\"+Inf\"} 3"));
    CHECK(has_line(text, "salama_step_duration_seconds_sum{loop=\"autoscaler\"} 7.35"));
    CHECK(has_line(text, "salama_step_duration_seconds_count{loop=\"autoscaler\"} 3"));
    // Backslash, quote and newline in a label value are escaped.
    CHECK(has_line(text, "salama_info{path=\"C:\\\\dir \\\"q\\\"\\nx\"} 1"));
    // Families are rendered in name order; HELP precedes TYPE precedes samples.
    CHECK(text.find("salama_decisions_total") < text.find("salama_info"));
    CHECK(text.find("# HELP salama_replicas") < text.find("# TYPE salama_replicas"));
}

TEST_CASE("registry rejects bad names, labels, values and conflicting kinds", "[core][registry]") {
    metrics_registry r;
    CHECK_THROWS_AS(r.counter("", "x"), config_error);
    try {
        r.counter("bad name", "x");
        FAIL("expected config_error");
    } catch (const config_error& e) {
        CHECK(e.field() == "metric(bad name).name");
    }
    CHECK_THROWS_AS(r.gauge("ok", "x", {"bad-label"}), config_error);
    CHECK_THROWS_AS(r.gauge("ok2", "x", {"__name"}), config_error);
    CHECK_THROWS_AS(r.gauge("ok3", "x", {"a", "a"}), config_error);
    CHECK_THROWS_AS(r.histogram("h", "x", {1, 1}), config_error);
    CHECK_THROWS_AS(r.histogram("h", "x", {}), config_error);
    CHECK_THROWS_AS(r.histogram("h", "x", {1, std::nan("")}), config_error);
    CHECK_THROWS_AS(r.histogram("h", "x", {1}, {"le"}), config_error);

    auto& c = r.counter("things_total", "x", {"k"});
    CHECK(&r.counter("things_total", "x", {"k"}) == &c);  // idempotent
    CHECK_THROWS_AS(r.gauge("things_total", "x", {"k"}), config_error);
    CHECK_THROWS_AS(r.counter("things_total", "x", {"other"}), config_error);
    CHECK_THROWS_AS(c.with({"a", "b"}), config_error);

    auto& child = c.with({"a"});
    CHECK(child.inc(-1).error() == errc::invalid_argument);
    CHECK(child.inc(std::nan("")).has_error());
    CHECK(child.inc(std::numeric_limits<double>::infinity()).has_error());
    CHECK(child.value() == 0);
    auto& g = r.gauge("level", "x").with({});
    CHECK(g.set(std::nan("")).has_error());
    CHECK(g.add(std::numeric_limits<double>::infinity()).has_error());
    CHECK(g.set(-2.5));
    CHECK(g.value() == -2.5);
    auto& h = r.histogram("lat_seconds", "x").with({});
    CHECK(h.observe(std::nan("")).has_error());
    CHECK(h.count() == 0);
}

TEST_CASE("registry counts correctly from several threads", "[core][tsan]") {
    metrics_registry r;
    auto& fam = r.counter("hits_total", "x", {"shard"});
    auto& h = r.histogram("obs", "x", {1, 2});
    auto work = [&](int id) {
        for (int i = 0; i < 5000; ++i) {
            (void)fam.with({std::to_string(i % 4)}).inc();
            (void)h.with({}).observe(id);
        }
        (void)r.render();
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    double total = 0;
    fam.visit([&](const auto&, const counter& c) { total += c.value(); });
    CHECK(total == 10000);
    CHECK(h.with({}).count() == 10000);
    CHECK(h.with({}).cumulative(0) == 10000);
}

TEST_CASE("promtool accepts the exposition", "[promtool]") {
    const auto promtool = test::find_program("promtool");
    if (!promtool) {
        test::report_skip("promtool not installed (apt-get install prometheus)");
        SUCCEED("skipped: no promtool");  // ctest reports the entry as skipped
        return;
    }
    const std::string path = "salama_promtool_check.prom";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    const auto text = sample_exposition();
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    const auto [status, out] = test::run_command(fmt::format("{} check metrics < {}", *promtool, path));
    INFO(out);
    CHECK(status == 0);

    // promtool does catch a malformed exposition, so the check above means something.
    std::FILE* g = std::fopen(path.c_str(), "wb");
    REQUIRE(g);
    std::fputs("# TYPE x counter\nx{a=\"unterminated} 1\n", g);
    std::fclose(g);
    CHECK(test::run_command(fmt::format("{} check metrics < {}", *promtool, path)).first != 0);
    std::remove(path.c_str());
}

TEST_CASE("ewma decays with elapsed time", "[core][stats]") {
    manual_clock clk;
    ewma e(10s);
    CHECK_FALSE(e.has_value());
    CHECK(e.value_or(30) == 30);
    REQUIRE(e.update(100, clk.now()));
    CHECK(*e.value() == 100);
    clk.advance(10s);
    e.update(0, clk.now());
    CHECK(*e.value() == Approx(100 * std::exp(-1.0)));
    // No time elapsed: the new sample gets no weight.
    const double before = *e.value();
    e.update(1000, clk.now());
    CHECK(*e.value() == Approx(before));
    // A long gap forgets the past.
    clk.advance(1000s);
    e.update(5, clk.now());
    CHECK(*e.value() == Approx(5).margin(1e-9));
    CHECK_FALSE(e.update(std::nan(""), clk.now()));
    CHECK_FALSE(e.update(std::numeric_limits<double>::infinity(), clk.now()));
    CHECK(*e.value() == Approx(5).margin(1e-9));
    CHECK_THROWS_AS(ewma(0s), config_error);
    CHECK_THROWS_AS(ewma(-1s), config_error);
}

TEST_CASE("sliding window keeps samples of age < W", "[core][stats]") {
    manual_clock clk;
    sliding_window w(60s);
    const auto t0 = clk.now();
    w.add(10, t0);
    w.add(30, t0 + 20s);
    w.add(20, t0 + 40s);
    CHECK(w.count(t0 + 40s) == 3);
    CHECK(*w.mean(t0 + 40s) == Approx(20));
    CHECK(*w.max(t0 + 40s) == 30);
    CHECK(*w.percentile(50, t0 + 40s) == 20);
    CHECK(*w.percentile(100, t0 + 40s) == 30);
    CHECK(*w.percentile(0, t0 + 40s) == 10);
    CHECK_FALSE(w.percentile(101, t0 + 40s));
    // At exactly t0 + 60 s the first sample has age 60 = W: outside.
    CHECK(w.count(t0 + 60s) == 2);
    CHECK(*w.mean(t0 + 60s) == Approx(25));
    // At t0 + 80 s the max (30, added at t0+20 s) leaves too.
    CHECK(*w.max(t0 + 80s) == 20);
    CHECK(w.count(t0 + 200s) == 0);
    CHECK_FALSE(w.mean(t0 + 200s));
    CHECK_FALSE(w.max(t0 + 200s));
    CHECK_FALSE(w.add(std::nan(""), t0 + 200s));
    CHECK_THROWS_AS(sliding_window(0s), config_error);

    SECTION("percentile over many samples") {
        sliding_window big(1000s);
        for (int i = 1; i <= 100; ++i) big.add(i, t0 + std::chrono::seconds(i));
        CHECK(*big.percentile(95, t0 + 100s) == 95);
        CHECK(*big.percentile(99, t0 + 100s) == 99);
    }
}
