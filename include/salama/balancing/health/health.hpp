// salama: the vocabulary of health checking: targets, probe results, the health_probe concept.
#pragma once

#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/validation.hpp"

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace salama::balancing::health {

/// Whether a node may receive traffic, as far as health checking knows.
enum class health_status { healthy, unhealthy };

/// "healthy" or "unhealthy".
constexpr std::string_view to_string(health_status s) noexcept {
    return s == health_status::healthy ? "healthy" : "unhealthy";
}

/// A node to probe: the id it has in the balancer and the address its checks go to.
struct health_target {
    std::string id{};           ///< the node id (the same id the load balancer knows it by)
    std::string host{};         ///< an IP address or a name to resolve, e.g. "127.0.0.1"
    std::uint16_t port = 0;     ///< the TCP port checks connect to (1..65535)
};

/// Throws config_error naming the field unless `t` has an id, a host and a port.
inline void validate(const health_target& t) {
    validator v{"health_target"};
    v.non_empty("id", t.id);
    v.non_empty("host", t.host);
    v.check(t.port != 0, "port", "must be within [1, 65535], got 0");
    v.throw_if_failed();
}

/// What one probe found out when it reached the node. A probe that could not reach the
/// node at all (refused, timed out) returns an error instead.
struct health {
    bool healthy = false;   ///< the node answered as a healthy node answers
    duration latency{};     ///< how long the probe took
    std::string detail{};   ///< e.g. "status 200" or "status 503 not expected"
};

/// Something that checks one node, asynchronously: TCP connect, HTTP GET, or a test double.
/// A probe enforces its own per-check timeout; an unreachable node is an error
/// (errc::connection_failed, errc::timeout, ...), a reachable but failing one is
/// `health{.healthy = false}`.
template <class P>
concept health_probe = requires(P& p, const health_target& t) {
    { p.check(t) } -> std::same_as<awaitable<result<health>>>;
};

}  // namespace salama::balancing::health
