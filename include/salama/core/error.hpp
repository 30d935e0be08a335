// salama: error codes, the error category and result<T>.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <type_traits>

namespace salama {

/// The library's error conditions. Expected failures travel as
/// `boost::system::error_code` values of this enum, never as exceptions.
enum class errc {
    ok = 0,
    invalid_argument = 1,  ///< a caller-supplied value is out of its domain
    invalid_config,        ///< an options aggregate failed validation
    invalid_metric,        ///< a metric sample is malformed (name, labels, NaN, inf)
    metric_missing,        ///< a metric the decision needs is not in the snapshot
    source_failed,         ///< a metric source could not produce a snapshot
    actuator_failed,       ///< an actuator could not apply a decision
    no_healthy_nodes,      ///< every node of a pool is unhealthy
    empty_pool,            ///< no node serves the request type
    duplicate_id,          ///< an id is already registered
    not_found,             ///< a named entity does not exist
    parse_error,           ///< input text or bytes could not be parsed
    protocol_error,        ///< a peer answered outside its protocol
    connection_failed,     ///< a connection could not be made or was lost
    auth_failed,           ///< a peer refused our credentials
    timeout,               ///< an operation ran past its deadline
    cancelled,             ///< an operation was cancelled
    capacity_exceeded,     ///< a bounded queue or table is full
    unavailable,           ///< a component is stopped or not ready
};

namespace detail {

class error_category_impl final : public boost::system::error_category {
public:
    // A fixed id keeps equality working across shared-library boundaries.
    constexpr error_category_impl() noexcept : error_category(0x5a1a3a5a1a3a0001ULL) {}

    const char* name() const noexcept override { return "salama"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    const char* message(int ev, char*, std::size_t) const noexcept override {
        switch (static_cast<errc>(ev)) {
        case errc::ok: return "success";
        case errc::invalid_argument: return "invalid argument";
        case errc::invalid_config: return "invalid configuration";
        case errc::invalid_metric: return "invalid metric sample";
        case errc::metric_missing: return "metric missing";
        case errc::source_failed: return "metric source failed";
        case errc::actuator_failed: return "actuator failed";
        case errc::no_healthy_nodes: return "no healthy nodes";
        case errc::empty_pool: return "empty pool";
        case errc::duplicate_id: return "duplicate id";
        case errc::not_found: return "not found";
        case errc::parse_error: return "parse error";
        case errc::protocol_error: return "protocol error";
        case errc::connection_failed: return "connection failed";
        case errc::auth_failed: return "authentication failed";
        case errc::timeout: return "timed out";
        case errc::cancelled: return "cancelled";
        case errc::capacity_exceeded: return "capacity exceeded";
        case errc::unavailable: return "unavailable";
        }
        return "unknown salama error";
    }
};

}  // namespace detail

/// The `salama` error category.
inline const boost::system::error_category& error_category() noexcept {
    static const detail::error_category_impl instance;
    return instance;
}

/// Makes an error_code from a salama::errc (found by ADL).
inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// The library's result type: a value or an error_code.
template <class T>
using result = boost::system::result<T>;

using boost::system::error_code;

}  // namespace salama

template <>
struct boost::system::is_error_code_enum<salama::errc> : std::true_type {};
