// Reading key-access traces (tool code beside trace_replay): each format, and malformed
// input named clearly; the trap workloads' determinism.
#include "catch.hpp"

#include "../../benchmarks/replay.hpp"
#include "../../benchmarks/trace_reader.hpp"
#include "../../benchmarks/trace_traps.hpp"

#include <cstdio>
#include <fstream>

#include <string>
#include <string_view>

using namespace salama::caching;

TEST_CASE("parse_trace reads every format", "[caching][trace]") {
    std::string why;
    SECTION("lirs: integers, '*' markers and blank lines skipped") {
        auto k = parse_trace("1\n*\n 22 \r\n\n-3\n", trace_format::lirs, why);
        REQUIRE(k.has_value());
        CHECK(*k == std::vector<std::uint64_t>{1, 22, static_cast<std::uint64_t>(-3)});
    }
    SECTION("i32be: signed big-endian 32-bit keys") {
        const std::string bytes("\x00\x00\x01\x02\xff\xff\xff\xff", 8);
        auto k = parse_trace(bytes, trace_format::i32be, why);
        REQUIRE(k.has_value());
        CHECK(*k == std::vector<std::uint64_t>{0x102, static_cast<std::uint64_t>(-1)});
    }
    SECTION("i64be: big-endian 64-bit keys") {
        const std::string bytes("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
        auto k = parse_trace(bytes, trace_format::i64be, why);
        REQUIRE(k.has_value());
        CHECK(*k == std::vector<std::uint64_t>{0x0102030405060708ULL});
    }
    SECTION("address: Caffeine's 'OP 0xHEX SIZE' lines, the key is the address") {
        auto k = parse_trace("s 0x1fffff78 1\nl 0x1fffff80 6\n\tl   0X1fffff78\t2\n", trace_format::address, why);
        REQUIRE(k.has_value());
        CHECK(*k == std::vector<std::uint64_t>{0x1fffff78, 0x1fffff80, 0x1fffff78});
    }
    SECTION("address: hexadecimal, optional 0x, '#' comments") {
        auto k = parse_trace("# header\n0x7fff0010\nDEADBEEF\n\n0Xa\n", trace_format::address, why);
        REQUIRE(k.has_value());
        CHECK(*k == std::vector<std::uint64_t>{0x7fff0010, 0xdeadbeef, 0xa});
    }
    CHECK(parse_trace_format("lirs") == trace_format::lirs);
    CHECK(parse_trace_format("address") == trace_format::address);
    CHECK(!parse_trace_format("LIRS"));
}

TEST_CASE("parse_trace names what is wrong", "[caching][trace][validation]") {
    std::string why;
    auto bad = [&](std::string_view bytes, trace_format f) {
        auto r = parse_trace(bytes, f, why);
        CHECK(!r.has_value());
        if (!r) CHECK(r.error() == salama::errc::parse_error);
        return why;
    };
    CHECK(bad("1\n2\nx3\n", trace_format::lirs) == "line 3: not an integer key: 'x3'");
    CHECK(bad("1 2\n", trace_format::lirs) == "line 1: not an integer key: '1 2'");
    CHECK(bad("99999999999999999999\n", trace_format::lirs).starts_with("line 1:"));
    CHECK(bad("0x\n", trace_format::address) == "line 1: not a hexadecimal address: '0x'");
    CHECK(bad("12345678901234567\n", trace_format::address).starts_with("line 1:"));
    CHECK(bad("l 0x10 1\nl 0x20\n", trace_format::address) ==
          "line 2: expected 'OP ADDRESS SIZE' or one address, got 'l 0x20'");
    CHECK(bad("l 0xzz 1\n", trace_format::address) == "line 1: not a hexadecimal address: 'l 0xzz 1'");
    CHECK(bad("l 0x10 big\n", trace_format::address) == "line 1: the size is not an integer: 'l 0x10 big'");
    CHECK(bad("l 0x10 1 extra\n", trace_format::address).starts_with("line 1: expected"));
    CHECK(bad(std::string_view("\x00\x01\x02", 3), trace_format::i32be) ==
          "3 bytes is not a whole number of 4-byte keys (truncated file?)");
    CHECK(bad(std::string_view("\x00\x01\x02\x03", 4), trace_format::i64be).starts_with("4 bytes"));
    CHECK(bad("*\n\n", trace_format::lirs) == "the trace holds no accesses");
    CHECK(bad("", trace_format::i32be) == "the trace holds no accesses");
}

TEST_CASE("read_trace reports unreadable files", "[caching][trace][validation]") {
    std::string why;
    auto r = read_trace("/nonexistent/trace.gz", trace_format::lirs, why);
    REQUIRE(!r.has_value());
    CHECK(r.error() == salama::errc::not_found);
    CHECK(why == "cannot open '/nonexistent/trace.gz'");
}

TEST_CASE("read_trace refuses a file larger than the cap", "[caching][trace][validation]") {
    const std::string path = "caching_trace_cap_test.trace";
    {
        std::ofstream out(path);
        for (int i = 0; i < 100; ++i) out << i << "\n";
    }
    std::string why;
    auto r = read_trace(path, trace_format::lirs, why, 64);
    CHECK(!r.has_value());
    if (!r) CHECK(r.error() == salama::errc::invalid_argument);
    CHECK(why == "'caching_trace_cap_test.trace' holds more than 64 bytes (decompressed): refusing to read it");
    auto ok = read_trace(path, trace_format::lirs, why, 1000);
    REQUIRE(ok.has_value());
    CHECK(ok->size() == 100);
    std::remove(path.c_str());
}

TEST_CASE("trap workloads are deterministic per seed and shaped as named", "[caching][trace]") {
    using namespace salama::caching::traps;
    for (const trap t : all_traps) {
        const auto a = generate(t, 100, 5000, 1);
        CHECK(a.size() == 5000);
        CHECK(a == generate(t, 100, 5000, 1));
        CHECK(a != generate(t, 100, 5000, 2));
        CHECK(parse_trap(name(t)) == t);
    }
    CHECK(!parse_trap("Loop"));
    // A loop over 1.1 x capacity: LRU never hits (only the 2 % of one-shot noise differs).
    const auto loop = generate(trap::loop, 100, 5000, 3);
    CHECK(salama::caching::replay::run(salama::caching::replay::policy_kind::lru, loop, 100).hits == 0);
    // The hot set with scan bursts: a fixed 1 % window keeps the hot set through the
    // scans better than LRU does.
    const auto scans = generate(trap::scan_bursts, 200, 40'000, 1);
    using salama::caching::replay::policy_kind;
    CHECK(salama::caching::replay::run(policy_kind::wtinylfu_fixed, scans, 200, 0.01).ratio() >
          salama::caching::replay::run(policy_kind::lru, scans, 200).ratio() + 0.02);
}
