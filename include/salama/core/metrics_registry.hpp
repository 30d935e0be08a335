// salama: counters, gauges and histograms with labels, rendered in the Prometheus
// text exposition format (version 0.0.4).
#pragma once

#include "salama/core/error.hpp"
#include "salama/core/names.hpp"
#include "salama/core/validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace salama {

/// A monotonically increasing value.
class counter {
public:
    /// Adds `by` (finite and >= 0; anything else is refused with errc::invalid_argument).
    result<void> inc(double by = 1.0) noexcept {
        if (!std::isfinite(by) || by < 0) return make_error_code(errc::invalid_argument);
        value_.fetch_add(by, std::memory_order_relaxed);
        return {};
    }
    /// The current total.
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// A value that goes up and down.
class gauge {
public:
    /// Sets the value (finite; NaN or inf is refused with errc::invalid_argument).
    result<void> set(double v) noexcept {
        if (!std::isfinite(v)) return make_error_code(errc::invalid_argument);
        value_.store(v, std::memory_order_relaxed);
        return {};
    }
    /// Adds `by` (finite; may be negative).
    result<void> add(double by) noexcept {
        if (!std::isfinite(by)) return make_error_code(errc::invalid_argument);
        value_.fetch_add(by, std::memory_order_relaxed);
        return {};
    }
    /// The current value.
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// Bucketed observations with their sum and count.
class histogram {
public:
    /// `bounds` must be strictly increasing and finite (checked by the registry);
    /// the +Inf bucket is implicit.
    explicit histogram(std::vector<double> bounds)
        : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

    /// Records `v` (NaN is refused with errc::invalid_argument).
    result<void> observe(double v) noexcept {
        if (std::isnan(v)) return make_error_code(errc::invalid_argument);
        const auto i = static_cast<std::size_t>(
            std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
        counts_[i].fetch_add(1, std::memory_order_relaxed);
        sum_.fetch_add(v, std::memory_order_relaxed);
        count_.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    /// Upper bounds of the finite buckets.
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    /// Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
    std::uint64_t cumulative(std::size_t i) const noexcept {
        std::uint64_t n = 0;
        for (std::size_t j = 0; j <= i && j < counts_.size(); ++j)
            n += counts_[j].load(std::memory_order_relaxed);
        return n;
    }
    /// Number of observations.
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    /// Sum of observations.
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::vector<std::atomic<std::uint64_t>> counts_;
    std::atomic<double> sum_{0.0};
    std::atomic<std::uint64_t> count_{0};
};

/// The Prometheus client libraries' default histogram buckets (seconds).
inline std::vector<double> default_buckets() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

/// Kind of a metric family, as written on its `# TYPE` line.
enum class metric_kind { counter, gauge, histogram };

namespace detail {

inline std::string_view kind_name(metric_kind k) noexcept {
    switch (k) {
    case metric_kind::counter: return "counter";
    case metric_kind::gauge: return "gauge";
    case metric_kind::histogram: return "histogram";
    }
    return "untyped";
}

// Go's strconv.ParseFloat reads fmt's shortest round-trip form; only the
// non-finite values need Prometheus' own spelling.
inline std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
}

inline void escape_into(std::string& out, std::string_view s, bool quote) {
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (quote && c == '"') out += "\\\"";
        else out += c;
    }
}

}  // namespace detail

/// The label every salama series carries: the name of the component instance that wrote it.
inline constexpr std::string_view instance_label = "name";
/// The value a family's labels take once it holds its maximum number of series.
inline constexpr std::string_view overflow_label_value = "overflow";
/// Series per family before new label tuples share the overflow series.
inline constexpr std::size_t default_max_series = 2000;

/// A named metric with a fixed list of label names; one child per label-value tuple.
template <class Metric>
class family {
public:
    family(std::string name, std::string help, std::vector<std::string> label_names,
           std::vector<double> bounds = {}, std::size_t max_series = default_max_series)
        : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
          bounds_(std::move(bounds)), max_series_(max_series == 0 ? 1 : max_series) {}

    /// The child for these label values (created on first use). The reference stays
    /// valid as long as the registry. Throws config_error if the number of values is
    /// not the number of label names.
    Metric& with(std::initializer_list<std::string_view> values) {
        return with(std::vector<std::string>(values.begin(), values.end()));
    }

