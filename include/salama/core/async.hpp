// salama: the library's async style.
//
// Every asynchronous operation in salama is a C++20 coroutine returning
// `boost::asio::awaitable<T>`. Await it from a coroutine, or start it with
// `boost::asio::co_spawn(executor, op, token)` and any completion token
// (`asio::deferred`, `asio::use_future`, a callback, ...).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace salama {
namespace asio = boost::asio;

/// The awaitable type returned by every async operation of the library.
template <class T>
using awaitable = boost::asio::awaitable<T>;
}  // namespace salama
