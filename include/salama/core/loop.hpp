// salama: the loop model every long-running component follows (the autoscaler, the health
// checker, the outlier monitor, and every later loop and adapter).
//
// - The loop is `awaitable<void> run()`: a coroutine that repeats a step and a wait until it is
//   cancelled. Await it under your own cancellation, or let the component's loop_runner own it
//   (start(), stop() from any thread, destruction while it runs).
// - What the loop touches is shared-owned by its coroutine frame (the component keeps a
//   shared_ptr to the same state), so destroying the component while its loop runs, or right
//   after stop(), is safe: the frame ends at its next resumption. Objects the component refers
//   to (source, actuator, registry) must outlive the executor's last handler of that loop.
// - Every call into user code that may wait (source, actuator, probe) goes through
//   call_with_deadline: it ends in a value, an error, or errc::timeout, never in a hang. An
//   exception from user code is an error of that step, whatever it is (an operation_aborted
//   included): only the component's own cancellation stops the loop.
#pragma once

#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace salama {

/// The executor every component runs its loop on: a strand over the user's executor, so
/// that the loop, its calls with deadlines and stop() never run at once.
using loop_executor = asio::strand<asio::any_io_executor>;

/// True if the calling coroutine was cancelled by whoever awaits or owns it. Loops start with
/// `co_await asio::this_coro::throw_if_cancelled(false)`, so that a cancelled await returns
/// instead of throwing and the loop checks this after each one.
inline awaitable<bool> cancelled_here() {
    auto cs = co_await asio::this_coro::cancellation_state;
    co_return cs.cancelled() != asio::cancellation_type::none;
}

/// Runs `op` (a call into user code) with a deadline of `limit`, on `ex`. Returns its result;
/// errc::timeout once `limit` passes (the call is then cancelled and left to finish on its
/// own: the caller does not wait for a call that ignores cancellation); errc::cancelled if the
/// awaiting coroutine is cancelled first; and, if `op` throws, the code of the exception
/// (for a system_error) or `on_throw`, with the exception's text as the detail. Must be
/// awaited from a coroutine running on `ex`.
template <class T>
awaitable<result<T>> call_with_deadline(loop_executor ex, awaitable<result<T>> op, duration limit,
                                        errc on_throw) {
    struct call_state {
        explicit call_state(const loop_executor& e) : wake(e) {}
        asio::steady_timer wake;
        asio::cancellation_signal cancel;
        std::optional<result<T>> value;
    };
    auto st = std::make_shared<call_state>(ex);
    asio::co_spawn(ex, std::move(op),
                   asio::bind_cancellation_slot(st->cancel.slot(), [st, on_throw](std::exception_ptr e, result<T> r) {
                       if (e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const boost::system::system_error& se) {
                               st->value.emplace(error(se.code(), se.what()));
                           } catch (const std::exception& ex2) {
                               st->value.emplace(error(on_throw, ex2.what()));
                           } catch (...) {
                               st->value.emplace(error(on_throw, "unknown exception"));
                           }
                       } else {
                           st->value.emplace(std::move(r));
                       }
                       st->wake.cancel();
                   }));
    if (!st->value) {
        st->wake.expires_after(limit);
        (void)co_await st->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (st->value) co_return std::move(*st->value);
    // Not done: our own cancellation, or the deadline. Either way the call is abandoned.
    st->cancel.emit(asio::cancellation_type::terminal);
    if (co_await cancelled_here()) co_return error(errc::cancelled);
    co_return error(errc::timeout, "no answer within the deadline");
}

/// Waits `d` on `timer`; returns false if the wait was cancelled (the loop should end).
inline awaitable<bool> wait_for(asio::steady_timer& timer, duration d) {
    timer.expires_after(d);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return !ec && !(co_await cancelled_here());
}

/// Owns one component's loop: starts it on the component's strand, stops it from any thread,
/// and stops it when destroyed. The loop's coroutine must own (by shared_ptr) everything it
/// touches; the runner itself may then be destroyed at any time.
class loop_runner {
public:
    /// A runner for loops on a strand of `ex`.
    explicit loop_runner(asio::any_io_executor ex) : st_(std::make_shared<state>(asio::make_strand(std::move(ex)))) {}

    loop_runner(const loop_runner&) = delete;
    loop_runner& operator=(const loop_runner&) = delete;

    /// Stops the loop (it ends at its next resumption; nothing it owns dangles).
    ~loop_runner() { stop(); }

    /// The strand the loop runs on.
    const loop_executor& executor() const noexcept { return st_->ex; }

    /// Starts `make_loop()` (a callable returning awaitable<void>) unless a loop started here
    /// is still running. Returns whether it started. Safe from any thread.
    template <class MakeLoop>
    bool start(MakeLoop make_loop) {
        bool expected = false;
        if (!st_->running.compare_exchange_strong(expected, true)) return false;
        st_->stop_requested.store(false, std::memory_order_release);
        asio::post(st_->ex, [st = st_, make_loop = std::move(make_loop)]() mutable {
            if (st->stop_requested.load(std::memory_order_acquire)) {
                st->running.store(false, std::memory_order_release);
                return;
            }
            asio::co_spawn(st->ex, make_loop(),
                           asio::bind_cancellation_slot(st->signal.slot(), [st](std::exception_ptr) {
                               st->running.store(false, std::memory_order_release);
                           }));
        });
        return true;
    }

    /// Asks the loop to stop: cancels its wait or the step in flight. Safe from any thread,
    /// and after the runner's executor has stopped (then nothing runs at all).
    void stop() noexcept {
        st_->stop_requested.store(true, std::memory_order_release);
        try {
            asio::post(st_->ex, [st = st_] { st->signal.emit(asio::cancellation_type::terminal); });
        } catch (...) {
            // The executor no longer accepts work: no loop can run to be stopped.
        }
    }

    /// True from start() until the loop has ended.
    bool running() const noexcept { return st_->running.load(std::memory_order_acquire); }

private:
    struct state {
        explicit state(loop_executor e) : ex(std::move(e)) {}
        loop_executor ex;
        asio::cancellation_signal signal;  // touched only on ex
        std::atomic<bool> running{false};
        std::atomic<bool> stop_requested{false};
    };
    std::shared_ptr<state> st_;
};

}  // namespace salama
