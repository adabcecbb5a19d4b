// The block function on x86's SHA extensions (Intel's "Intel SHA Extensions" paper, 2013): two
// rounds per sha256rnds2, the message schedule by sha256msg1/msg2. State is kept as ABEF/CDGH.
#include "common/sha256_blocks.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define FS_SHA_EXTENSIONS 1
#endif

namespace frozenseg::sha256_blocks {

#ifdef FS_SHA_EXTENSIONS

bool cpu_has_sha_extensions() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool ssse3 = (ecx & (1u << 9)) != 0;
  const bool sse41 = (ecx & (1u << 19)) != 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool sha = (ebx & (1u << 29)) != 0;
  return ssse3 && sse41 && sha;
}

__attribute__((target("sha,sse4.1,ssse3"))) void compress_sha_extensions(
    std::array<std::uint32_t, 8>& state, const std::uint8_t* blocks, std::size_t count) noexcept {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  // (a, b, c, d), (e, f, g, h) -> (a, b, e, f), (c, d, g, h) in the instructions' lane order.
  __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0])), 0xB1);
  __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4])), 0x1B);
  __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);
  state1 = _mm_blend_epi16(state1, tmp, 0xF0);

  for (; count > 0; --count, blocks += 64) {
    const __m128i abef = state0;
    const __m128i cdgh = state1;
    __m128i w[4];  // ring of the last four message groups: w[g % 4] is W[4g .. 4g+3]
#pragma GCC unroll 16  // fully unrolled, the ring indices and the g < 4 branch become constants
    for (int g = 0; g < 16; ++g) {
      __m128i message;
      if (g < 4) {
        message = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * g)), byte_swap);
      } else {
        __m128i t = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
        t = _mm_add_epi32(t, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
        message = _mm_sha256msg2_epu32(t, w[(g + 3) % 4]);
      }
      w[g % 4] = message;
      __m128i rounds = _mm_add_epi32(message, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kRound[4 * g])));
      state1 = _mm_sha256rnds2_epu32(state1, state0, rounds);
      rounds = _mm_shuffle_epi32(rounds, 0x0E);
      state0 = _mm_sha256rnds2_epu32(state0, state1, rounds);
    }
    state0 = _mm_add_epi32(state0, abef);
    state1 = _mm_add_epi32(state1, cdgh);
  }

  tmp = _mm_shuffle_epi32(state0, 0x1B);
  state1 = _mm_shuffle_epi32(state1, 0xB1);
  state0 = _mm_blend_epi16(tmp, state1, 0xF0);
  state1 = _mm_alignr_epi8(state1, tmp, 8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), state0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), state1);
}

#else

bool cpu_has_sha_extensions() noexcept { return false; }

void compress_sha_extensions(std::array<std::uint32_t, 8>& state, const std::uint8_t* blocks,
                             std::size_t count) noexcept {
  compress_portable(state, blocks, count);
}

#endif

}  // namespace frozenseg::sha256_blocks
