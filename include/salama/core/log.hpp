// salama: logging sinks and the type-erased logger that components hold.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <concepts>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salama {

/// Severity of a log line.
enum class log_level { trace, debug, info, warn, error, off };

/// The short name of a level ("info", ...).
constexpr std::string_view to_string(log_level l) noexcept {
    switch (l) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
    }
    return "?";
}

/// Where log lines go. `enabled` lets callers skip formatting lines nobody reads.
template <class S>
concept log_sink = requires(S& s, log_level l, std::string_view msg) {
    { s.enabled(l) } -> std::convertible_to<bool>;
    s.write(l, msg);
};

/// Discards everything.
struct null_sink {
    bool enabled(log_level) const noexcept { return false; }
    void write(log_level, std::string_view) noexcept {}
};

/// Writes "<level> <message>" lines to a FILE* (stderr by default), formatted with fmt.
class fmt_sink {
public:
    /// Writes lines at `min` and above to `out`.
    explicit fmt_sink(log_level min = log_level::info, std::FILE* out = stderr)
        : min_(min), out_(out) {}
    bool enabled(log_level l) const noexcept { return l >= min_ && l != log_level::off; }
    void write(log_level l, std::string_view msg) {
        std::lock_guard lk(mu_);
        fmt::print(out_, "[salama] {:<5} {}\n", to_string(l), msg);
        std::fflush(out_);
    }

private:
    log_level min_;
    std::FILE* out_;
    std::mutex mu_;
};

/// Keeps every line in memory; for tests.
class memory_sink {
public:
    bool enabled(log_level) const noexcept { return true; }
    void write(log_level l, std::string_view msg) {
        std::lock_guard lk(mu_);
        lines_.emplace_back(l, std::string(msg));
    }
    /// All lines written so far.
    std::vector<std::pair<log_level, std::string>> lines() const {
        std::lock_guard lk(mu_);
        return lines_;
    }
    /// True if some line contains `needle`.
    bool contains(std::string_view needle) const {
        std::lock_guard lk(mu_);
        for (const auto& [l, s] : lines_)
            if (s.find(needle) != std::string::npos) return true;
        return false;
    }

private:
    mutable std::mutex mu_;
    std::vector<std::pair<log_level, std::string>> lines_;
};

/// A cheap-to-copy handle to any log_sink; what components hold. Default: discards.
class logger {
public:
    /// A logger that discards everything.
    logger() = default;

    /// Shares ownership of `sink`.
    template <log_sink Sink>
    explicit logger(std::shared_ptr<Sink> sink) : impl_(std::make_shared<model<Sink>>(std::move(sink))) {}

    /// True if a line at `l` would be written.
    bool enabled(log_level l) const { return impl_ && impl_->enabled(l); }

    /// Formats and writes a line if `l` is enabled.
    template <class... Args>
    void log(log_level l, fmt::format_string<Args...> f, Args&&... args) const {
        if (!enabled(l)) return;
        impl_->write(l, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::debug, f, std::forward<Args>(a)...); }
    template <class... Args>
    void info(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::info, f, std::forward<Args>(a)...); }
    template <class... Args>
    void warn(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::warn, f, std::forward<Args>(a)...); }
    template <class... Args>
    void error(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::error, f, std::forward<Args>(a)...); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual bool enabled(log_level) const = 0;
        virtual void write(log_level, std::string_view) const = 0;
    };
    template <class Sink>
    struct model final : concept_t {
        explicit model(std::shared_ptr<Sink> s) : sink(std::move(s)) {}
        bool enabled(log_level l) const override { return sink->enabled(l); }
        void write(log_level l, std::string_view m) const override { sink->write(l, m); }
        std::shared_ptr<Sink> sink;
    };
    std::shared_ptr<const concept_t> impl_;
};

/// A logger writing to stderr at `min` and above.
inline logger make_stderr_logger(log_level min = log_level::info) {
    return logger(std::make_shared<fmt_sink>(min, stderr));
}

}  // namespace salama
