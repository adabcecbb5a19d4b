// numpy's float32 sum along a contiguous axis (FLOAT_pairwise_sum in
// numpy/_core/src/umath/loops_utils.h.src): under 8 elements a plain loop from -0.0; up to 128
// elements eight interleaved accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus
// the remainder; longer runs split at n/2 rounded down to a multiple of 8 and recurse. A
// reduction `a.sum(axis=-1)` of a C-contiguous float32 array hands each whole row to it, so
// mirroring it gives the Python runtime's sums bit for bit (softmax denominators, mask scores).
#pragma once

#include <cstddef>

namespace frozenseg::output {

inline float numpy_pairwise_sum(const float* a, std::size_t n) noexcept {
  if (n < 8) {
    float res = -0.0f;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

}  // namespace frozenseg::output