    /// As above, from a vector. Past `max_series()` children, a new tuple gets the family's
    /// overflow child instead: every label value is `overflow_label_value`, except `name`
    /// (the component instance), which is kept.
    Metric& with(std::vector<std::string> values) {
        if (values.size() != label_names_.size())
            throw config_error(field_error{
                fmt::format("metric({}).labels", name_),
                fmt::format("expected {} label values, got {}", label_names_.size(), values.size())});
        std::lock_guard lk(mu_);
        auto it = children_.find(values);
        if (it != children_.end()) return *it->second;
        if (children_.size() >= max_series_) {
            for (std::size_t i = 0; i < values.size(); ++i)
                if (label_names_[i] != instance_label) values[i] = overflow_label_value;
            it = children_.find(values);
            if (it != children_.end()) return *it->second;
        }
        it = children_.emplace(std::move(values), make()).first;
        return *it->second;
    }

    /// Removes the child with exactly these label values (a node or target that went away).
    /// References to it must no longer be used. Returns true if there was one.
    bool remove(const std::vector<std::string>& values) {
        std::lock_guard lk(mu_);
        return children_.erase(values) != 0;
    }

    /// Removes every child whose label `label` has the value `value`; returns how many.
    /// References to them must no longer be used.
    std::size_t remove_matching(std::string_view label, std::string_view value) {
        const auto pos = std::find(label_names_.begin(), label_names_.end(), label);
        if (pos == label_names_.end()) return 0;
        const auto i = static_cast<std::size_t>(pos - label_names_.begin());
        std::lock_guard lk(mu_);
        return std::erase_if(children_, [&](const auto& kv) { return kv.first[i] == value; });
    }

    /// Removes every child whose labels `a` and `b` have the values `va` and `vb` (one node of
    /// one component instance); returns how many.
    std::size_t remove_matching(std::string_view a, std::string_view va, std::string_view b,
                                std::string_view vb) {
        const auto pa = std::find(label_names_.begin(), label_names_.end(), a);
        const auto pb = std::find(label_names_.begin(), label_names_.end(), b);
        if (pa == label_names_.end() || pb == label_names_.end()) return 0;
        const auto ia = static_cast<std::size_t>(pa - label_names_.begin());
        const auto ib = static_cast<std::size_t>(pb - label_names_.begin());
        std::lock_guard lk(mu_);
        return std::erase_if(children_,
                             [&](const auto& kv) { return kv.first[ia] == va && kv.first[ib] == vb; });
    }

    /// How many children the family holds now.
    std::size_t size() const {
        std::lock_guard lk(mu_);
        return children_.size();
    }

    /// The most children the family creates before new tuples share the overflow child.
    std::size_t max_series() const noexcept { return max_series_; }

    /// The metric name.
    const std::string& name() const noexcept { return name_; }
    /// The help text.
    const std::string& help() const noexcept { return help_; }
    /// The label names.
    const std::vector<std::string>& label_names() const noexcept { return label_names_; }

    /// Calls `f(label_values, metric)` for each child, in label order.
    template <class F>
    void visit(F&& f) const {
        std::lock_guard lk(mu_);
        for (const auto& [values, m] : children_) f(values, *m);
    }

private:
    std::unique_ptr<Metric> make() const {
        if constexpr (std::is_same_v<Metric, histogram>)
            return std::make_unique<histogram>(bounds_);
        else
            return std::make_unique<Metric>();
    }

    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::vector<double> bounds_;
    std::size_t max_series_;
    mutable std::mutex mu_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

/// Holds metric families and renders them in the Prometheus text format.
/// Registration is idempotent: asking again for the same name, kind and labels
/// returns the same family. Thread-safe.
class metrics_registry {
public:
    /// A registry whose families hold at most `max_series_per_family` series each (past
    /// that, new label tuples share one overflow series: a label from outside, such as a
    /// node id, cannot grow memory without bound).
    explicit metrics_registry(std::size_t max_series_per_family = default_max_series)
        : max_series_(max_series_per_family == 0 ? 1 : max_series_per_family) {}

    /// Registers (or finds) a counter family. Throws config_error on an invalid name,
    /// an invalid or duplicate label name, or a name already used by another kind.
    counter_family& counter(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names = {}) {
        return get<salama::counter>(metric_kind::counter, name, help, std::move(label_names), {});
    }

    /// Registers (or finds) a gauge family.
    gauge_family& gauge(std::string_view name, std::string_view help,
                        std::vector<std::string> label_names = {}) {
        return get<salama::gauge>(metric_kind::gauge, name, help, std::move(label_names), {});
    }

    /// Registers (or finds) a histogram family with `bounds` (strictly increasing,
    /// finite; the +Inf bucket is added).
    histogram_family& histogram(std::string_view name, std::string_view help,
                                std::vector<double> bounds = default_buckets(),
                                std::vector<std::string> label_names = {}) {
        validator v{fmt::format("metric({})", name)};
        v.check(!bounds.empty(), "buckets", "must not be empty");
        for (std::size_t i = 0; i < bounds.size(); ++i) {
            v.finite("buckets", bounds[i]);
            if (i > 0) v.check(bounds[i] > bounds[i - 1], "buckets", "must be strictly increasing");
        }
        for (const auto& l : label_names) v.check(l != "le", "labels", "'le' is reserved for histograms");
        v.throw_if_failed();
        return get<salama::histogram>(metric_kind::histogram, name, help, std::move(label_names),
                                      std::move(bounds));
    }

