// SHA-256's block function in two versions: portable C++, and x86's SHA extensions (SHA-NI, about
// 5x faster; graphs are hundreds of MB and every one is hashed at load). Internal to sha256.cpp
// and its tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace frozenseg::sha256_blocks {

extern const std::array<std::uint32_t, 64> kRound;  // FIPS 180-4 4.2.2

// Processes `count` 64-byte blocks into `state` (a, b, ..., h).
void compress_portable(std::array<std::uint32_t, 8>& state, const std::uint8_t* blocks,
                       std::size_t count) noexcept;

// Whether this CPU has the SHA extensions with SSSE3 and SSE4.1 (false off x86-64).
bool cpu_has_sha_extensions() noexcept;

// Same result as compress_portable; call only when cpu_has_sha_extensions().
void compress_sha_extensions(std::array<std::uint32_t, 8>& state, const std::uint8_t* blocks,
                             std::size_t count) noexcept;

}  // namespace frozenseg::sha256_blocks
