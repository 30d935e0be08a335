// salama: a string that never prints itself (passwords, bearer tokens).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace salama {

/// Holds a credential. Formatting it with fmt prints "<redacted>", so a secret that
/// slips into a log line or an error message does not leak.
class secret {
public:
    secret() = default;
    /// Wraps `value`.
    explicit secret(std::string value) : value_(std::move(value)) {}

    /// The credential itself; call only where it is sent to its peer.
    const std::string& reveal() const noexcept { return value_; }
    /// True if no credential is set.
    bool empty() const noexcept { return value_.empty(); }
    friend bool operator==(const secret&, const secret&) = default;

private:
    std::string value_;
};

}  // namespace salama

/// Prints "<redacted>" (or "<none>" when empty), never the value.
template <>
struct fmt::formatter<salama::secret> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const salama::secret& s, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(s.empty() ? "<none>" : "<redacted>", ctx);
    }
};
