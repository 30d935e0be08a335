// salama: the autoscaler shell. An Asio coroutine loop on the user's executor: every
// period it reads the metric source, asks each target's recommender for a decision and
// applies it through the actuator for the target's resource type. Every step is isolated:
// a failure is logged, counted and survived, and a failed apply leaves the recommender's
// state as it was, so the next tick retries it (still clamped to max_replicas). It follows
// the library's loop model (core/loop.hpp): every call into the source and the actuators
// has a deadline, only the autoscaler's own cancellation stops it, and it may be destroyed
// while its loop runs.
#pragma once

#include "salama/core/actuator.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/log.hpp"
#include "salama/core/loop.hpp"
#include "salama/core/metric_source.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/telemetry.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace salama::scaling {

/// What a recommender offers the shell: a state, the pure evaluation, the failure path.
template <class R>
concept scaling_recommender = requires(const R& r, const scaling_input& in, typename R::state_type& st,
                                       error_code ec) {
    typename R::state_type;
    { r.initial_state() } -> std::same_as<typename R::state_type>;
    { r.evaluate_in_place(in, st) } -> std::same_as<decision>;
    { r.on_source_failure(in, st, ec) } -> std::same_as<decision>;
    { r.options().resource } -> std::convertible_to<std::string>;
};

/// An actuator that can also tell how many of its members are ready to serve (started and
/// passing their readiness checks). The autoscaler passes that to the policies, so an HPA
/// policy sees real readiness; other actuators' members all count as ready.
template <class A>
concept readiness_actuator = actuator<A> && requires(A& a) {
    { a.ready_members() } -> std::same_as<awaitable<result<std::int64_t>>>;
};

/// Which actuator applies the decisions of which resource type: one for all, or one each.
template <actuator Actuator>
class actuator_set {
public:
    /// No actuator yet; add() them.
    actuator_set() = default;
    /// One actuator for every resource type.
    explicit actuator_set(Actuator& all) : all_(&all) {}

    /// `a` applies the decisions about `resource`.
    actuator_set& add(std::string resource, Actuator& a) {
        by_resource_[std::move(resource)] = &a;
        return *this;
    }
    /// The actuator for `resource`, or nullptr.
    Actuator* find(std::string_view resource) const {
        if (auto it = by_resource_.find(resource); it != by_resource_.end()) return it->second;
        return all_;
    }

private:
    Actuator* all_ = nullptr;
    std::map<std::string, Actuator*, std::less<>> by_resource_;
};

/// Settings of the autoscaler shell.
struct autoscaler_options {
    std::string target = "default";              ///< what is scaled (scale_request::target)
    duration period = std::chrono::seconds(30);  ///< time between steps
    /// The deadline of each call into the source or an actuator: a call that runs longer is
    /// abandoned, counted as a failure of its stage and retried next step.
    duration call_timeout = std::chrono::seconds(10);

    /// Throws config_error naming the field.
    void validate() const {
        validator v{"autoscaler_options"};
        v.non_empty("target", target);
        v.positive("period", to_seconds(period));
        v.positive("call_timeout", to_seconds(call_timeout));
        v.throw_if_failed();
    }
};

/// What happened to one target in one step.
struct target_report {
    decision result{};      ///< the recommender's decision
    bool applied = false;   ///< the actuator took a change
    error_code error{};     ///< why the target's step failed, if it did
};

/// What one step did.
struct step_report {
    time_point at{};
    bool source_ok = false;                ///< the metric source answered
    error_code source_error{};             ///< why not
    std::vector<target_report> targets{};  ///< one per target that got as far as a decision
    std::size_t errors = 0;                ///< failures counted in this step
};

/// The loop. `Source` gives snapshots, `Actuator` applies sizes, `Recommender` decides (one
/// per scaled target, each with its own resource type). Time comes from a clock_ref (the
/// system clocks by default). start()/stop() and destruction are safe from any thread, also
/// while the loop runs; step() and run() may be awaited directly instead of start().
///
/// Series (every one labelled `name`, the telemetry's instance name):
///   salama_autoscaler_steps_total, salama_autoscaler_errors_total{stage},
///   salama_autoscaler_decisions_total{resource,direction},
///   salama_autoscaler_scale_actions_total{resource,direction,outcome},
///   salama_autoscaler_fallbacks_total{resource}, salama_autoscaler_current_replicas{resource},
///   salama_autoscaler_desired_replicas{resource}.
template <metric_source Source, actuator Actuator, scaling_recommender Recommender>
class autoscaler {
public:
    /// Throws config_error naming the field: bad options, no targets, two targets with
    /// one resource type, a resource type without an actuator, an empty instance name.
    autoscaler(asio::any_io_executor ex, Source& source, actuator_set<Actuator> actuators,
               std::vector<Recommender> targets, autoscaler_options opts = {}, telemetry tel = {},
               clock_ref clock = {})
        : loop_(std::move(ex)),
          impl_(std::make_shared<impl>(loop_.executor(), source, std::move(actuators), std::move(targets),
                                       std::move(opts), std::move(tel), clock)) {}

