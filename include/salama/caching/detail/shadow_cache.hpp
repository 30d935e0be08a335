// salama: a key-less shadow of a cache policy, fed hashes, that counts the hits it would earn.
#pragma once

#include "salama/caching/policy_node.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <memory>
#include <utility>

namespace salama::caching::detail {

/// Runs `Policy` over bare policy_nodes keyed by hash: a miniature simulation of what the
/// policy would hit on the requests it is shown. Two keys with equal 64-bit hashes count
/// as one (negligible at the sizes shadows run at).
template <class Policy>
class shadow_cache {
public:
    /// Builds the shadowed policy from `args`.
    template <class... Args>
    explicit shadow_cache(Args&&... args) : policy_(std::forward<Args>(args)...) {}
    shadow_cache(const shadow_cache&) = delete;
    shadow_cache& operator=(const shadow_cache&) = delete;
    ~shadow_cache() {
        for (auto& [h, n] : nodes_) delete n;
    }

    /// One request for the key with hash `h` and weight `w`; true on a hit.
    bool access(std::uint64_t h, std::uint32_t w) {
        if (auto it = nodes_.find(h); it != nodes_.end()) {
            policy_.on_hit(*it->second);
            ++hits_;
            return true;
        }
        auto n = std::make_unique<policy_node>();
        n->hash = h;
        n->weight = w;
        nodes_.emplace(h, n.get());
        policy_.on_add(*n.release());
        policy_.evict([this](policy_node& v) {
            nodes_.erase(v.hash);
            delete &v;
        });
        return false;
    }

    /// Hits since the last take_hits(), and resets the count.
    std::uint64_t take_hits() noexcept { return std::exchange(hits_, 0); }
    /// Entries held.
    std::size_t size() const noexcept { return nodes_.size(); }
    /// The shadowed policy.
    const Policy& policy() const noexcept { return policy_; }

private:
    Policy policy_;
    boost::unordered_flat_map<std::uint64_t, policy_node*> nodes_;
    std::uint64_t hits_ = 0;
};

}  // namespace salama::caching::detail
