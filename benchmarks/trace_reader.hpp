// Reading key-access traces for trace_replay and the trace checks: tool code, not part of
// the library's public headers (it runs decompressors through popen).
#pragma once

#include "salama/core/error.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/wait.h>

namespace salama::caching {

/// Layout of a trace file.
enum class trace_format {
    lirs,     ///< text, one decimal integer key per line; lines starting with '*' are skipped
    i32be,    ///< binary, big-endian 32-bit signed keys back to back
    i64be,    ///< binary, big-endian 64-bit signed keys back to back
    address,  ///< text, `OP 0xHEX SIZE` per line (the key is the second field) or a bare
              ///< hexadecimal address; '#' starts a comment line
};

/// Parses a format name ("lirs", "i32be", "i64be", "address").
inline std::optional<trace_format> parse_trace_format(std::string_view s) noexcept {
    if (s == "lirs") return trace_format::lirs;
    if (s == "i32be") return trace_format::i32be;
    if (s == "i64be") return trace_format::i64be;
    if (s == "address") return trace_format::address;
    return std::nullopt;
}

namespace detail {

inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

inline std::string shell_quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    out += '\'';
    return out;
}

template <class F>
bool for_each_line(std::string_view bytes, F&& f) {
    std::size_t line_no = 0;
    while (!bytes.empty()) {
        ++line_no;
        const auto nl = bytes.find('\n');
        const auto line = bytes.substr(0, nl);
        if (!f(trim(line), line_no)) return false;
        if (nl == std::string_view::npos) break;
        bytes.remove_prefix(nl + 1);
    }
    return true;
}

}  // namespace detail

/// Parses trace bytes (already decompressed) into keys. On failure returns
/// errc::parse_error and sets `why` (e.g. "line 12: not an integer: 'x1'").
inline result<std::vector<std::uint64_t>> parse_trace(std::string_view bytes, trace_format format,
                                                      std::string& why) {
    std::vector<std::uint64_t> keys;
    auto fail = [&](std::string msg) -> result<std::vector<std::uint64_t>> {
        why = std::move(msg);
        return make_error_code(errc::parse_error);
    };
    switch (format) {
    case trace_format::lirs: {
        const bool ok = detail::for_each_line(bytes, [&](std::string_view line, std::size_t no) {
            if (line.empty() || line.front() == '*') return true;
            std::int64_t v = 0;
            auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
            if (ec != std::errc{} || end != line.data() + line.size()) {
                why = fmt::format("line {}: not an integer key: '{}'", no, line.substr(0, 40));
                return false;
            }
            keys.push_back(static_cast<std::uint64_t>(v));
            return true;
        });
        if (!ok) return make_error_code(errc::parse_error);
        break;
    }
    case trace_format::address: {
        const bool ok = detail::for_each_line(bytes, [&](std::string_view line, std::size_t no) {
            if (line.empty() || line.front() == '#') return true;
            // Caffeine's layout is `OP ADDRESS SIZE`; a line of one field is the address.
            std::string_view fields[4];
            std::size_t count = 0;
            for (std::string_view rest = line; !rest.empty() && count < 4;) {
                const auto end = rest.find_first_of(" \t");
                fields[count++] = rest.substr(0, end);
                if (end == std::string_view::npos) break;
                rest = detail::trim(rest.substr(end));
            }
            if (count == 2 || count > 3) {
                why = fmt::format("line {}: expected 'OP ADDRESS SIZE' or one address, got '{}'", no,
                                  line.substr(0, 40));
                return false;
            }
            auto digits = count == 1 ? fields[0] : fields[1];
            if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
            std::uint64_t v = 0;
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
            if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
                why = fmt::format("line {}: not a hexadecimal address: '{}'", no, line.substr(0, 40));
                return false;
            }
            if (count == 3) {
                std::uint64_t size = 0;
                const auto f = fields[2];
                auto [e2, ec2] = std::from_chars(f.data(), f.data() + f.size(), size);
                if (ec2 != std::errc{} || e2 != f.data() + f.size()) {
                    why = fmt::format("line {}: the size is not an integer: '{}'", no, line.substr(0, 40));
                    return false;
                }
            }
            keys.push_back(v);
            return true;
        });
        if (!ok) return make_error_code(errc::parse_error);
        break;
    }
    case trace_format::i32be:
    case trace_format::i64be: {
        const std::size_t width = format == trace_format::i32be ? 4 : 8;
        if (bytes.size() % width != 0)
            return fail(fmt::format("{} bytes is not a whole number of {}-byte keys (truncated file?)",
                                    bytes.size(), width));
        keys.reserve(bytes.size() / width);
        for (std::size_t i = 0; i < bytes.size(); i += width) {
            std::uint64_t v = 0;
            for (std::size_t b = 0; b < width; ++b)
                v = (v << 8) | static_cast<unsigned char>(bytes[i + b]);
            if (width == 4) v = static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(v)));
            keys.push_back(v);
        }
        break;
    }
    }
    if (keys.empty()) return fail("the trace holds no accesses");
    return keys;
}

