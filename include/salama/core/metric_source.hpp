// salama: the metric_source concept and an in-memory source.
#pragma once

#include "salama/core/async.hpp"
#include "salama/core/error.hpp"
#include "salama/core/metric.hpp"

#include <concepts>
#include <cstddef>
#include <mutex>

namespace salama {

/// Something that can be asked for the current metrics: procfs, Prometheus, Redis,
/// or the in-memory source. A failure is an error_code, never an exception.
template <class S>
concept metric_source = requires(S& s) {
    { s.read() } -> std::same_as<awaitable<result<snapshot>>>;
};

/// An in-memory metric source for tests and embedding: returns what it was given.
/// Thread-safe: a test may `set` from one thread while a loop reads from another.
class memory_source {
public:
    memory_source() = default;
    /// Starts with `initial` as the current snapshot.
    explicit memory_source(snapshot initial) : current_(std::move(initial)) {}

    /// Replaces the snapshot returned by the next reads.
    void set(snapshot s) {
        std::lock_guard lk(mu_);
        current_ = std::move(s);
    }

    /// Makes the next `times` reads fail with `ec` (then reads succeed again).
    void fail_next(error_code ec, std::size_t times = 1) {
        std::lock_guard lk(mu_);
        fail_ec_ = ec;
        fail_left_ = times;
    }

    /// Returns the current snapshot, or the injected failure.
    awaitable<result<snapshot>> read() {
        co_return read_now();
    }

    /// The synchronous body of read(), for pure tests.
    result<snapshot> read_now() {
        std::lock_guard lk(mu_);
        ++reads_;
        if (fail_left_ > 0) {
            --fail_left_;
            return fail_ec_;
        }
        return current_;
    }

    /// How many reads were attempted.
    std::size_t reads() const {
        std::lock_guard lk(mu_);
        return reads_;
    }

private:
    mutable std::mutex mu_;
    snapshot current_;
    error_code fail_ec_;
    std::size_t fail_left_ = 0;
    std::size_t reads_ = 0;
};

static_assert(metric_source<memory_source>);

}  // namespace salama
