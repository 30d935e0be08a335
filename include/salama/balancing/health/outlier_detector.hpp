// salama: passive health checking (outlier detection) from the outcomes of real requests.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salama::balancing::health {

/// Options of outlier_detector. Defaults are Envoy's outlier detection defaults.
struct outlier_options {
    std::uint32_t consecutive_failures = 5;              ///< failures in a row that eject a host
    duration interval = std::chrono::seconds(10);        ///< time between evaluation sweeps
    duration base_ejection_time = std::chrono::seconds(30);  ///< ejection = base x times ejected
    duration max_ejection_time = std::chrono::seconds(300);  ///< cap of one ejection
    double max_ejection_percent = 10;                    ///< most hosts ejected at once, percent
    bool always_eject_one_host = true;                   ///< one host may be ejected regardless
    bool success_rate_enabled = true;                    ///< run the success-rate detector
    std::uint32_t success_rate_minimum_hosts = 5;        ///< hosts with enough volume it needs
    std::uint64_t success_rate_request_volume = 100;     ///< requests per interval a host needs
    double success_rate_stdev_factor = 1.9;              ///< eject below mean - factor x stdev

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator v{"outlier_options"};
        v.check(consecutive_failures >= 1, "consecutive_failures",
                fmt::format("must be at least 1, got {}", consecutive_failures));
        v.positive("interval", to_seconds(interval));
        v.positive("base_ejection_time", to_seconds(base_ejection_time));
        v.check(max_ejection_time >= base_ejection_time, "max_ejection_time",
                fmt::format("must be at least base_ejection_time ({} s), got {} s",
                            to_seconds(base_ejection_time), to_seconds(max_ejection_time)));
        v.in_range("max_ejection_percent", max_ejection_percent, 0, 100);
        v.check(success_rate_minimum_hosts >= 1, "success_rate_minimum_hosts",
                fmt::format("must be at least 1, got {}", success_rate_minimum_hosts));
        v.check(success_rate_request_volume >= 1, "success_rate_request_volume",
                fmt::format("must be at least 1, got {}", success_rate_request_volume));
        v.non_negative("success_rate_stdev_factor", success_rate_stdev_factor);
        v.throw_if_failed();
    }
};

/// Why a host was ejected.
enum class ejection_reason { consecutive_failures, success_rate };

/// "consecutive_failures" or "success_rate".
constexpr std::string_view to_string(ejection_reason r) noexcept {
    return r == ejection_reason::consecutive_failures ? "consecutive_failures" : "success_rate";
}

/// A host leaving or returning to service.
struct outlier_event {
    /// Whether the host left or came back.
    enum class kind_t { ejected, returned };
    std::string node_id{};        ///< the host
    kind_t kind{};                ///< ejected or returned to service
    ejection_reason reason{};     ///< why it was (or had been) ejected
    time_point until{};         ///< for an ejection: when it may return
    std::uint32_t multiplier = 0;   ///< the ejection-time multiplier after this event
};

/// One host's passive-health state, as reported by outlier_detector::hosts().
struct outlier_host {
    std::string node_id{};                  ///< the host
    bool ejected = false;                         ///< out of service now
    time_point ejected_until{};             ///< when an ejected host returns (at an evaluation)
    std::uint32_t multiplier = 0;             ///< ejection-time multiplier (the next ejection adds one)
    std::uint32_t consecutive_failures = 0;   ///< current failure streak
    std::uint64_t interval_requests = 0;      ///< requests reported in the current interval
    std::uint64_t interval_successes = 0;     ///< successes among them
};

/// Envoy-style outlier detection as a pure value type (no clock, no I/O: `now` is passed in).
///
/// - Consecutive failures: the `consecutive_failures`-th failure in a row ejects the host at
///   once (report()).
/// - Success rate: at each evaluation, if at least `success_rate_minimum_hosts` hosts saw
///   `success_rate_request_volume` requests in the interval, hosts whose success rate is below
///   mean - factor x stdev (population stdev over those hosts) are ejected.
/// - An ejection lasts min(base_ejection_time x multiplier, max_ejection_time); the multiplier
///   grows by one per ejection and shrinks by one per evaluation the host spends in service.
///   Ejected hosts return at the first evaluation after their time is up.
/// - At most `max_ejection_percent` of the hosts are ejected at once: a new ejection happens
///   only if 100 x (ejected + 1) / hosts <= max_ejection_percent, or, with
///   `always_eject_one_host`, when no host is ejected yet.
/// Not thread-safe: the caller serialises access.
class outlier_detector {
public:
    /// Throws config_error on invalid options.
    explicit outlier_detector(outlier_options o = {}) : opts_(o) { opts_.validate(); }

    /// Starts tracking `id` (in service); errc::duplicate_id if it is tracked,
    /// errc::invalid_argument if it is empty.
    result<void> add_host(std::string id) {
        if (id.empty()) return make_error_code(errc::invalid_argument);
        if (hosts_.count(id) != 0) return make_error_code(errc::duplicate_id);
        hosts_.emplace(std::move(id), state{});
        return {};
    }

    /// Stops tracking `id`; errc::not_found if it is not tracked.
    result<void> remove_host(std::string_view id) {
        auto it = hosts_.find(id);
        if (it == hosts_.end()) return make_error_code(errc::not_found);
        if (it->second.ejected) --ejected_;
        hosts_.erase(it);
        return {};
    }