    /// One target scaled by one actuator.
    autoscaler(asio::any_io_executor ex, Source& source, Actuator& actuator, Recommender target,
               autoscaler_options opts = {}, telemetry tel = {}, clock_ref clock = {})
        : autoscaler(std::move(ex), source, actuator_set<Actuator>(actuator),
                     std::vector<Recommender>{std::move(target)}, std::move(opts), std::move(tel), clock) {}

    autoscaler(const autoscaler&) = delete;
    autoscaler& operator=(const autoscaler&) = delete;
    /// Stops the loop; safe while it runs (it ends at its next resumption). Waits for an
    /// on_step callback in progress on another thread, and calls it no more.
    ~autoscaler() {
        loop_.stop();
        std::lock_guard lk(impl_->callback_mu);
        impl_->on_step = nullptr;
    }

    /// Called after every step with its report, on the loop's strand (and never after the
    /// autoscaler's destructor returned). A callback that throws is logged and counted
    /// (stage "on_step"); the loop goes on. It may call stop() or destroy the autoscaler.
    void on_step(std::function<void(const step_report&)> f) {
        std::lock_guard lk(impl_->callback_mu);
        impl_->on_step = std::move(f);
    }

    /// Starts the loop on the executor. Does nothing (returns false) while a loop started
    /// here still runs. Safe from any thread.
    bool start() {
        return loop_.start([self = impl_] { return impl::loop(self); });
    }

    /// Stops the loop: cancels the wait or the step in flight. Safe from any thread.
    void stop() noexcept { loop_.stop(); }

    /// True from start() until the loop started by it has ended.
    bool running() const noexcept { return loop_.running(); }

    /// The loop: a step, then a wait of one period, until the awaiting coroutine is
    /// cancelled. Runs on the autoscaler's strand; await it under your own cancellation.
    awaitable<void> run() { return asio::co_spawn(loop_.executor(), impl::loop(impl_), asio::use_awaitable); }

    /// One step: read, decide, apply, count, log. Never throws for a failing source,
    /// actuator, policy or callback.
    awaitable<step_report> step() {
        return asio::co_spawn(loop_.executor(), impl::step(impl_), asio::use_awaitable);
    }

    /// The recommender state of target `i` (for inspection and tests; read it while no step
    /// runs).
    const typename Recommender::state_type& state(std::size_t i) const { return impl_->targets.at(i).state; }
    /// The options.
    const autoscaler_options& options() const noexcept { return impl_->opts; }
    /// Where the autoscaler reports (its registry is the private one if none was given).
    const telemetry& telemetry_handle() const noexcept { return impl_->tel.handle(); }

private:
    struct target {
        Recommender rec;
        typename Recommender::state_type state;
    };

    // Everything the loop touches, shared by the autoscaler and the loop's coroutine frames.
    struct impl {
        impl(loop_executor e, Source& src, actuator_set<Actuator> acts, std::vector<Recommender> recs,
             autoscaler_options o, telemetry t, clock_ref c)
            : ex(std::move(e)), source(&src), actuators(std::move(acts)), opts((o.validate(), std::move(o))),
              tel(std::move(t), "autoscaler.telemetry"), clock(c),
              steps(tel.counter("salama_autoscaler_steps_total", "Autoscaler steps run.").with()),
              errors(tel.counter("salama_autoscaler_errors_total", "Autoscaler step failures survived, by stage.",
                                 {"stage"})),
              decisions(tel.counter("salama_autoscaler_decisions_total", "Scaling decisions, by direction.",
                                    {"resource", "direction"})),
              actions(tel.counter("salama_autoscaler_scale_actions_total",
                                  "Scaling actions sent to an actuator, by outcome.",
                                  {"resource", "direction", "outcome"})),
              fallbacks(tel.counter("salama_autoscaler_fallbacks_total",
                                    "Decisions made by the fallback because metrics failed.", {"resource"})),
              current(tel.gauge("salama_autoscaler_current_replicas", "Size reported by the actuator.",
                                {"resource"})),
              desired(tel.gauge("salama_autoscaler_desired_replicas", "Size last decided.", {"resource"})) {
            validator v{"autoscaler"};
            v.check(!recs.empty(), "targets", "must not be empty");
            for (std::size_t i = 0; i < recs.size(); ++i) {
                const std::string res = recs[i].options().resource;
                v.check(actuators.find(res) != nullptr, fmt::format("targets[{}].resource", i),
                        fmt::format("no actuator for resource type '{}'", res));
                for (std::size_t j = 0; j < i; ++j)
                    v.check(recs[j].options().resource != res, fmt::format("targets[{}].resource", i),
                            fmt::format("resource type '{}' is already scaled by targets[{}]", res, j));
            }
            v.throw_if_failed();
            for (auto& r : recs) {
                auto st = r.initial_state();
                targets.push_back(target{std::move(r), std::move(st)});
            }
        }