    /// The whole registry in the text exposition format, families sorted by name.
    std::string render() const {
        std::string out;
        std::lock_guard lk(mu_);
        for (const auto& [name, entry] : families_) {
            out += fmt::format("# HELP {} ", name);
            detail::escape_into(out, entry.help, false);
            out += fmt::format("\n# TYPE {} {}\n", name, detail::kind_name(entry.kind));
            std::visit([&](const auto& fam) { render_family(out, *fam); }, entry.fam);
        }
        return out;
    }

private:
    using any_family = std::variant<std::unique_ptr<counter_family>, std::unique_ptr<gauge_family>,
                                    std::unique_ptr<histogram_family>>;
    struct entry {
        metric_kind kind;
        std::string help;
        std::vector<std::string> labels;
        any_family fam;
    };

    template <class Metric>
    family<Metric>& get(metric_kind kind, std::string_view name, std::string_view help,
                        std::vector<std::string> label_names, std::vector<double> bounds) {
        validator v{fmt::format("metric({})", name)};
        v.check(is_valid_metric_name(name), "name",
                name.empty() ? "must not be empty" : "must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        for (std::size_t i = 0; i < label_names.size(); ++i) {
            v.check(is_valid_label_name(label_names[i]), "labels",
                    fmt::format("label name '{}' must match [a-zA-Z_][a-zA-Z0-9_]* and not start "
                                "with '__'",
                                label_names[i]));
            for (std::size_t j = 0; j < i; ++j)
                v.check(label_names[i] != label_names[j], "labels",
                        fmt::format("label name '{}' appears twice", label_names[i]));
        }
        v.throw_if_failed();

        std::lock_guard lk(mu_);
        auto it = families_.find(std::string(name));
        if (it != families_.end()) {
            auto* existing = std::get_if<std::unique_ptr<family<Metric>>>(&it->second.fam);
            validator dup{fmt::format("metric({})", name)};
            dup.check(existing != nullptr && it->second.kind == kind, "kind",
                      fmt::format("already registered as a {}", detail::kind_name(it->second.kind)));
            dup.check(it->second.labels == label_names, "labels",
                      "already registered with other label names");
            dup.throw_if_failed();
            return **existing;
        }
        auto fam = std::make_unique<family<Metric>>(std::string(name), std::string(help),
                                                    label_names, std::move(bounds), max_series_);
        auto& ref = *fam;
        families_.emplace(std::string(name),
                          entry{kind, std::string(help), std::move(label_names), std::move(fam)});
        return ref;
    }

    static void render_labels(std::string& out, const std::vector<std::string>& names,
                              const std::vector<std::string>& values, std::string_view le = {}) {
        if (names.empty() && le.empty()) return;
        out += '{';
        bool first = true;
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (!first) out += ',';
            first = false;
            out += names[i];
            out += "=\"";
            detail::escape_into(out, values[i], true);
            out += '"';
        }
        if (!le.empty()) {
            if (!first) out += ',';
            out += "le=\"";
            out += le;
            out += '"';
        }
        out += '}';
    }

    template <class Metric>
    static void render_family(std::string& out, const family<Metric>& fam) {
        fam.visit([&](const std::vector<std::string>& values, const Metric& m) {
            if constexpr (std::is_same_v<Metric, salama::histogram>) {
                const auto& b = m.bounds();
                for (std::size_t i = 0; i <= b.size(); ++i) {
                    out += fam.name();
                    out += "_bucket";
                    const std::string le = i < b.size() ? detail::format_value(b[i]) : "+Inf";
                    render_labels(out, fam.label_names(), values, le);
                    out += fmt::format(" {}\n", m.cumulative(i));
                }
                out += fam.name() + "_sum";
                render_labels(out, fam.label_names(), values);
                out += fmt::format(" {}\n", detail::format_value(m.sum()));
                out += fam.name() + "_count";
                render_labels(out, fam.label_names(), values);
                out += fmt::format(" {}\n", m.count());
            } else {
                out += fam.name();
                render_labels(out, fam.label_names(), values);
                out += fmt::format(" {}\n", detail::format_value(m.value()));
            }
        });
    }

    std::size_t max_series_;
    mutable std::mutex mu_;
    std::map<std::string, entry, std::less<>> families_;
};

}  // namespace salama
