// salama: the actuator concept (what applies a scaling decision) and an in-memory actuator.
#pragma once

#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace salama {

/// A request to change the size of something: replicas of a deployment, workers of a
/// pool, GPU slots. `reason` explains the decision that produced it.
struct scale_request {
    std::string target{};         ///< what is scaled, e.g. "deployment/web"
    std::string resource{};       ///< resource type the decision is about ("cpu", "gpu", ...)
    std::int64_t current = 0;   ///< the size the decision was based on
    std::int64_t desired = 0;   ///< the size asked for
    std::string reason{};         ///< the decision's explanation
    time_point at{};            ///< when the decision was made
};

/// What an actuator did with a scale_request.
struct scale_outcome {
    std::int64_t previous = 0;  ///< size before
    std::int64_t applied = 0;   ///< size after (may differ from desired if the target clamps)
    std::string detail{};         ///< free text from the actuator
};

/// Something that changes the size of what it controls and reports that size.
template <class A>
concept actuator = requires(A& a, const scale_request& r) {
    { a.apply(r) } -> std::same_as<awaitable<result<scale_outcome>>>;
    { a.current_size() } -> std::same_as<awaitable<result<std::int64_t>>>;
};

/// An in-memory actuator: applies every request to a counter and records it.
/// Thread-safe.
class memory_actuator {
public:
    /// Starts controlling `initial_size` members.
    explicit memory_actuator(std::int64_t initial_size = 1) : size_(initial_size) {}

    /// Applies `r` (sets the size to `r.desired`) or fails with the injected error.
    awaitable<result<scale_outcome>> apply(const scale_request& r) {
        co_return apply_now(r);
    }

    /// The current size, or the injected error.
    awaitable<result<std::int64_t>> current_size() {
        co_return current_size_now();
    }

    /// Synchronous body of apply().
    result<scale_outcome> apply_now(const scale_request& r) {
        std::lock_guard lk(mu_);
        attempts_.push_back(r);
        if (fail_left_ > 0) {
            --fail_left_;
            return fail_ec_;
        }
        if (r.desired < 0) return make_error_code(errc::invalid_argument);
        scale_outcome o{size_, r.desired, "applied"};
        size_ = r.desired;
        applied_.push_back(r);
        return o;
    }

    /// Synchronous body of current_size().
    result<std::int64_t> current_size_now() const {
        std::lock_guard lk(mu_);
        return size_;
    }

    /// Makes the next `times` apply() calls fail with `ec`.
    void fail_next(error_code ec, std::size_t times = 1) {
        std::lock_guard lk(mu_);
        fail_ec_ = ec;
        fail_left_ = times;
    }

    /// Changes the size behind the controller's back (an operator, a crash).
    void set_size(std::int64_t n) {
        std::lock_guard lk(mu_);
        size_ = n;
    }

    /// Every request received, including failed ones.
    std::vector<scale_request> attempts() const {
        std::lock_guard lk(mu_);
        return attempts_;
    }

    /// Requests that were applied.
    std::vector<scale_request> applied() const {
        std::lock_guard lk(mu_);
        return applied_;
    }

private:
    mutable std::mutex mu_;
    std::int64_t size_;
    std::vector<scale_request> attempts_;
    std::vector<scale_request> applied_;
    error_code fail_ec_;
    std::size_t fail_left_ = 0;
};

static_assert(actuator<memory_actuator>);

}  // namespace salama