        const std::string& name() const noexcept { return tel.name(); }

        void count_error(step_report& rep, std::string_view stage) {
            ++rep.errors;
            (void)errors.with({stage}).inc();
        }

        static awaitable<void> loop(std::shared_ptr<impl> self) {
            co_await asio::this_coro::throw_if_cancelled(false);  // we check, and say why we stop
            asio::steady_timer timer(self->ex);
            for (;;) {
                std::string failure;
                try {
                    (void)co_await step(self);
                } catch (const std::exception& e) {
                    // step() survives its own failures; this is cancellation reaching an await.
                    failure = e.what();
                }
                if (co_await cancelled_here()) break;
                if (!failure.empty()) {
                    (void)self->errors.with({"step"}).inc();
                    self->tel.log().error("autoscaler {}: step failed: {}", self->name(), failure);
                }
                if (!co_await wait_for(timer, self->opts.period)) break;
            }
            self->tel.log().info("autoscaler {}: stopped", self->name());
        }

        static awaitable<step_report> step(std::shared_ptr<impl> self) {
            co_await asio::this_coro::throw_if_cancelled(false);
            impl& s = *self;
            step_report rep;
            time_point now{};
            wall_time wall{};
            try {
                now = s.clock.now();
                wall = s.clock.wall_now();
            } catch (const std::exception& e) {
                // A clock that throws ends this step, not the loop.
                s.count_error(rep, "clock");
                s.tel.log().error("autoscaler {}: clock threw: {}", s.name(), e.what());
                co_return rep;
            }
            rep.at = now;
            (void)s.steps.inc();

            result<snapshot> snap =
                co_await call_with_deadline(s.ex, s.source->read(), s.opts.call_timeout, errc::source_failed);
            if (co_await cancelled_here()) co_return rep;
            rep.source_ok = snap.has_value();
            if (!snap) {
                rep.source_error = snap.error();
                s.count_error(rep, "source");
                s.tel.log().warn("autoscaler {}: metric source failed: {}", s.name(), snap.error().message());
            }

            for (auto& t : s.targets) {
                target_report tr = co_await step_target(self, t, snap, now, wall, rep);
                if (co_await cancelled_here()) co_return rep;
                rep.targets.push_back(std::move(tr));
            }

            // Called under the lock, so that the destructor can wait for it to finish.
            std::lock_guard lk(s.callback_mu);
            if (s.on_step) {
                // A copy: the callback may replace itself or destroy the autoscaler.
                auto cb = s.on_step;
                try {
                    cb(rep);
                } catch (const std::exception& e) {
                    s.count_error(rep, "on_step");
                    s.tel.log().error("autoscaler {}: on_step callback threw: {}", s.name(), e.what());
                } catch (...) {
                    s.count_error(rep, "on_step");
                    s.tel.log().error("autoscaler {}: on_step callback threw", s.name());
                }
            }
            co_return rep;
        }

