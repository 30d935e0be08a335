// salama: error codes, the error category and result<T>.
#pragma once

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

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
    user_code_threw,       ///< a source, actuator, probe or callback threw an exception
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
        case errc::user_code_threw: return "user code threw an exception";
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

using boost::system::error_code;

/// Kinds of failure to branch on, whatever system reported them. An error keeps its
/// original code (a refused connection stays "Connection refused"); compare it with a
/// condition to classify it: `if (ec == salama::condition::connection_failed) retry();`.
enum class condition {
    timeout = 1,        ///< a deadline passed (salama's, the system's or a peer's)
    cancelled,          ///< the operation was cancelled
    connection_failed,  ///< refused, reset, unreachable, name not resolved, closed early
    protocol_error,     ///< a peer answered outside its protocol
    auth_failed,        ///< a peer refused our credentials
    invalid_input,      ///< bad configuration, argument, metric or text
    not_found,          ///< a named entity does not exist
    unavailable,        ///< a component is stopped, not ready or out of capacity
};

namespace detail {

class condition_category_impl final : public boost::system::error_category {
public:
    constexpr condition_category_impl() noexcept : error_category(0x5a1a3a5a1a3a0002ULL) {}

    const char* name() const noexcept override { return "salama.condition"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    const char* message(int ev, char*, std::size_t) const noexcept override {
        switch (static_cast<condition>(ev)) {
        case condition::timeout: return "timed out";
        case condition::cancelled: return "cancelled";
        case condition::connection_failed: return "connection failed";
        case condition::protocol_error: return "protocol error";
        case condition::auth_failed: return "authentication failed";
        case condition::invalid_input: return "invalid input";
        case condition::not_found: return "not found";
        case condition::unavailable: return "unavailable";
        }
        return "unknown salama condition";
    }

    bool equivalent(const boost::system::error_code& ec, int cv) const noexcept override;
};

}  // namespace detail

/// The category of salama::condition.
inline const boost::system::error_category& condition_category() noexcept {
    static const detail::condition_category_impl instance;
    return instance;
}

/// Makes an error_condition from a salama::condition (found by ADL).
inline boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

namespace detail {

inline bool condition_category_impl::equivalent(const boost::system::error_code& ec, int cv) const noexcept {
    namespace ae = boost::asio::error;
    const auto c = static_cast<condition>(cv);
    if (ec.category() == salama::error_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::timeout: return c == condition::timeout;
        case errc::cancelled: return c == condition::cancelled;
        case errc::connection_failed: return c == condition::connection_failed;
        case errc::protocol_error: return c == condition::protocol_error;
        case errc::auth_failed: return c == condition::auth_failed;
        case errc::invalid_argument:
        case errc::invalid_config:
        case errc::invalid_metric:
        case errc::parse_error: return c == condition::invalid_input;
        case errc::not_found:
        case errc::metric_missing: return c == condition::not_found;
        case errc::unavailable:
        case errc::capacity_exceeded:
        case errc::no_healthy_nodes:
        case errc::empty_pool: return c == condition::unavailable;
        default: return false;
        }
    }
    // Codes from the system and Asio, compared by value within their own categories.
    switch (c) {
    case condition::timeout:
        return ec == ae::timed_out || ec == boost::system::errc::timed_out;
    case condition::cancelled:
        return ec == ae::operation_aborted || ec == boost::system::errc::operation_canceled;
    case condition::connection_failed:
        return ec == ae::connection_refused || ec == ae::connection_reset || ec == ae::connection_aborted ||
               ec == ae::host_unreachable || ec == ae::network_unreachable || ec == ae::network_down ||
               ec == ae::network_reset || ec == ae::broken_pipe || ec == ae::not_connected ||
               ec == ae::host_not_found || ec == ae::host_not_found_try_again || ec == ae::no_data ||
               ec == ae::eof || ec == ae::shut_down;
    case condition::invalid_input:
        return ec == boost::system::errc::invalid_argument;
    case condition::not_found:
        return ec == boost::system::errc::no_such_file_or_directory;
    default:
        return false;
    }
}

}  // namespace detail

/// An error as salama reports it: the code to branch on (compare it with an errc, a
/// salama::condition or any error_code enum) and, where there is more to say, one
/// human-readable detail ("invalid spec.behavior.tolerance: must be within [0, 1], got 1.5").
/// Secrets never go into a detail.
class error {
public:
    /// No error.
    error() = default;
    /// An error with a code only.
    error(error_code ec) noexcept : code_(ec) {}  // NOLINT(google-explicit-constructor)
    /// An error with a salama code only.
    error(errc e) noexcept : code_(make_error_code(e)) {}  // NOLINT(google-explicit-constructor)
    /// An error with a code and a detail.
    error(error_code ec, std::string detail) : code_(ec), detail_(std::move(detail)) {}
    /// An error with a salama code and a detail.
    error(errc e, std::string detail) : code_(make_error_code(e)), detail_(std::move(detail)) {}

    /// The code.
    const error_code& code() const noexcept { return code_; }
    /// The detail ("" when there is none).
    const std::string& detail() const noexcept { return detail_; }
    /// "<detail>" when there is one, else the code's message.
    std::string message() const { return detail_.empty() ? code_.message() : detail_; }
    /// True when this is an error.
    explicit operator bool() const noexcept { return static_cast<bool>(code_); }
    /// The code, for APIs that take an error_code.
    operator const error_code&() const noexcept { return code_; }  // NOLINT(google-explicit-constructor)

    /// Compares the code with anything an error_code compares with (errc, condition, ...).
    template <class E>
        requires(!std::is_same_v<E, error> && (boost::system::is_error_code_enum<E>::value ||
                                                boost::system::is_error_condition_enum<E>::value ||
                                                std::is_same_v<E, error_code> ||
                                                std::is_same_v<E, boost::system::error_condition>))
    friend bool operator==(const error& a, const E& e) noexcept {
        return a.code_ == e;
    }
    /// Two errors are equal when their codes are.
    friend bool operator==(const error& a, const error& b) noexcept { return a.code_ == b.code_; }

private:
    error_code code_{};
    std::string detail_{};
};

/// Prints the error's message.
inline std::ostream& operator<<(std::ostream& os, const error& e) { return os << e.message(); }

/// Lets `result<T>::value()` throw when it holds an error (misuse: check first).
[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw boost::system::system_error(e.code(), e.detail());
}

/// The library's result type: a value, or an error (a code and an optional detail).
template <class T>
using result = boost::system::result<T, error>;

}  // namespace salama

template <>
struct boost::system::is_error_code_enum<salama::errc> : std::true_type {};

template <>
struct boost::system::is_error_condition_enum<salama::condition> : std::true_type {};
