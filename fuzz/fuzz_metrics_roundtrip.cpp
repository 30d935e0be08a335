// libFuzzer target: the metrics registry's text exposition round trip. Label values, help
// text and values come from the input; the rendered text is parsed back by a small parser of
// the Prometheus text format below, and every series must come back with its labels and its
// value exactly.
#include <salama/core/metrics_registry.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct sample_line {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

[[noreturn]] void fail() { __builtin_trap(); }

// Undoes the exposition format's escapes: \\ and \n everywhere, \" inside label values.
std::string unescape(std::string_view s, bool quoted) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (++i == s.size()) fail();
        if (s[i] == '\\') out += '\\';
        else if (s[i] == 'n') out += '\n';
        else if (quoted && s[i] == '"') out += '"';
        else fail();
    }
    return out;
}

std::optional<double> parse_value(std::string_view v) {
    if (v == "NaN") return std::nan("");
    if (v == "+Inf") return HUGE_VAL;
    if (v == "-Inf") return -HUGE_VAL;
    double d = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc{} || p != v.data() + v.size()) return std::nullopt;
    return d;
}

// One sample line: name{l="v",...} value
sample_line parse_sample(std::string_view line) {
    sample_line s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
        ++i;
        while (i < line.size() && line[i] != '}') {
            const auto eq = line.find("=\"", i);
            if (eq == std::string_view::npos) fail();
            std::string label(line.substr(i, eq - i));
            std::size_t j = eq + 2;
            std::string raw;
            while (j < line.size() && line[j] != '"') {
                if (line[j] == '\\') {
                    if (j + 1 >= line.size()) fail();
                    raw += line[j];
                    ++j;
                }
                raw += line[j];
                ++j;
            }
            if (j >= line.size()) fail();
            s.labels.emplace_back(std::move(label), unescape(raw, true));
            i = j + 1;
            if (i < line.size() && line[i] == ',') ++i;
        }
        if (i >= line.size()) fail();
        ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') fail();
    auto v = parse_value(line.substr(i + 1));
    if (!v) fail();
    s.value = *v;
    return s;
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    salama::metrics_registry reg;
    const std::string help = in.ConsumeRandomLengthString(64);
    auto& gauges = reg.gauge("fuzz_gauge", help, {"name", "node"});
    std::map<std::string, double> want;  // node -> value (the last set wins)
    const int n = in.ConsumeIntegralInRange(0, 8);
    for (int k = 0; k < n; ++k) {
        std::string node = in.ConsumeRandomLengthString(32);
        const double v = in.ConsumeBool() ? in.ConsumeFloatingPoint<double>()
                                          : static_cast<double>(in.ConsumeIntegral<std::int32_t>());
        if (gauges.with({"fz", node}).set(v)) want[node] = v;
    }

    const std::string text = reg.render();
    std::string_view rest = text;
    std::optional<std::string> seen_help;
    std::map<std::string, double> got;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        if (nl == std::string_view::npos) fail();  // every line ends with a newline
        const std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
        if (line.rfind("# HELP fuzz_gauge ", 0) == 0) {
            seen_help = unescape(line.substr(std::strlen("# HELP fuzz_gauge ")), false);
        } else if (line == "# TYPE fuzz_gauge gauge") {
        } else {
            const auto s = parse_sample(line);
            if (s.name != "fuzz_gauge" || s.labels.size() != 2) fail();
            if (s.labels[0] != std::pair<std::string, std::string>{"name", "fz"}) fail();
            if (s.labels[1].first != "node") fail();
            if (!got.emplace(s.labels[1].second, s.value).second) fail();  // one line per series
        }
    }
    if (seen_help != help) fail();
    if (got.size() != want.size()) fail();
    for (const auto& [node, v] : want) {
        auto it = got.find(node);
        if (it == got.end() || !same(it->second, v)) fail();
    }
    return 0;
}
