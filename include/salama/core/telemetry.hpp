// salama: the telemetry handle every component takes: where its series go, where its log
// lines go, and the instance name that tells two components of one kind apart.
#pragma once

#include "salama/core/log.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/validation.hpp"

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salama {

/// Where a component reports. Every component takes one, last in its constructor:
///
///     autoscaler a(ex, src, act, targets, opts,
///                  {.registry = &reg, .log = make_stderr_logger(), .name = "web"});
///
/// Every series the component writes carries the label `name` (instance_label) with
/// `name`'s value, so two components of one kind on one registry keep separate series.
/// Log lines start with "<kind> <name>: ". With no registry the component counts into a
/// private one (readable through its telemetry's registry()).
struct telemetry {
    metrics_registry* registry = nullptr;  ///< must outlive the component; null: a private one
    logger log{};                          ///< where log lines go; default: discarded
    std::string name = "default";          ///< the instance name: the `name` label, log prefix

    /// Throws config_error if `name` is empty.
    void validate(std::string_view prefix = "telemetry") const {
        validator v{prefix};
        v.non_empty("name", name);
        v.throw_if_failed();
    }
};

template <class Metric>
class instance_family;

/// A telemetry handle bound to one component: it owns the private registry when none was
/// given, and registers families whose first label is the instance name.
class bound_telemetry {
public:
    /// Validates `t` (config_error naming `<prefix>.name`); makes a private registry if
    /// `t.registry` is null.
    explicit bound_telemetry(telemetry t, std::string_view prefix = "telemetry") : t_(std::move(t)) {
        t_.validate(prefix);
        if (t_.registry == nullptr) {
            own_ = std::make_unique<metrics_registry>();
            t_.registry = own_.get();
        }
    }

    bound_telemetry(const bound_telemetry&) = delete;
    bound_telemetry& operator=(const bound_telemetry&) = delete;

    /// The registry series go to.
    metrics_registry& registry() const noexcept { return *t_.registry; }
    /// The logger.
    const logger& log() const noexcept { return t_.log; }
    /// The instance name.
    const std::string& name() const noexcept { return t_.name; }
    /// The handle as given (with the private registry filled in).
    const telemetry& handle() const noexcept { return t_; }

    /// A counter family with labels `name` + `labels`.
    instance_family<salama::counter> counter(std::string_view metric, std::string_view help,
                                     std::vector<std::string> labels = {}) const;
    /// A gauge family with labels `name` + `labels`.
    instance_family<salama::gauge> gauge(std::string_view metric, std::string_view help,
                                 std::vector<std::string> labels = {}) const;
    /// A histogram family with labels `name` + `labels`.
    instance_family<salama::histogram> histogram(std::string_view metric, std::string_view help,
                                         std::vector<double> bounds = default_buckets(),
                                         std::vector<std::string> labels = {}) const;

private:
    static std::vector<std::string> with_instance(std::vector<std::string> labels) {
        labels.insert(labels.begin(), std::string(instance_label));
        return labels;
    }

    telemetry t_;
    std::unique_ptr<metrics_registry> own_;
};

/// A metric family seen from one component instance: `with` takes the labels after `name`.
/// Cheap to copy; valid as long as the registry.
template <class Metric>
class instance_family {
public:
    instance_family(family<Metric>& fam, std::string instance) : fam_(&fam), instance_(std::move(instance)) {}

    /// The child for these label values (after the instance name).
    Metric& with(std::initializer_list<std::string_view> values = {}) const {
        std::vector<std::string> all;
        all.reserve(values.size() + 1);
        all.emplace_back(instance_);
        for (auto v : values) all.emplace_back(v);
        return fam_->with(std::move(all));
    }

    /// Removes this instance's series whose label `label` is `value` (a removed node or
    /// target); returns how many.
    std::size_t remove(std::string_view label, std::string_view value) const {
        return fam_->remove_matching(instance_label, instance_, label, value);
    }

    /// Removes every series of this instance; returns how many.
    std::size_t remove_all() const { return fam_->remove_matching(instance_label, instance_); }

    /// The underlying family.
    family<Metric>& underlying() const noexcept { return *fam_; }

private:
    family<Metric>* fam_;
    std::string instance_;
};

inline instance_family<counter> bound_telemetry::counter(std::string_view metric, std::string_view help,
                                                         std::vector<std::string> labels) const {
    return {t_.registry->counter(metric, help, with_instance(std::move(labels))), t_.name};
}

inline instance_family<gauge> bound_telemetry::gauge(std::string_view metric, std::string_view help,
                                                     std::vector<std::string> labels) const {
    return {t_.registry->gauge(metric, help, with_instance(std::move(labels))), t_.name};
}

inline instance_family<histogram> bound_telemetry::histogram(std::string_view metric, std::string_view help,
                                                             std::vector<double> bounds,
                                                             std::vector<std::string> labels) const {
    return {t_.registry->histogram(metric, help, std::move(bounds), with_instance(std::move(labels))), t_.name};
}

}  // namespace salama
