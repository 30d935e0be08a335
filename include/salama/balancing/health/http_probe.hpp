// salama: the HTTP GET health probe (Boost.Beast), with expected status ranges.
#pragma once

#include "salama/balancing/health/detail/connect.hpp"
#include "salama/balancing/health/health.hpp"
#include "salama/core/validation.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace salama::balancing::health {

/// An inclusive range of HTTP status codes, e.g. {200, 399}; {204, 204} is one code.
struct status_range {
    unsigned lo = 200;  ///< first accepted code
    unsigned hi = 399;  ///< last accepted code
};

/// Options of http_probe.
struct http_probe_options {
    std::string path = "/";                          ///< request target, starting with '/'
    std::string host_header{};                         ///< Host header; empty: the target's host
    std::vector<status_range> expected = {{200, 399}};  ///< statuses that mean healthy
    duration timeout = std::chrono::seconds(1);      ///< deadline of one check (connect to header)
    std::uint32_t header_limit = 8 * 1024;           ///< largest response header accepted, bytes

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator v{"http_probe_options"};
        v.check(!path.empty() && path.front() == '/', "path",
                fmt::format("must start with '/', got '{}'", path));
        v.check(path.find_first_of("\r\n ") == std::string::npos, "path",
                "must not contain spaces or line breaks");
        v.check(host_header.find_first_of("\r\n") == std::string::npos, "host_header",
                "must not contain line breaks");
        v.check(!expected.empty(), "expected", "must name at least one status range");
        for (const auto& r : expected)
            v.check(r.lo >= 100 && r.lo <= r.hi && r.hi <= 599, "expected",
                    fmt::format("range [{}, {}] must satisfy 100 <= lo <= hi <= 599", r.lo, r.hi));
        v.positive("timeout", to_seconds(timeout));
        v.check(header_limit >= 128, "header_limit",
                fmt::format("must be at least 128, got {}", header_limit));
        v.throw_if_failed();
    }

    /// True if `status` lies in one of the expected ranges.
    bool accepts(unsigned status) const noexcept {
        for (const auto& r : expected)
            if (status >= r.lo && status <= r.hi) return true;
        return false;
    }
};

/// The health a response status means under `o`: healthy when the status is expected.
inline health response_health(unsigned status, const http_probe_options& o, duration latency) {
    const bool ok = o.accepts(status);
    return health{ok, latency, ok ? fmt::format("status {}", status) : fmt::format("status {} not expected", status)};
}

/// The pure part of a check: reads the response header at the start of `bytes` as the probe
/// does (the body is never read; a header over `o.header_limit` bytes is refused) and says
/// what it means. errc::protocol_error when the bytes are not an HTTP/1.x response header,
/// when the header is larger than the limit, or when it is incomplete.
inline result<health> check_response(std::string_view bytes, const http_probe_options& o, duration latency = {}) {
    namespace http = boost::beast::http;
    http::response_parser<http::empty_body> parser;
    parser.header_limit(o.header_limit);
    parser.eager(false);
    error_code ec;
    std::size_t used = 0;
    while (!parser.is_header_done()) {
        const std::size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        if (ec == http::error::need_more) {
            if (used == bytes.size() || n == 0)
                return error(errc::protocol_error, "incomplete response header");
            ec = {};
            continue;
        }
        if (ec) return error(errc::protocol_error, fmt::format("malformed response header: {}", ec.message()));
    }
    return response_health(parser.get().result_int(), o, latency);
}

/// Sends `GET <path>` (HTTP/1.1, Connection: close) and reads the response header within
/// the timeout. Healthy when the status is expected; an unexpected status is a reachable but
/// unhealthy node. A refusal is errc::connection_failed, no answer in time errc::timeout,
/// a malformed answer errc::protocol_error.
class http_probe {
public:
    /// Throws config_error on invalid options.
    explicit http_probe(http_probe_options o = {}) : opts_(std::move(o)) { opts_.validate(); }

    /// Runs one check against `t`.
    awaitable<result<health>> check(const health_target& t) {
        namespace http = boost::beast::http;
        const auto use = boost::asio::as_tuple(boost::asio::use_awaitable);
        const auto start = std::chrono::steady_clock::now();
        boost::beast::tcp_stream stream(co_await boost::asio::this_coro::executor);
        stream.expires_after(opts_.timeout);  // one deadline for the whole exchange
        if (auto ec = co_await detail::connect(stream, t, opts_.timeout)) co_return ec;

        http::request<http::empty_body> req{http::verb::get, opts_.path, 11};
        // An IPv6 literal goes in brackets in a Host header.
        const bool v6 = t.host.find(':') != std::string::npos;
        req.set(http::field::host,
                opts_.host_header.empty()
                    ? (v6 ? fmt::format("[{}]:{}", t.host, t.port) : fmt::format("{}:{}", t.host, t.port))
                    : opts_.host_header);
        req.set(http::field::user_agent, "salama-health-check");
        req.set(http::field::connection, "close");
        auto [wec, written] = co_await http::async_write(stream, req, use);
        (void)written;
        if (wec) co_return detail::map_network_error(wec);

        boost::beast::flat_buffer buf;
        http::response_parser<http::empty_body> parser;
        parser.header_limit(opts_.header_limit);
        auto [rec, read] = co_await http::async_read_header(stream, buf, parser, use);
        (void)read;
        if (rec) {
            if (rec == http::error::end_of_stream)  // closed without answering
                co_return make_error_code(errc::connection_failed);
            if (rec.category() == error_code(http::error::bad_version).category())
                co_return make_error_code(errc::protocol_error);
            co_return detail::map_network_error(rec);
        }
        error_code ignored;
        stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);

        co_return response_health(parser.get().result_int(), opts_, std::chrono::steady_clock::now() - start);
    }

    /// The options in force.
    const http_probe_options& options() const noexcept { return opts_; }

private:
    http_probe_options opts_;
};

static_assert(health_probe<http_probe>);

}  // namespace salama::balancing::health
