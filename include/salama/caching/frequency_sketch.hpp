// salama: a count-min sketch of 4-bit counters that estimates how often a key was seen.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace salama::caching {

/// Approximate access frequency of keys (by their 64-bit mixed hash), as used by
/// W-TinyLFU: 4-bit saturating counters (0..15), depth 4, a table of
/// `bit_ceil(capacity)` 64-bit words (16 counters each); after `10 × capacity`
/// successful increments every counter is halved, so old popularity fades.
/// Before `ensure_capacity` it is uninitialized: frequencies read 0 and increments are
/// ignored. Not thread-safe.
class frequency_sketch {
public:
    /// Sizes the table for `capacity` entries. Growing clears the counts; a call with a
    /// capacity the table already covers changes nothing.
    void ensure_capacity(std::uint64_t capacity) {
        const std::uint64_t cap = std::clamp<std::uint64_t>(capacity, 1, std::uint64_t{1} << 30);
        const std::uint64_t words = std::bit_ceil(cap);
        if (words <= table_.size()) return;
        table_.assign(words, 0);
        mask_ = words - 1;
        sample_size_ = 10 * cap;
        size_ = 0;
    }

    /// True once sized.
    bool initialized() const noexcept { return !table_.empty(); }

    /// Estimated frequency (0..15) of the key with hash `h`.
    unsigned frequency(std::uint64_t h) const noexcept {
        if (table_.empty()) return 0;
        const unsigned start = static_cast<unsigned>(h & 3) << 2;
        unsigned f = 15;
        for (unsigned i = 0; i < depth; ++i) {
            const auto word = table_[index_of(h, i)];
            f = std::min(f, static_cast<unsigned>((word >> ((start + i) << 2)) & 0xf));
        }
        return f;
    }

    /// Counts one occurrence of the key with hash `h`; halves all counters once the
    /// number of increments reaches the sample size.
    void increment(std::uint64_t h) noexcept {
        if (table_.empty()) return;
        const unsigned start = static_cast<unsigned>(h & 3) << 2;
        bool added = false;
        for (unsigned i = 0; i < depth; ++i) {
            auto& word = table_[index_of(h, i)];
            const unsigned shift = (start + i) << 2;
            if (((word >> shift) & 0xf) != 0xf) {
                word += std::uint64_t{1} << shift;
                added = true;
            }
        }
        if (added && ++size_ >= sample_size_) halve();
    }

    /// The number of increments between two halvings (10 × capacity).
    std::uint64_t sample_size() const noexcept { return sample_size_; }

    /// Increments since the last halving (decremented by the halving as well).
    std::uint64_t size() const noexcept { return size_; }

    /// Halves every counter (the aging step; also called automatically).
    void halve() noexcept {
        std::uint64_t odd = 0;
        for (auto& w : table_) {
            odd += static_cast<std::uint64_t>(std::popcount(w & 0x1111111111111111ULL));
            w = (w >> 1) & 0x7777777777777777ULL;
        }
        const std::uint64_t lost = odd / 4;
        size_ = (size_ > lost ? size_ - lost : 0) / 2;
    }

private:
    static constexpr unsigned depth = 4;
    static constexpr std::uint64_t seeds[depth] = {0xc3a5c85c97cb3127ULL, 0xb492b66fbe98f273ULL,
                                                   0x9ae16a3b2f90404fULL, 0xcbf29ce484222325ULL};

    // Each row mixes the hash with its own seed and takes high product bits, which depend
    // on every input bit, so that rows collide independently.
    std::size_t index_of(std::uint64_t h, unsigned i) const noexcept {
        std::uint64_t x = (h ^ seeds[i]) * 0x9e3779b97f4a7c15ULL;
        x ^= x >> 32;
        x *= seeds[i] | 1;
        return static_cast<std::size_t>((x >> 32) & mask_);
    }

    std::vector<std::uint64_t> table_;
    std::uint64_t mask_ = 0;
    std::uint64_t sample_size_ = 0;
    std::uint64_t size_ = 0;
};

}  // namespace salama::caching
