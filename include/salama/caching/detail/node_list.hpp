// salama: an intrusive doubly linked list of policy nodes (the policies' queues).
#pragma once

#include "salama/caching/policy_node.hpp"

namespace salama::caching::detail {

/// A circular list with a sentinel; front() is the least recently used end. Not copyable
/// or movable: nodes point at the sentinel.
class node_list {
public:
    node_list() noexcept { sentinel_.prev = sentinel_.next = &sentinel_; }
    node_list(const node_list&) = delete;
    node_list& operator=(const node_list&) = delete;

    bool empty() const noexcept { return sentinel_.next == &sentinel_; }

    /// The oldest node, or nullptr.
    policy_node* front() const noexcept { return empty() ? nullptr : sentinel_.next; }

    /// The newest node, or nullptr.
    policy_node* back() const noexcept { return empty() ? nullptr : sentinel_.prev; }

    /// The node after `n` towards the back, or nullptr at the end.
    policy_node* after(const policy_node* n) const noexcept {
        return n->next == &sentinel_ ? nullptr : n->next;
    }

    void push_back(policy_node* n) noexcept {
        n->prev = sentinel_.prev;
        n->next = &sentinel_;
        sentinel_.prev->next = n;
        sentinel_.prev = n;
    }

    static void unlink(policy_node* n) noexcept {
        n->prev->next = n->next;
        n->next->prev = n->prev;
        n->prev = n->next = nullptr;
    }

    void move_to_back(policy_node* n) noexcept {
        unlink(n);
        push_back(n);
    }

    /// Unlinks every node (the nodes themselves are not touched otherwise).
    void reset() noexcept { sentinel_.prev = sentinel_.next = &sentinel_; }

private:
    policy_node sentinel_;
};

}  // namespace salama::caching::detail