        static awaitable<target_report> step_target(std::shared_ptr<impl> self, target& t,
                                                    const result<snapshot>& snap, time_point now, wall_time wall,
                                                    step_report& rep) {
            impl& s = *self;
            const std::string& res = t.rec.options().resource;
            Actuator& act = *s.actuators.find(res);
            target_report tr;
            auto fail = [&](std::string_view stage, const error& e) {
                tr.error = e.code();
                s.count_error(rep, stage);
                s.tel.log().warn("autoscaler {}: {} for {} failed ({}); retried next step", s.name(), stage, res,
                                 e.message());
            };

            auto cur = co_await call_with_deadline(s.ex, act.current_size(), s.opts.call_timeout,
                                                   errc::actuator_failed);
            if (co_await cancelled_here()) co_return tr;
            if (!cur) {
                fail("current_size", cur.error());
                co_return tr;
            }
            if (*cur < 0) {
                fail("current_size", error(errc::invalid_argument,
                                           fmt::format("actuator reported a negative size {}", *cur)));
                co_return tr;
            }
            std::optional<std::int64_t> ready;
            if constexpr (readiness_actuator<Actuator>) {
                auto r = co_await call_with_deadline(s.ex, act.ready_members(), s.opts.call_timeout,
                                                     errc::actuator_failed);
                if (co_await cancelled_here()) co_return tr;
                if (!r) {
                    fail("ready_members", r.error());
                    co_return tr;
                }
                if (*r < 0 || *r > *cur) {
                    fail("ready_members", error(errc::invalid_argument,
                                                fmt::format("actuator reported {} ready of {} members", *r, *cur)));
                    co_return tr;
                }
                ready = *r;
            }
            (void)s.current.with({res}).set(static_cast<double>(*cur));

            // The decision works on a copy of the state, committed only once carried out.
            auto st = t.state;
            try {
                const snapshot empty(now);
                const scaling_input in{snap ? *snap : empty, *cur, ready, now, wall};
                tr.result = snap ? t.rec.evaluate_in_place(in, st) : t.rec.on_source_failure(in, st, snap.error());
            } catch (const std::exception& e) {
                fail("evaluate", error(errc::invalid_argument, e.what()));
                co_return tr;
            }
            s.record(tr.result);
            if (tr.result.changes()) {
                scale_request req{s.opts.target, res, tr.result.current, tr.result.desired,
                                  tr.result.why.to_string(), now};
                auto out = co_await call_with_deadline(s.ex, act.apply(req), s.opts.call_timeout,
                                                       errc::actuator_failed);
                if (co_await cancelled_here()) co_return tr;
                const auto dir = to_string(tr.result.dir());
                if (!out) {
                    (void)s.actions.with({res, dir, "failed"}).inc();
                    fail("apply", out.error());
                    co_return tr;
                }
                tr.applied = true;
                (void)s.actions.with({res, dir, "applied"}).inc();
                s.tel.log().info("autoscaler {}: scaled {} {} -> {} (applied {}): {}", s.name(), res,
                                 tr.result.current, tr.result.desired, out->applied, tr.result.why.to_string());
            }
            t.state = std::move(st);
            co_return tr;
        }

        void record(const decision& d) {
            const auto dir = to_string(d.dir());
            (void)decisions.with({d.resource, dir}).inc();
            (void)desired.with({d.resource}).set(static_cast<double>(d.desired));
            if (d.fallback) (void)fallbacks.with({d.resource}).inc();
            if (d.changes())
                tel.log().info("autoscaler {}: decided {} {} -> {}: {}", name(), d.resource, d.current, d.desired,
                               d.why.to_string());
            else
                tel.log().debug("autoscaler {}: {} stays at {}: {}", name(), d.resource, d.current,
                                d.why.to_string());
        }

        loop_executor ex;
        Source* source;
        actuator_set<Actuator> actuators;
        autoscaler_options opts;
        bound_telemetry tel;
        clock_ref clock;
        salama::counter& steps;
        instance_family<salama::counter> errors;
        instance_family<salama::counter> decisions;
        instance_family<salama::counter> actions;
        instance_family<salama::counter> fallbacks;
        instance_family<salama::gauge> current;
        instance_family<salama::gauge> desired;
        std::vector<target> targets;
        std::recursive_mutex callback_mu;
        std::function<void(const step_report&)> on_step;
    };

    loop_runner loop_;
    std::shared_ptr<impl> impl_;
};

/// Deduces the autoscaler's types from its arguments (one target, one actuator).
template <metric_source Source, actuator Actuator, scaling_recommender Recommender, class... Rest>
autoscaler(asio::any_io_executor, Source&, Actuator&, Recommender, Rest&&...)
    -> autoscaler<Source, Actuator, Recommender>;

/// Deduces the autoscaler's types from its arguments (several targets).
template <metric_source Source, actuator Actuator, scaling_recommender Recommender, class... Rest>
autoscaler(asio::any_io_executor, Source&, actuator_set<Actuator>, std::vector<Recommender>, Rest&&...)
    -> autoscaler<Source, Actuator, Recommender>;

}  // namespace salama::scaling
