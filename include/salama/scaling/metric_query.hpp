// salama: how a scaling policy reads one value from a metric snapshot, and what counts
// as missing.
#pragma once

#include "salama/core/metric.hpp"
#include "salama/core/validation.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salama::scaling {

/// How the samples of one metric (one per member, usually) become one value.
enum class aggregation { average, sum, max, min };

/// "average", "sum", "max" or "min".
constexpr std::string_view to_string(aggregation a) noexcept {
    switch (a) {
    case aggregation::average: return "average";
    case aggregation::sum: return "sum";
    case aggregation::max: return "max";
    case aggregation::min: return "min";
    }
    return "?";
}

/// Which samples a policy reads and how it folds them.
struct metric_query {
    std::string name{};                 ///< metric name
    label_set match{};                  ///< labels every sample must carry (e.g. resource=gpu)
    aggregation aggregate = aggregation::average;
    bool allow_negative = false;      ///< negative values are meaningless for most metrics

    friend bool operator==(const metric_query&, const metric_query&) = default;

    /// Throws config_error naming `<where>.name` unless the name is a valid metric name.
    void validate(std::string_view where) const {
        validator v{where};
        v.check(is_valid_metric_name(name), "name",
                name.empty() ? "must not be empty"
                             : fmt::format("must match [a-zA-Z_:][a-zA-Z0-9_:]*, got '{}'", name));
        v.throw_if_failed();
    }
};

/// The outcome of reading a query: a value, or why there is none; and what was skipped.
struct metric_reading {
    std::optional<double> value{};     ///< the folded value, if any sample was usable
    std::size_t used = 0;            ///< samples folded in
    std::string missing_reason{};      ///< why `value` is empty
    std::vector<std::string> skipped{};  ///< samples left out, each with its reason
};

namespace detail {

// One query's running fold. The size and the first and last characters of the name let a
// pass over the snapshot skip most samples of other metrics without a string compare.
struct metric_fold {
    explicit metric_fold(const metric_query& query)
        : q(&query), size(query.name.empty() ? std::string::npos : query.name.size()),
          first(query.name.empty() ? '\0' : query.name.front()), last(query.name.empty() ? '\0' : query.name.back()) {}

    bool matches(const metric_sample& m) const {
        const auto n = m.name.size();
        return n == size && m.name.front() == first && m.name.back() == last && m.name == q->name &&
               (q->match.empty() || m.labels.contains(q->match));
    }

    void add(double v) {
        if (!std::isfinite(v)) {
            r.skipped.push_back(fmt::format("{}={} ignored: not finite", q->name, v));
            return;
        }
        if (v < 0 && !q->allow_negative) {
            r.skipped.push_back(fmt::format("{}={} ignored: negative", q->name, v));
            return;
        }
        ++r.used;
        acc += v;
        best_max = std::max(best_max, v);
        best_min = std::min(best_min, v);
    }

    metric_reading finish(const snapshot& s) && {
        // The snapshot refuses non-finite samples on entry; say so when that hit this metric.
        if (!s.rejected().empty()) {
            const std::string prefix = fmt::format("metric_sample({})", q->name);
            for (const auto& e : s.rejected())
                if (e.field.starts_with(prefix) && e.field.size() > prefix.size() && e.field[prefix.size()] == '.')
                    r.skipped.push_back(fmt::format("{} refused: {}", q->name, e.reason));
        }
        if (r.used == 0) {
            r.missing_reason = r.skipped.empty()
                                   ? fmt::format("metric {} missing from snapshot", q->name)
                                   : fmt::format("metric {} has no usable sample ({})", q->name, r.skipped.front());
            return std::move(r);
        }
        switch (q->aggregate) {
        case aggregation::average: r.value = acc / static_cast<double>(r.used); break;
        case aggregation::sum: r.value = acc; break;
        case aggregation::max: r.value = best_max; break;
        case aggregation::min: r.value = best_min; break;
        }
        return std::move(r);
    }

    const metric_query* q;
    std::size_t size;
    char first;
    char last;
    metric_reading r;
    double acc = 0;
    double best_max = -std::numeric_limits<double>::infinity();
    double best_min = std::numeric_limits<double>::infinity();
};

}  // namespace detail

/// Reads every query of `qs` from `s` in one pass over the snapshot (see read_metric);
/// the readings come back in the order of `qs`.
inline std::vector<metric_reading> read_metrics(const snapshot& s, std::span<const metric_query* const> qs) {
    std::vector<detail::metric_fold> folds;
    folds.reserve(qs.size());
    for (const auto* q : qs) folds.emplace_back(*q);
    for (const auto& m : s.samples())
        for (auto& f : folds)
            if (f.matches(m)) f.add(m.value);
    std::vector<metric_reading> out;
    out.reserve(folds.size());
    for (auto& f : folds) out.push_back(std::move(f).finish(s));
    return out;
}

/// Reads `q` from `s`. Samples that are NaN, infinite, or negative where `q` does not
/// allow it are skipped with the reason recorded; samples the snapshot refused under this
/// name are reported too. With no usable sample the reading has no value.
inline metric_reading read_metric(const snapshot& s, const metric_query& q) {
    detail::metric_fold f(q);
    for (const auto& m : s.samples())
        if (f.matches(m)) f.add(m.value);
    return std::move(f).finish(s);
}

}  // namespace salama::scaling
