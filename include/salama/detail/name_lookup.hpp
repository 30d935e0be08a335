// salama: host name lookups bounded by the caller's deadline.
//
// getaddrinfo blocks and cannot be cancelled, and Asio's resolver runs every lookup of an
// execution context on one internal thread, so one slow DNS answer delays every other lookup
// behind it and no caller's timeout covers it. Here each lookup runs on a small shared pool
// of threads and the caller waits for the answer or its own deadline, whichever comes
// first. A lookup that outlives its caller finishes on the pool and its answer is dropped.
#pragma once

#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <algorithm>
#include <chrono>
#include <vector>

namespace salama::detail {

/// The endpoints a name stands for.
using endpoint_list = std::vector<boost::asio::ip::tcp::endpoint>;

/// A blocking lookup: what runs on a pool thread. Tests substitute one that blocks on demand.
using blocking_lookup = std::function<result<endpoint_list>(const std::string& host, std::uint16_t port)>;

/// The system's lookup (getaddrinfo through Asio's synchronous resolver, which runs on the
/// calling thread).
inline result<endpoint_list> system_lookup(const std::string& host, std::uint16_t port) {
    boost::asio::io_context local;  // the synchronous resolve needs an executor, not a thread
    boost::asio::ip::tcp::resolver resolver(local);
    error_code ec;
    auto found = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return error(ec, fmt::format("cannot resolve {}: {}", host, ec.message()));
    endpoint_list out;
    for (const auto& r : found) out.push_back(r.endpoint());
    if (out.empty()) return error(errc::connection_failed, fmt::format("{} has no address", host));
    return out;
}

/// The threads lookups run on: four, created on first use, shared by the process. Four
/// slow lookups at once still leave every caller bounded by its deadline; they only queue.
/// Never destroyed: joining them at exit would make the process wait for a hung lookup.
inline boost::asio::thread_pool& lookup_threads() {
    static auto* pool = new boost::asio::thread_pool(4);
    return *pool;
}

/// The endpoints of `host`:`port` within `limit`. An IP address is parsed, never looked up.
/// Ends in the endpoints, the lookup's own error, errc::timeout once `limit` passes, or
/// errc::cancelled when the awaiting coroutine is cancelled.
///
/// The lookup thread only fills a shared slot; the caller polls it on its own timer (every
/// millisecond at first, backing off to every 20 ms). The lookup thread so never touches the
/// caller's execution context, which may be gone by the time a hung lookup returns.
inline awaitable<result<endpoint_list>> lookup(std::string host, std::uint16_t port, duration limit,
                                               blocking_lookup how = system_lookup) {
    namespace asio = boost::asio;
    error_code parse_ec;
    const auto addr = asio::ip::make_address(host, parse_ec);
    if (!parse_ec) co_return endpoint_list{{addr, port}};

    struct slot {
        std::mutex mu;
        std::optional<result<endpoint_list>> value;
    };
    auto answer = std::make_shared<slot>();
    asio::post(lookup_threads(), [answer, how = std::move(how), host, port] {
        result<endpoint_list> r = error(errc::connection_failed, "lookup threw");
        try {
            r = how(host, port);
        } catch (const std::exception& e) {
            r = error(errc::connection_failed, fmt::format("lookup of {} threw: {}", host, e.what()));
        }
        std::lock_guard lk(answer->mu);
        answer->value.emplace(std::move(r));
    });
    const auto until = std::chrono::steady_clock::now() + limit;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    duration wait = std::chrono::milliseconds(1);
    for (;;) {
        {
            std::lock_guard lk(answer->mu);
            if (answer->value) co_return std::move(*answer->value);
        }
        const auto left = until - std::chrono::steady_clock::now();
        if (left <= duration::zero())
            co_return error(errc::timeout, fmt::format("no address for {} within the deadline", host));
        timer.expires_after(std::min<duration>(wait, left));
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return error(errc::cancelled, fmt::format("lookup of {} cancelled", host));
        wait = std::min<duration>(wait * 2, std::chrono::milliseconds(20));
    }
}

}  // namespace salama::detail
