// Core value types: errors, validation, clocks, samples, snapshots, secrets, logging.
#include "catch.hpp"

#include <salama/salama.hpp>

#include <cmath>
#include <limits>

using namespace salama;
using namespace std::chrono_literals;

TEST_CASE("errc values are error_codes of the salama category", "[core][error]") {
    error_code ec = errc::no_healthy_nodes;
    CHECK(ec.category().name() == std::string("salama"));
    CHECK(ec.message() == "no healthy nodes");
    CHECK(ec == errc::no_healthy_nodes);
    CHECK(ec != errc::empty_pool);
    CHECK_FALSE(error_code(errc::ok).failed());

    result<int> r = make_error_code(errc::timeout);
    REQUIRE(r.has_error());
    CHECK(r.error() == errc::timeout);
    CHECK_THROWS_AS(r.value(), boost::system::system_error);

    // Every enumerator has its own message.
    for (int i = 1; i <= static_cast<int>(errc::unavailable); ++i)
        CHECK(make_error_code(static_cast<errc>(i)).message() != "unknown salama error");
}

TEST_CASE("validator names the first failing field", "[core][validation]") {
    SECTION("all good") {
        validator v{"opts"};
        v.positive("period", 1).non_negative("cooldown", 0).finite("threshold", -3)
            .in_range("ratio", 0.5, 0, 1).non_empty("name", "x");
        CHECK(v.ok());
        CHECK_NOTHROW(v.throw_if_failed());
    }
    SECTION("NaN threshold") {
        validator v{"scaling_rule"};
        v.finite("threshold", std::nan("")).positive("scale_size", 0);
        REQUIRE_FALSE(v.ok());
        CHECK(v.error()->field == "scaling_rule.threshold");
        CHECK(v.error()->message() == "invalid scaling_rule.threshold: must be finite, got nan");
        try {
            v.throw_if_failed();
            FAIL("expected config_error");
        } catch (const config_error& e) {
            CHECK(e.field() == "scaling_rule.threshold");
            CHECK(std::string(e.what()).find("finite") != std::string::npos);
        }
    }
    SECTION("negative, zero, out of range, empty") {
        CHECK(validator{}.non_negative("cooldown", -1).error()->reason ==
              "must be non-negative, got -1");
        CHECK(validator{}.positive("size", 0).error()->field == "size");
        CHECK_FALSE(validator{}.positive("size", std::numeric_limits<double>::infinity()).ok());
        CHECK(validator{}.in_range("p", 2, 0, 1).error()->reason == "must be within [0, 1], got 2");
        CHECK(validator{}.non_empty("pattern", "").error()->reason == "must not be empty");
    }
}

TEST_CASE("manual clock moves only when told", "[core][clock]") {
    manual_clock c;
    const auto t0 = c.now();
    CHECK(c.now() == t0);
    c.advance(15s);
    CHECK(c.now() - t0 == 15s);
    c.advance(-5s);  // ignored: time never goes back
    CHECK(c.now() - t0 == 15s);
    c.set(t0);  // ignored for the same reason
    CHECK(c.now() - t0 == 15s);
    c.set(t0 + 1min);
    CHECK(c.now() - t0 == 1min);
    CHECK(to_seconds(seconds_to_duration(1.5)) == Approx(1.5));

    steady_clock s;
    const auto a = s.now();
    CHECK(s.now() >= a);
}

TEST_CASE("label_set keeps names unique and sorted", "[core][metric]") {
    label_set l{{"node", "b"}, {"member", "a"}, {"node", "c"}};
    CHECK(l.size() == 2);
    CHECK(l.get("node") == std::optional<std::string_view>("c"));
    CHECK_FALSE(l.get("resource"));
    CHECK(l.begin()->first == "member");
    CHECK(l.contains(label_set{{"member", "a"}}));
    CHECK_FALSE(l.contains(label_set{{"member", "x"}}));
    CHECK(l.contains(label_set{}));
    CHECK_FALSE(l.first_invalid_name());
    label_set bad{{"ok", "1"}, {"1bad", "2"}};
    CHECK(bad.first_invalid_name() == std::optional<std::string_view>("1bad"));
}

TEST_CASE("snapshot accepts good samples and rejects bad ones with a reason", "[core][metric]") {
    manual_clock clk;
    snapshot s(clk.now());
    REQUIRE(s.add("cpu_utilization", 0.75, {{"member", "pod-1"}, {"resource", "cpu"}}, "ratio"));
    REQUIRE(s.add("cpu_utilization", 0.25, {{"member", "pod-2"}, {"resource", "cpu"}}, "ratio"));
    REQUIRE(s.add("queue_depth", 12));

    SECTION("lookups") {
        CHECK(s.size() == 3);
        const auto* p2 = s.find("cpu_utilization", {{"member", "pod-2"}});
        REQUIRE(p2);
        CHECK(p2->value == 0.25);
        CHECK(p2->unit == "ratio");
        CHECK(p2->timestamp == clk.now());
        CHECK_FALSE(s.find("cpu_utilization", {{"member", "pod-9"}}));
        double sum = 0;
        s.for_each("cpu_utilization", {{"resource", "cpu"}}, [&](const metric_sample& x) { sum += x.value; });
        CHECK(sum == Approx(1.0));
    }
    SECTION("NaN and infinity are refused") {
        auto r = s.add("gpu_memory_used", std::nan(""));
        REQUIRE(r.has_error());
        CHECK(r.error() == errc::invalid_metric);
        CHECK(r.error().message() == "invalid metric_sample(gpu_memory_used).value: must be finite, got nan");
        CHECK(s.add("gpu_memory_used", std::numeric_limits<double>::infinity()).has_error());
        CHECK(s.add("gpu_memory_used", -std::numeric_limits<double>::infinity()).has_error());
        REQUIRE(s.rejected().size() == 3);
        CHECK(s.rejected()[0].message() ==
              "invalid metric_sample(gpu_memory_used).value: must be finite, got nan");
        CHECK(s.size() == 3);  // nothing bad got in
    }
    SECTION("empty and malformed names") {
        CHECK(s.add("", 1).has_error());
        CHECK(s.rejected().back().field == "metric_sample().name");
        CHECK(s.rejected().back().reason == "must not be empty");
        CHECK(s.add("9lives", 1).has_error());
        CHECK(s.add("has space", 1).has_error());
        CHECK(s.add("ok:name_1", 1));
    }
    SECTION("invalid label names") {
        CHECK(s.add("x", 1, {{"bad-label", "v"}}).has_error());
        CHECK(s.rejected().back().field == "metric_sample(x).labels");
        CHECK(s.rejected().back().reason.find("bad-label") != std::string::npos);
        CHECK(s.add("x", 1, {{"__reserved", "v"}}).has_error());
        CHECK(s.add("x", 1, {{"good_label", "any \"value\"\n"}}));
    }
}

