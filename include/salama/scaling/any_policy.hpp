// salama: run-time composition. any_policy holds any scaling_policy behind one type, and
// dynamic_recommender combines a list of them chosen at run time (from a configuration
// file, say) exactly as recommender<...> combines its compile-time list.
#pragma once

#include "salama/scaling/decision.hpp"
#include "salama/scaling/detail/combine.hpp"
#include "salama/scaling/recommender.hpp"
#include "salama/scaling/recommender_options.hpp"

#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace salama::scaling {

/// Any scaling_policy, type-erased. Copies share the (immutable) policy; states are values.
class any_policy {
    struct state_base {
        virtual ~state_base() = default;
        virtual std::unique_ptr<state_base> clone() const = 0;
    };
    template <class S>
    struct state_model final : state_base {
        explicit state_model(S s) : value(std::move(s)) {}
        std::unique_ptr<state_base> clone() const override { return std::make_unique<state_model>(value); }
        S value;
    };

public:
    /// The wrapped policy's state, as a copyable value.
    class state_type {
    public:
        state_type() = default;
        explicit state_type(std::unique_ptr<state_base> p) : p_(std::move(p)) {}
        state_type(const state_type& o) : p_(o.p_ ? o.p_->clone() : nullptr) {}
        state_type(state_type&&) noexcept = default;
        state_type& operator=(const state_type& o) {
            if (this != &o) p_ = o.p_ ? o.p_->clone() : nullptr;
            return *this;
        }
        state_type& operator=(state_type&&) noexcept = default;
        ~state_type() = default;

    private:
        friend class any_policy;
        std::unique_ptr<state_base> p_;
    };

    /// Wraps `p`.
    // The self check comes first: checking scaling_policy<any_policy> asks whether it is
    // copyable, which would consider this constructor again.
    template <class P>
        requires(!std::is_same_v<std::remove_cvref_t<P>, any_policy> && scaling_policy<P>)
    explicit any_policy(P p) : impl_(std::make_shared<const model<P>>(std::move(p))) {}

    /// The wrapped policy's name.
    const std::string& name() const noexcept { return impl_->name; }
    /// The wrapped policy's initial state.
    state_type initial_state() const { return state_type(impl_->initial()); }
    /// The wrapped policy's recommendation. `st` must come from this policy's initial_state().
    recommendation recommend(const scaling_input& in, state_type& st) const {
        if (!st.p_) st.p_ = impl_->initial();
        return impl_->recommend(in, *st.p_);
    }

    /// Passes the final decision to the wrapped policy.
    void on_decision(const decision& d, state_type& st) const {
        if (st.p_) impl_->on_decision(d, *st.p_);
    }

private:
    struct concept_t {
        explicit concept_t(std::string n) : name(std::move(n)) {}
        virtual ~concept_t() = default;
        virtual std::unique_ptr<state_base> initial() const = 0;
        virtual recommendation recommend(const scaling_input&, state_base&) const = 0;
        virtual void on_decision(const decision&, state_base&) const = 0;
        std::string name;
    };
    template <class P>
    struct model final : concept_t {
        explicit model(P p) : concept_t(std::string(p.name())), policy(std::move(p)) {}
        std::unique_ptr<state_base> initial() const override {
            return std::make_unique<state_model<typename P::state_type>>(policy.initial_state());
        }
        recommendation recommend(const scaling_input& in, state_base& st) const override {
            return policy.recommend(in, static_cast<state_model<typename P::state_type>&>(st).value);
        }
        void on_decision(const decision& d, state_base& st) const override {
            notify_decision(policy, d, static_cast<state_model<typename P::state_type>&>(st).value);
        }
        P policy;
    };

    std::shared_ptr<const concept_t> impl_;
};

static_assert(scaling_policy<any_policy>);

/// A recommender over policies chosen at run time; same semantics as recommender<...>.
class dynamic_recommender {
public:
    /// Each policy's state and the count of consecutive metric failures.
    struct state_type {
        std::vector<any_policy::state_type> policies;
        std::size_t consecutive_failures = 0;
    };

    /// Validates `opts` and that there is a policy (config_error naming the field).
    dynamic_recommender(recommender_options opts, std::vector<any_policy> policies)
        : opts_(std::move(opts)), policies_(std::move(policies)) {
        opts_.validate();
        validator{"recommender"}.check(!policies_.empty(), "policies", "must not be empty").throw_if_failed();
    }

    /// The options.
    const recommender_options& options() const noexcept { return opts_; }
    /// The policies, in evaluation order.
    const std::vector<any_policy>& policies() const noexcept { return policies_; }

    /// Each policy's initial state.
    state_type initial_state() const {
        state_type st;
        for (const auto& p : policies_) st.policies.push_back(p.initial_state());
        return st;
    }

    /// The pure form: the decision and the new state; `state` is not touched.
    evaluation<state_type> evaluate(const scaling_input& in, const state_type& state) const {
        evaluation<state_type> e{{}, state};
        e.result = evaluate_in_place(in, e.state);
        return e;
    }

    /// The same, updating `state` in place.
    decision evaluate_in_place(const scaling_input& in, state_type& state) const {
        if (state.policies.size() != policies_.size()) state = initial_state();
        std::vector<recommendation> recs;
        recs.reserve(policies_.size());
        for (std::size_t i = 0; i < policies_.size(); ++i)
            recs.push_back(policies_[i].recommend(in, state.policies[i]));
        decision d = detail::combine(std::span<recommendation>(recs), in, state.consecutive_failures, opts_);
        for (std::size_t i = 0; i < policies_.size(); ++i) policies_[i].on_decision(d, state.policies[i]);
        return d;
    }

    /// The decision when the metric source failed with `ec` (see recommender<...>).
    decision on_source_failure(const scaling_input& in, state_type& state, error_code ec) const {
        decision d;
        d.resource = opts_.resource;
        d.current = in.current;
        return detail::fail(in, state.consecutive_failures, opts_,
                            fmt::format("metric source failed: {}", ec.message()), {}, std::move(d));
    }

private:
    recommender_options opts_;
    std::vector<any_policy> policies_;
};

}  // namespace salama::scaling
