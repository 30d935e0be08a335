// salama: the live state of one pool (request type), shared by snapshots and handles.
#pragma once

#include "salama/balancing/node.hpp"
#include "salama/balancing/observer.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/metrics_registry.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace salama::balancing::detail {

/// Settings and the observer hub that outcome reports need after the pick.
struct balancer_shared {
    duration ewma_tau{};
    std::shared_ptr<outcome_hub> hub;
    /// Every node a handle may point at: the registry's nodes as of the last publish, and
    /// removed ones with requests still in flight. Handles hold plain pointers (taking a
    /// reference would touch each node's object on every pick); this keeps them valid,
    /// even after the balancer is gone. Changed only by the balancer's writer.
    std::vector<std::shared_ptr<node_state>> pinned{};
};

/// One pool's counters; lives as long as a snapshot or a handle refers to it.
struct pool_state {
    pool_state(std::string type, std::shared_ptr<const balancer_shared> s)
        : request_type(std::move(type)), shared(std::move(s)) {}

    const std::string request_type;
    const std::shared_ptr<const balancer_shared> shared;
    std::atomic<std::int64_t> in_flight{0};
    // Children of the balancer's metric families, resolved once (null without a registry).
    salama::counter* picks = nullptr;
    salama::counter* successes = nullptr;
    salama::counter* failures = nullptr;
};

}  // namespace salama::balancing::detail
