// salama: connecting a probe's stream, with its deadline, and mapping network errors.
#pragma once

#include "salama/balancing/health/health.hpp"
#include "salama/core/async.hpp"
#include "salama/core/error.hpp"
#include "salama/detail/name_lookup.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <tuple>
#include <vector>

namespace salama::balancing::health::detail {

/// Maps what Asio or Beast reported to the library's error conditions.
inline error_code map_network_error(const error_code& ec) noexcept {
    if (ec == boost::beast::error::timeout) return make_error_code(errc::timeout);
    if (ec == boost::asio::error::operation_aborted) return make_error_code(errc::cancelled);
    return make_error_code(errc::connection_failed);
}

/// Resolves `t` (without a lookup when the host is an IP address) and connects `stream`.
/// The lookup runs on the shared lookup threads and is bounded by `limit`, the probe's own
/// timeout; the stream's expiry, set by the caller to the same deadline, bounds the connect.
inline awaitable<error_code> connect(boost::beast::tcp_stream& stream, const health_target& t, duration limit) {
    auto endpoints = co_await salama::detail::lookup(t.host, t.port, limit);
    if (!endpoints) {
        const error_code ec = endpoints.error().code();
        if (ec == errc::timeout || ec == errc::cancelled) co_return ec;
        co_return make_error_code(errc::connection_failed);
    }
    auto [ec, ep] = co_await stream.async_connect(*endpoints, boost::asio::as_tuple(boost::asio::use_awaitable));
    (void)ep;
    if (ec) co_return map_network_error(ec);
    co_return error_code{};
}

}  // namespace salama::balancing::health::detail
