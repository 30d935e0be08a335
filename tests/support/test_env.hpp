// Helpers for tests that need something from the machine: a Redis fixture, a program.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sys/wait.h>

#include <fmt/format.h>

namespace salama::test {

/// Reports that the calling test cannot run here, with a reason, and returns: the caller
/// returns at once. The test run goes on (the other tests still run); ctest marks an entry
/// whose output holds "SKIPPED:" as skipped (salama_catch_test sets SKIP_REGULAR_EXPRESSION).
inline void report_skip(std::string_view why) {
    fmt::print(stderr, "SKIPPED: {}\n", why);
    std::fflush(stderr);
}

/// A Redis fixture's address and password (empty when it has none).
struct redis_fixture {
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    std::string password;
};

inline std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

/// Reads the fixture whose directory is in environment variable `env` (see
/// tests/support/fixtures.cmake); nullopt, with the reason reported, when there is none
/// (not run through ctest, or redis-server missing).
inline std::optional<redis_fixture> redis_from_env(const char* env) {
    const char* dir = std::getenv(env);
    if (!dir) {
        report_skip(fmt::format("{} not set: run this test through ctest", env));
        return std::nullopt;
    }
    const std::string port = read_first_line(std::string(dir) + "/port");
    if (port.empty() || port == "unavailable") {
        report_skip("redis-server is not installed (apt-get install redis-server)");
        return std::nullopt;
    }
    redis_fixture f;
    f.port = static_cast<unsigned short>(std::stoi(port));
    std::ifstream pw(std::string(dir) + "/password");
    if (pw) std::getline(pw, f.password);
    return f;
}

/// The full path of `program` if it is on PATH.
inline std::optional<std::string> find_program(std::string_view program) {
    const char* path = std::getenv("PATH");
    if (!path) return std::nullopt;
    std::string_view p(path);
    while (!p.empty()) {
        auto colon = p.find(':');
        auto dir = p.substr(0, colon);
        std::string candidate = fmt::format("{}/{}", dir, program);
        if (std::FILE* f = std::fopen(candidate.c_str(), "rb")) {
            std::fclose(f);
            return candidate;
        }
        if (colon == std::string_view::npos) break;
        p.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

/// Runs a shell command; returns its exit status and what it printed (stdout+stderr).
inline std::pair<int, std::string> run_command(const std::string& cmd) {
    std::string out;
    std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return {-1, "popen failed"};
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace salama::test
