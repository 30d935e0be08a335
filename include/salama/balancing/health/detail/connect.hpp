// salama: connecting a probe's stream, with its deadline, and mapping network errors.
#pragma once

#include "salama/balancing/health/health.hpp"
#include "salama/core/async.hpp"
#include "salama/core/error.hpp"

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
/// The stream's expiry, set by the caller, bounds the connect; name resolution is bounded
/// by the resolver alone.
inline awaitable<error_code> connect(boost::beast::tcp_stream& stream, const health_target& t) {
    namespace ip = boost::asio::ip;
    const auto use = boost::asio::as_tuple(boost::asio::use_awaitable);
    std::vector<ip::tcp::endpoint> endpoints;
    error_code parse_ec;
    const auto addr = ip::make_address(t.host, parse_ec);
    if (!parse_ec) {
        endpoints.emplace_back(addr, t.port);
    } else {
        ip::tcp::resolver resolver(co_await boost::asio::this_coro::executor);
        auto [ec, results] = co_await resolver.async_resolve(t.host, std::to_string(t.port), use);
        if (ec) co_return make_error_code(errc::connection_failed);
        for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    if (endpoints.empty()) co_return make_error_code(errc::connection_failed);
    auto [ec, ep] = co_await stream.async_connect(endpoints, use);
    (void)ep;
    if (ec) co_return map_network_error(ec);
    co_return error_code{};
}

}  // namespace salama::balancing::health::detail
