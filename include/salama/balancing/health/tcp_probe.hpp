// salama: the TCP connect health probe.
#pragma once

#include "salama/balancing/health/detail/connect.hpp"
#include "salama/balancing/health/health.hpp"
#include "salama/core/validation.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>

namespace salama::balancing::health {

/// Options of tcp_probe.
struct tcp_probe_options {
    duration timeout = std::chrono::seconds(1);  ///< deadline of one check (connect)

    /// Throws config_error naming the field unless the timeout is positive.
    void validate() const {
        validator{"tcp_probe_options"}.positive("timeout", to_seconds(timeout)).throw_if_failed();
    }
};

/// Healthy when a TCP connection to the target opens within the timeout; the connection
/// is closed at once. A refusal is errc::connection_failed, a silent drop errc::timeout.
class tcp_probe {
public:
    /// Throws config_error on invalid options.
    explicit tcp_probe(tcp_probe_options o = {}) : opts_(o) { opts_.validate(); }

    /// Connects to `t` and reports how long it took.
    awaitable<result<health>> check(const health_target& t) {
        const auto start = std::chrono::steady_clock::now();
        boost::beast::tcp_stream stream(co_await boost::asio::this_coro::executor);
        stream.expires_after(opts_.timeout);
        if (auto ec = co_await detail::connect(stream, t, opts_.timeout)) co_return ec;
        error_code ignored;
        stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        co_return health{true, std::chrono::steady_clock::now() - start, "connected"};
    }

    /// The options in force.
    const tcp_probe_options& options() const noexcept { return opts_; }

private:
    tcp_probe_options opts_;
};

static_assert(health_probe<tcp_probe>);

}  // namespace salama::balancing::health