/// The default cap on a trace's (decompressed) size: a bomb must not exhaust memory.
inline constexpr std::size_t default_max_trace_bytes = std::size_t{1} << 30;

/// Reads a whole file; names ending in ".gz" or ".xz" are decompressed by running
/// `gzip -dc` or `xz -dc`. More than `max_bytes` (after decompression) is an error. On
/// failure returns an error and sets `why`.
inline result<std::string> read_trace_bytes(const std::string& path, std::string& why,
                                            std::size_t max_bytes = default_max_trace_bytes) {
    std::FILE* probe = std::fopen(path.c_str(), "rb");
    if (!probe) {
        why = fmt::format("cannot open '{}'", path);
        return make_error_code(errc::not_found);
    }
    const bool gz = path.ends_with(".gz");
    const bool xz = path.ends_with(".xz");
    std::string out;
    char buf[1 << 16];
    std::size_t n = 0;
    auto too_large = [&] {
        why = fmt::format("'{}' holds more than {} bytes (decompressed): refusing to read it", path,
                          max_bytes);
        return make_error_code(errc::invalid_argument);
    };
    if (!gz && !xz) {
        while ((n = std::fread(buf, 1, sizeof buf, probe)) > 0) {
            if (out.size() + n > max_bytes) {
                std::fclose(probe);
                return too_large();
            }
            out.append(buf, n);
        }
        const bool err = std::ferror(probe) != 0;
        std::fclose(probe);
        if (err) {
            why = fmt::format("error reading '{}'", path);
            return make_error_code(errc::parse_error);
        }
        return out;
    }
    std::fclose(probe);
    const char* tool = gz ? "gzip" : "xz";
    const std::string cmd = fmt::format("{} -dc -- {} 2>/dev/null", tool, detail::shell_quote(path));
    std::FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        why = fmt::format("cannot run '{}' to decompress '{}'", tool, path);
        return make_error_code(errc::unavailable);
    }
    bool over = false;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        if (out.size() + n > max_bytes) {
            over = true;
            break;
        }
        out.append(buf, n);
    }
    const int status = pclose(p);
    if (over) return too_large();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        why = fmt::format("cannot decompress '{}': '{}' is not installed", path, tool);
        return make_error_code(errc::unavailable);
    }
    if (status != 0) {
        why = fmt::format("'{} -dc' failed on '{}' (exit status {}): not a valid {} file?", tool, path,
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, gz ? "gzip" : "xz");
        return make_error_code(errc::parse_error);
    }
    return out;
}

/// Reads and parses a trace file (see read_trace_bytes and parse_trace).
inline result<std::vector<std::uint64_t>> read_trace(const std::string& path, trace_format format,
                                                     std::string& why,
                                                     std::size_t max_bytes = default_max_trace_bytes) {
    auto bytes = read_trace_bytes(path, why, max_bytes);
    if (!bytes) return bytes.error();
    auto keys = parse_trace(*bytes, format, why);
    if (!keys) why = fmt::format("{}: {}", path, why);
    return keys;
}

}  // namespace salama::caching
