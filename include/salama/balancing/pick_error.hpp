// salama: why a pick failed, naming the request type.
#pragma once

#include "salama/core/error.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>
#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace salama::balancing {

/// A failed pick: errc::empty_pool (no node serves the request type) or
/// errc::no_healthy_nodes (members exist but none may be routed to).
struct pick_error {
    error_code code{};           ///< the salama::errc condition
    /// The request type asked for: a view of the request's own bytes (a refused pick
    /// allocates nothing), valid as long as those.
    std::string_view request_type{};

    /// E.g. "no healthy nodes for request type 'inference'".
    std::string message() const {
        return fmt::format("{} for request type '{}'", code.message(), request_type);
    }
    friend bool operator==(const pick_error& e, errc c) noexcept { return e.code == make_error_code(c); }
    /// Prints message().
    template <class Ch, class Tr>
    friend std::basic_ostream<Ch, Tr>& operator<<(std::basic_ostream<Ch, Tr>& os, const pick_error& e) {
        return os << e.message().c_str();
    }
};

/// Lets `result<T, pick_error>::value()` throw a system_error carrying the message.
[[noreturn]] inline void throw_exception_from_error(const pick_error& e, const boost::source_location& loc) {
    boost::throw_exception(boost::system::system_error(e.code, e.message()), loc);
}

}  // namespace salama::balancing