    /// Reports the outcome of one request to `id` at `now`. Returns the ejection this report
    /// caused, if any; errc::not_found for an unknown host.
    result<std::optional<outlier_event>> report(std::string_view id, bool success,
                                                time_point now) {
        auto it = hosts_.find(id);
        if (it == hosts_.end()) return make_error_code(errc::not_found);
        auto& h = it->second;
        ++h.requests;
        if (success) {
            ++h.successes;
            h.consecutive = 0;
            return std::optional<outlier_event>{};
        }
        ++h.consecutive;
        if (h.ejected || h.consecutive < opts_.consecutive_failures)
            return std::optional<outlier_event>{};
        if (!may_eject()) return std::optional<outlier_event>{};
        return std::optional<outlier_event>{eject(it->first, h, ejection_reason::consecutive_failures, now)};
    }

    /// The interval step: returns hosts whose ejection time is up, lowers the multiplier of
    /// hosts in service, runs the success-rate detector over the interval's counts and starts
    /// a new interval. Returns what changed, returns first.
    std::vector<outlier_event> evaluate(time_point now) {
        std::vector<outlier_event> events;
        for (auto& [id, h] : hosts_) {
            if (h.ejected) {
                if (now >= h.until) {
                    h.ejected = false;
                    h.consecutive = 0;
                    --ejected_;
                    events.push_back({id, outlier_event::kind_t::returned, h.reason, {}, h.multiplier});
                }
            } else if (h.multiplier > 0) {
                --h.multiplier;
            }
        }
        if (opts_.success_rate_enabled) success_rate_sweep(now, events);
        for (auto& [id, h] : hosts_) h.requests = h.successes = 0;
        last_evaluation_ = now;
        interval_start_ = now;
        return events;
    }

    /// Runs evaluate() if an interval has passed since the last one (or none ran yet);
    /// otherwise returns nothing. Convenient for callers that poll.
    std::vector<outlier_event> tick(time_point now) {
        if (!interval_start_) {
            interval_start_ = now;  // the first interval starts at the first tick
            return {};
        }
        if (now - *interval_start_ < opts_.interval) return {};
        return evaluate(now);
    }

    /// True if `id` is tracked and ejected.
    bool ejected(std::string_view id) const {
        auto it = hosts_.find(id);
        return it != hosts_.end() && it->second.ejected;
    }

    /// Number of hosts ejected now.
    std::size_t ejected_count() const noexcept { return ejected_; }
    /// Number of hosts tracked.
    std::size_t host_count() const noexcept { return hosts_.size(); }

    /// Every tracked host, ordered by id.
    std::vector<outlier_host> hosts() const {
        std::vector<outlier_host> out;
        out.reserve(hosts_.size());
        for (const auto& [id, h] : hosts_)
            out.push_back({id, h.ejected, h.until, h.multiplier, h.consecutive, h.requests, h.successes});
        return out;
    }

    /// When the last evaluation ran, if any.
    std::optional<time_point> last_evaluation() const noexcept { return last_evaluation_; }
    /// The options in force.
    const outlier_options& options() const noexcept { return opts_; }

private:
    struct state {
        bool ejected = false;
        time_point until{};
        ejection_reason reason = ejection_reason::consecutive_failures;
        std::uint32_t multiplier = 0;
        std::uint32_t consecutive = 0;
        std::uint64_t requests = 0;
        std::uint64_t successes = 0;
    };

    bool may_eject() const noexcept {
        if (hosts_.empty()) return false;
        if (opts_.always_eject_one_host && ejected_ == 0) return true;
        const double pct = 100.0 * static_cast<double>(ejected_ + 1) / static_cast<double>(hosts_.size());
        return pct <= opts_.max_ejection_percent;
    }

    outlier_event eject(const std::string& id, state& h, ejection_reason why, time_point now) {
        // The multiplier stops growing once the cap is reached, so that it decays back
        // within a bounded number of intervals.
        const auto base = opts_.base_ejection_time;
        if (base * static_cast<duration::rep>(h.multiplier) < opts_.max_ejection_time) ++h.multiplier;
        const auto length = std::min<duration>(base * static_cast<duration::rep>(h.multiplier),
                                               opts_.max_ejection_time);
        h.ejected = true;
        h.until = now + length;
        h.reason = why;
        h.consecutive = 0;
        ++ejected_;
        return {id, outlier_event::kind_t::ejected, why, h.until, h.multiplier};
    }

    void success_rate_sweep(time_point now, std::vector<outlier_event>& events) {
        std::vector<std::pair<std::string_view, double>> rates;
        for (const auto& [id, h] : hosts_)
            if (h.requests >= opts_.success_rate_request_volume)
                rates.emplace_back(id, 100.0 * static_cast<double>(h.successes) /
                                           static_cast<double>(h.requests));
        if (rates.size() < opts_.success_rate_minimum_hosts || rates.empty()) return;
        double sum = 0;
        for (const auto& r : rates) sum += r.second;
        const double mean = sum / static_cast<double>(rates.size());
        double var = 0;
        for (const auto& r : rates) var += (r.second - mean) * (r.second - mean);
        const double stdev = std::sqrt(var / static_cast<double>(rates.size()));
        const double threshold = mean - opts_.success_rate_stdev_factor * stdev;
        for (const auto& [id, rate] : rates) {
            if (!(rate < threshold)) continue;
            auto it = hosts_.find(id);
            if (it->second.ejected || !may_eject()) continue;
            events.push_back(eject(it->first, it->second, ejection_reason::success_rate, now));
        }
    }

    outlier_options opts_;
    std::map<std::string, state, std::less<>> hosts_;
    std::size_t ejected_ = 0;
    std::optional<time_point> last_evaluation_;
    std::optional<time_point> interval_start_;
};

}  // namespace salama::balancing::health
