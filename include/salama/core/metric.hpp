// salama: metric samples, label sets and snapshots: what a metric source produces.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/names.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salama {

/// Well-known label names used across the library.
namespace label {
inline constexpr std::string_view member = "member";      ///< a scaled member (pod, worker)
inline constexpr std::string_view node = "node";          ///< a balanced node
inline constexpr std::string_view resource = "resource";  ///< resource type: cpu, gpu, memory, ...
}  // namespace label

/// Well-known resource types; any other non-empty string is a user-defined one.
namespace resource {
inline constexpr std::string_view cpu = "cpu";
inline constexpr std::string_view gpu = "gpu";
inline constexpr std::string_view memory = "memory";
}  // namespace resource

/// A small set of labels kept sorted by name; names are unique.
class label_set {
public:
    using value_type = std::pair<std::string, std::string>;

    label_set() = default;
    /// Builds from pairs; a later duplicate name replaces an earlier one.
    label_set(std::initializer_list<value_type> init) {
        for (const auto& [k, v] : init) set(k, v);
    }

    /// Sets `name` to `value`, replacing any earlier value.
    void set(std::string_view name, std::string_view value) {
        auto it = lower(name);
        if (it != items_.end() && it->first == name)
            it->second = value;
        else
            items_.emplace(it, std::string(name), std::string(value));
    }

    /// The value of `name`, if present.
    std::optional<std::string_view> get(std::string_view name) const {
        auto it = lower(name);
        if (it != items_.end() && it->first == name) return std::string_view(it->second);
        return std::nullopt;
    }

    /// True if every label of `subset` is present here with the same value.
    bool contains(const label_set& subset) const {
        return std::all_of(subset.begin(), subset.end(), [&](const value_type& kv) {
            auto v = get(kv.first);
            return v && *v == kv.second;
        });
    }

    /// The first label whose name is invalid, if any.
    std::optional<std::string_view> first_invalid_name() const {
        for (const auto& kv : items_)
            if (!is_valid_label_name(kv.first)) return std::string_view(kv.first);
        return std::nullopt;
    }

    std::vector<value_type>::const_iterator begin() const noexcept { return items_.begin(); }
    std::vector<value_type>::const_iterator end() const noexcept { return items_.end(); }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    friend bool operator==(const label_set&, const label_set&) = default;

private:
    std::vector<value_type>::iterator lower(std::string_view name) {
        return std::lower_bound(items_.begin(), items_.end(), name,
                                [](const value_type& kv, std::string_view n) { return kv.first < n; });
    }
    std::vector<value_type>::const_iterator lower(std::string_view name) const {
        return std::lower_bound(items_.begin(), items_.end(), name,
                                [](const value_type& kv, std::string_view n) { return kv.first < n; });
    }

    std::vector<value_type> items_;
};

/// One observation of one metric.
struct metric_sample {
    std::string name{};       ///< metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`
    double value = 0;       ///< finite
    std::string unit{};       ///< free text: "ratio", "bytes", "seconds", "requests", ...
    time_point timestamp{}; ///< when the value was observed
    label_set labels{};       ///< e.g. member, node, resource
};

/// Checks a sample: a valid name, finite value, valid label names. The error names
/// the sample and the field, e.g. "invalid metric_sample(cpu).value: must be finite, got nan".
inline std::optional<field_error> check_sample(const metric_sample& s) {
    const std::string where = fmt::format("metric_sample({})", s.name);
    if (!is_valid_metric_name(s.name))
        return field_error{where + ".name",
                           s.name.empty() ? "must not be empty"
                                          : "must match [a-zA-Z_:][a-zA-Z0-9_:]*"};
    if (!std::isfinite(s.value))
        return field_error{where + ".value", fmt::format("must be finite, got {}", s.value)};
    if (auto bad = s.labels.first_invalid_name())
        return field_error{where + ".labels",
                           fmt::format("label name '{}' must match [a-zA-Z_][a-zA-Z0-9_]* "
                                       "and not start with '__'",
                                       *bad)};
    return std::nullopt;
}

/// A consistent set of samples read at one instant.
class snapshot {
public:
    snapshot() = default;
    /// An empty snapshot taken at `taken_at`.
    explicit snapshot(time_point taken_at) : taken_at_(taken_at) {}

    /// Adds a sample after checking it; a bad sample is refused with errc::invalid_metric
    /// and a detail naming the field. The snapshot also keeps the refusal in `rejected()`,
    /// so that a decision over it can explain a sample that is missing.
    result<void> add(metric_sample s) {
        if (auto err = check_sample(s)) {
            error e(errc::invalid_metric, err->message());
            rejected_.push_back(std::move(*err));
            return e;
        }
        samples_.push_back(std::move(s));
        return {};
    }

    /// Convenience: adds `name`=`value` with labels, stamped with the snapshot time.
    result<void> add(std::string_view name, double value, label_set labels = {},
                     std::string_view unit = {}) {
        return add(metric_sample{std::string(name), value, std::string(unit), taken_at_,
                                 std::move(labels)});
    }

    /// The first sample called `name` whose labels include `match`.
    const metric_sample* find(std::string_view name, const label_set& match = {}) const {
        for (const auto& s : samples_)
            if (s.name == name && s.labels.contains(match)) return &s;
        return nullptr;
    }

    /// Calls `f(sample)` for every sample called `name` whose labels include `match`.
    template <class F>
    void for_each(std::string_view name, const label_set& match, F&& f) const {
        for (const auto& s : samples_)
            if (s.name == name && s.labels.contains(match)) f(s);
    }

    /// All accepted samples, in insertion order.
    const std::vector<metric_sample>& samples() const noexcept { return samples_; }
    /// Why each refused sample was refused.
    const std::vector<field_error>& rejected() const noexcept { return rejected_; }
    /// When the snapshot was taken.
    time_point taken_at() const noexcept { return taken_at_; }
    /// Sets when the snapshot was taken.
    void set_taken_at(time_point t) noexcept { taken_at_ = t; }
    std::size_t size() const noexcept { return samples_.size(); }
    bool empty() const noexcept { return samples_.empty(); }

private:
    time_point taken_at_{};
    std::vector<metric_sample> samples_;
    std::vector<field_error> rejected_;
};

}  // namespace salama