TEST_CASE("secrets never print themselves", "[core][secret]") {
    secret pw("hunter2");
    CHECK(fmt::format("password={}", pw) == "password=<redacted>");
    CHECK(fmt::format("{}", secret{}) == "<none>");
    CHECK(pw.reveal() == "hunter2");
    CHECK_FALSE(pw.empty());
}

TEST_CASE("logger forwards to its sink only when enabled", "[core][log]") {
    auto sink = std::make_shared<memory_sink>();
    logger log(sink);
    log.info("scaled {} from {} to {}", "web", 2, 4);
    log.error("source failed: {}", make_error_code(errc::source_failed).message());
    REQUIRE(sink->lines().size() == 2);
    CHECK(sink->lines()[0].first == log_level::info);
    CHECK(sink->lines()[0].second == "scaled web from 2 to 4");
    CHECK(sink->contains("metric source failed"));

    logger silent;  // default: discards
    CHECK_FALSE(silent.enabled(log_level::error));
    silent.error("dropped {}", 1);

    auto file = std::tmpfile();
    REQUIRE(file);
    logger to_file(std::make_shared<fmt_sink>(log_level::warn, file));
    CHECK_FALSE(to_file.enabled(log_level::info));
    to_file.info("not written");
    to_file.warn("written {}", secret("tok"));
    std::rewind(file);
    char buf[256] = {};
    const auto n = std::fread(buf, 1, sizeof buf - 1, file);
    std::fclose(file);
    CHECK(std::string(buf, n) == "[salama] warn  written <redacted>\n");
    CHECK(to_string(log_level::debug) == "debug");
    STATIC_REQUIRE(log_sink<null_sink>);
    STATIC_REQUIRE(log_sink<fmt_sink>);
}

TEST_CASE("seconds_to_duration saturates instead of overflowing", "[core][clock][bad_input]") {
    // Without the saturation these casts are undefined (x86 gives the most negative count).
    CHECK(salama::seconds_to_duration(1e300) == salama::duration::max());
    CHECK(salama::seconds_to_duration(std::numeric_limits<double>::infinity()) == salama::duration::max());
    CHECK(salama::seconds_to_duration(-1e300) == salama::duration::min());
    CHECK(salama::seconds_to_duration(std::numeric_limits<double>::quiet_NaN()) == salama::duration::zero());
    CHECK(salama::seconds_to_duration(9.3e9) == salama::duration::max());
    CHECK(salama::seconds_to_duration(9.2e9) == std::chrono::seconds(9'200'000'000));
    CHECK(salama::seconds_to_duration(1.5) == 1500ms);
    CHECK(salama::seconds_to_duration(-0.25) == -250ms);
}

TEST_CASE("seconds and whole numbers are range-checked before their conversion", "[core][validation][bad_input]") {
    // 1e10 s does not fit int64 nanoseconds; 1e400 parses as infinity.
    CHECK_FALSE(checked_seconds_to_duration(1e10));
    CHECK_FALSE(checked_seconds_to_duration(std::numeric_limits<double>::infinity()));
    CHECK_FALSE(checked_seconds_to_duration(std::numeric_limits<double>::quiet_NaN()));
    REQUIRE(checked_seconds_to_duration(1.5));
    CHECK(*checked_seconds_to_duration(1.5) == 1500ms);
    REQUIRE(checked_seconds_to_duration(max_duration_seconds));
    CHECK(*checked_seconds_to_duration(-2) == -2s);

    validator v{"opts"};
    v.duration_seconds("period", 1e10);
    REQUIRE(v.error());
    CHECK(v.error()->message() == "invalid opts.period: must be within [0, 1e+09] seconds, got 10000000000");
    validator inf{"opts"};
    inf.duration_range("period", duration::max());
    REQUIRE(inf.error());
    CHECK(inf.error()->field == "opts.period");

    CHECK_FALSE(checked_whole(1e19, 0, max_members));
    CHECK_FALSE(checked_whole(4294967396.0, 0, max_members));
    CHECK_FALSE(checked_whole(1.5, 0, 10));
    CHECK_FALSE(checked_whole(9.2233720368547758e18, 0, std::numeric_limits<std::int64_t>::max()));
    REQUIRE(checked_whole(-3, -5, 5));
    CHECK(*checked_whole(-3, -5, 5) == -3);
    validator w{"opts"};
    w.whole_in_range("size", 4294967396.0, 1, max_members);
    REQUIRE(w.error());
    CHECK(w.error()->message() == "invalid opts.size: must be a whole number within [1, 2147483647], got 4294967396");
}
