// salama: the immutable view pickers read: every pool with its candidates and picker table.
#pragma once

#include "salama/balancing/detail/pool_state.hpp"
#include "salama/balancing/node_entry.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace salama::balancing {

/// One pool inside a routing_snapshot.
template <class Table>
struct pool_snapshot {
    std::string request_type{};
    detail::pool_state* state = nullptr;   ///< live counters shared across snapshots (kept by the balancer)
    std::vector<node_entry> nodes{};       ///< every member, id order
    std::vector<node_entry> candidates{};  ///< those routed to (healthy, or all in panic)
    std::size_t healthy = 0;               ///< members healthy and not ejected
    bool panic = false;                    ///< below the panic threshold
    /// The picker's table over `candidates` (null when the pool refuses). Shared with the
    /// next snapshot when that one's candidates are the same, so a change to one pool
    /// (an ejection, a weight) rebuilds only that pool's table.
    std::shared_ptr<const Table> table{};
};

/// Everything a pick needs, published atomically and never changed afterwards (except
/// the pickers' own atomic counters). Named apart from salama::snapshot, the metric
/// snapshot.
template <class Table>
struct routing_snapshot {
    std::vector<pool_snapshot<Table>> pools{};  ///< sorted by request type
    /// Keeps the entries' metrics and metadata alive (the nodes are kept by the balancer).
    std::vector<std::shared_ptr<const node_data>> data{};
    std::uint64_t version = 0;  ///< increases with every publish
    time_point built_at{};      ///< the `now` it was built for

    /// The pool for `request_type`, or null.
    const pool_snapshot<Table>* find(std::string_view request_type) const noexcept {
        auto it = std::lower_bound(pools.begin(), pools.end(), request_type,
                                   [](const pool_snapshot<Table>& p, std::string_view t) { return p.request_type < t; });
        if (it != pools.end() && it->request_type == request_type) return &*it;
        return nullptr;
    }
};

}  // namespace salama::balancing
