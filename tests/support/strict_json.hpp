// salama tests: strict reading of JSON test vectors for the conformance runners. Every access
// names its JSON path in the error; `only_keys` makes an unknown or misspelled key an error
// instead of a silently dropped assertion. Include Boost.JSON (or its src.hpp) before this.
#pragma once

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace salama::strict_json {

namespace json = boost::json;

/// A vector or file that does not follow its schema; the message starts with the JSON path.
struct bad_input : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// "path.key".
inline std::string join(const std::string& path, std::string_view key) { return fmt::format("{}.{}", path, key); }
/// "path[i]": an array item.
inline std::string item(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

/// Throws bad_input naming `path.key` for the first key of `o` not in `allowed`.
inline void only_keys(const json::object& o, const std::string& path, std::initializer_list<std::string_view> allowed) {
    for (const auto& kv : o) {
        bool known = false;
        for (auto a : allowed) known = known || kv.key() == a;
        if (!known) throw bad_input(fmt::format("{}: unknown field", join(path, kv.key())));
    }
}

inline const json::object& as_object(const json::value& v, const std::string& path) {
    if (!v.is_object()) throw bad_input(fmt::format("{}: expected an object", path));
    return v.get_object();
}

/// `v` as an object holding only `allowed` keys.
inline const json::object& as_object(const json::value& v, const std::string& path,
                                     std::initializer_list<std::string_view> allowed) {
    const auto& o = as_object(v, path);
    only_keys(o, path, allowed);
    return o;
}

inline const json::array& as_array(const json::value& v, const std::string& path) {
    if (!v.is_array()) throw bad_input(fmt::format("{}: expected an array", path));
    return v.get_array();
}

/// A finite number (integers are exact up to 2^53).
inline double as_number(const json::value& v, const std::string& path) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double() && std::isfinite(v.get_double())) return v.get_double();
    throw bad_input(fmt::format("{}: expected a number", path));
}

/// An integer within +-9e15 (written without a fraction, or as a whole double).
inline std::int64_t as_int(const json::value& v, const std::string& path) {
    if (v.is_int64() && v.get_int64() >= -9'000'000'000'000'000 && v.get_int64() <= 9'000'000'000'000'000)
        return v.get_int64();
    const double d = as_number(v, path);
    if (d != std::floor(d) || std::abs(d) > 9.0e15)
        throw bad_input(fmt::format("{}: expected an integer, got {}", path, d));
    return static_cast<std::int64_t>(d);
}

inline std::int32_t as_int32(const json::value& v, const std::string& path) {
    const auto i = as_int(v, path);
    if (i < INT32_MIN || i > INT32_MAX) throw bad_input(fmt::format("{}: out of the int32 range", path));
    return static_cast<std::int32_t>(i);
}

inline std::string as_string(const json::value& v, const std::string& path) {
    if (!v.is_string()) throw bad_input(fmt::format("{}: expected a string", path));
    return std::string(v.get_string());
}

inline bool as_bool(const json::value& v, const std::string& path) {
    if (!v.is_bool()) throw bad_input(fmt::format("{}: expected true or false", path));
    return v.get_bool();
}

/// o[key]; throws naming the path when missing.
inline const json::value& at(const json::object& o, std::string_view key, const std::string& path) {
    auto it = o.find(key);
    if (it == o.end()) throw bad_input(fmt::format("{}: missing", join(path, key)));
    return it->value();
}

/// True when `key` is present and not null.
inline bool has(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && !it->value().is_null();
}

inline std::int32_t int32_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_int32(at(o, k, p), join(p, k));
}
inline std::int64_t int_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_int(at(o, k, p), join(p, k));
}
inline double number_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_number(at(o, k, p), join(p, k));
}
inline std::string string_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_string(at(o, k, p), join(p, k));
}
inline bool bool_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_bool(at(o, k, p), join(p, k));
}
inline const json::array& array_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_array(at(o, k, p), join(p, k));
}
inline const json::object& object_at(const json::object& o, std::string_view k, const std::string& p) {
    return as_object(at(o, k, p), join(p, k));
}
/// o[key] as an object holding only `allowed` keys.
inline const json::object& object_at(const json::object& o, std::string_view k, const std::string& p,
                                     std::initializer_list<std::string_view> allowed) {
    return as_object(at(o, k, p), join(p, k), allowed);
}

/// The parsed file, or a one-line reason it cannot be used.
struct parsed_file {
    json::value root;
    std::string error;
};

/// Reads and parses `file`.
inline parsed_file read_file(const std::string& file) {
    std::ifstream f(file, std::ios::binary);
    if (!f) return {{}, "cannot open the file"};
    std::stringstream buf;
    buf << f.rdbuf();
    boost::system::error_code ec;
    json::value root = json::parse(buf.str(), ec);
    if (ec) return {{}, fmt::format("not valid JSON: {}", ec.message())};
    return {std::move(root), {}};
}

/// A runner's command line: FILE... plus `--expect N` (the number of vectors the files must
/// hold, so that a vector lost from a file fails the run) and flags of its own.
struct runner_args {
    std::vector<std::string> files;
    std::optional<long> expect;
    std::vector<std::string> flags;  ///< the `--name` options given, among those allowed
    std::string error;               ///< non-empty when the command line is wrong

    /// True when `--name` was given.
    bool flag(std::string_view name) const {
        for (const auto& f : flags)
            if (f == name) return true;
        return false;
    }
};

/// Parses argv; `allowed_flags` are the runner's own `--name` options.
inline runner_args parse_args(int argc, char** argv, std::initializer_list<std::string_view> allowed_flags = {}) {
    runner_args a;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--expect") {
            if (i + 1 >= argc) {
                a.error = "--expect needs a number";
                return a;
            }
            const std::string n = argv[++i];
            std::size_t used = 0;
            long v = -1;
            try {
                v = std::stol(n, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != n.size() || v < 0) {
                a.error = fmt::format("--expect needs a non-negative number, got \"{}\"", n);
                return a;
            }
            a.expect = v;
        } else if (arg.size() > 2 && arg.substr(0, 2) == "--") {
            bool known = false;
            for (auto f : allowed_flags) known = known || arg == f;
            if (!known) {
                a.error = fmt::format("unknown option {}", arg);
                return a;
            }
            a.flags.emplace_back(arg);
        } else {
            a.files.emplace_back(arg);
        }
    }
    if (a.files.empty()) a.error = "no vector file given";
    return a;
}

/// Vectors that passed and failed.
struct tally {
    long passed = 0;
    long failed = 0;
};

/// Prints the last line, "N passed, M failed", and gives the exit status: 0 when every vector
/// passed and the count matches --expect, 1 when one failed or the count is off, 2 when a file
/// could not be used.
inline int finish(const tally& t, const runner_args& a, bool file_error) {
    bool count_off = false;
    if (a.expect && t.passed + t.failed != *a.expect) {
        fmt::print("expected {} vectors, found {}\n", *a.expect, t.passed + t.failed);
        count_off = true;
    }
    fmt::print("{} passed, {} failed\n", t.passed, t.failed);
    if (file_error) return 2;
    return t.failed == 0 && t.passed > 0 && !count_off ? 0 : 1;
}

}  // namespace salama::strict_json
