// What the README's code blocks take from their surroundings, declared so that the blocks
// compile as they are written (see readme_blocks.py). Nothing here runs.
#pragma once

#include <salama/salama.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

using namespace std::chrono_literals;

namespace readme_context {

inline boost::asio::io_context io;       // the application's executor
inline salama::time_point now{};         // the caller's clock reading
inline std::string payload;              // the request's routing key
inline salama::logger log;               // the application's logger
inline salama::metrics_registry registry;
inline std::uint64_t key = 0;
inline std::string value;

inline void send_to(std::string_view) {}
template <class T>
void use(const T&) {}

}  // namespace readme_context
