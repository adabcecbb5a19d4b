// AVX2+FMA building blocks shared by the output kernels (x86-64 only; each function carries its
// own target attribute so the rest of the library still runs on any x86-64). Callers check
// npmath::simd_enabled() (or cpu_has_avx2_fma()) before calling anything here.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#define FROZENSEG_OUTPUT_X86 1
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "output/numpy_constants.hpp"

#define FS_AVX2 __attribute__((target("avx2,fma")))

namespace frozenseg::output::avx2 {

// numpy's float32 exp (simd_exp_FLOAT) on 8 lanes. The final scaling by 2^k is exact for normal
// results; lanes whose result is subnormal or overflows (k <= -125 or k >= 128, i.e. |x| near
// the ends of the range) are scaled with std::ldexp, which rounds like AVX512's scalef that
// numpy uses there.
FS_AVX2 inline __m256 exp(__m256 x) {
  namespace c = npmath::constants;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 nan_mask = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  x = _mm256_blendv_ps(x, zero, nan_mask);
  const __m256 xmax_mask = _mm256_cmp_ps(x, _mm256_set1_ps(c::kExpMax), _CMP_GE_OQ);
  const __m256 xmin_mask = _mm256_cmp_ps(x, _mm256_set1_ps(c::kExpMin), _CMP_LE_OQ);
  x = _mm256_blendv_ps(x, zero, _mm256_or_ps(xmin_mask, xmax_mask));

  __m256 quadrant = _mm256_mul_ps(x, _mm256_set1_ps(c::kLog2e));
  const __m256 magic = _mm256_set1_ps(c::kRintMagic);
  quadrant = _mm256_sub_ps(_mm256_add_ps(quadrant, magic), magic);

  __m256 r = _mm256_fmadd_ps(quadrant, _mm256_set1_ps(c::kCodyWaiteHigh), x);
  r = _mm256_fmadd_ps(quadrant, _mm256_set1_ps(c::kCodyWaiteLow), r);
  r = _mm256_fmadd_ps(quadrant, zero, r);

  __m256 num = _mm256_fmadd_ps(_mm256_set1_ps(c::kExpP5), r, _mm256_set1_ps(c::kExpP4));
  num = _mm256_fmadd_ps(num, r, _mm256_set1_ps(c::kExpP3));
  num = _mm256_fmadd_ps(num, r, _mm256_set1_ps(c::kExpP2));
  num = _mm256_fmadd_ps(num, r, _mm256_set1_ps(c::kExpP1));
  num = _mm256_fmadd_ps(num, r, _mm256_set1_ps(c::kExpP0));
  __m256 den = _mm256_fmadd_ps(_mm256_set1_ps(c::kExpQ2), r, _mm256_set1_ps(c::kExpQ1));
  den = _mm256_fmadd_ps(den, r, _mm256_set1_ps(c::kExpQ0));
  __m256 poly = _mm256_div_ps(num, den);

  const __m256 outside = _mm256_or_ps(_mm256_cmp_ps(quadrant, _mm256_set1_ps(-125.0f), _CMP_LE_OQ),
                                      _mm256_cmp_ps(quadrant, _mm256_set1_ps(128.0f), _CMP_GE_OQ));
  const __m256i k = _mm256_cvtps_epi32(quadrant);
  __m256 scaled = _mm256_castsi256_ps(
      _mm256_add_epi32(_mm256_castps_si256(poly), _mm256_slli_epi32(k, 23)));
  if (_mm256_movemask_ps(outside) != 0) {
    alignas(32) float p[8], q[8], s[8];
    _mm256_store_ps(p, poly);
    _mm256_store_ps(q, quadrant);
    _mm256_store_ps(s, scaled);
    const int bits = _mm256_movemask_ps(outside);
    for (int i = 0; i < 8; ++i)
      if (bits & (1 << i)) s[i] = std::ldexp(p[i], static_cast<int>(q[i]));
    scaled = _mm256_load_ps(s);
  }
  scaled = _mm256_blendv_ps(scaled, _mm256_set1_ps(NAN), nan_mask);
  scaled = _mm256_blendv_ps(scaled, _mm256_set1_ps(INFINITY), xmax_mask);
  return _mm256_blendv_ps(scaled, zero, xmin_mask);
}

// numpy's float32 sigmoid, 1 / (1 + exp(-x)), on 8 lanes.
FS_AVX2 inline __m256 sigmoid(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 negated = _mm256_xor_ps(x, _mm256_set1_ps(-0.0f));
  return _mm256_div_ps(one, _mm256_add_ps(one, exp(negated)));
}

// numpy's float32 log (simd_log_FLOAT) on 8 lanes whose inputs are normal positive floats or
// +inf; the caller sends lanes below FLT_MIN (zero, subnormal, negative, NaN) to the scalar log.
FS_AVX2 inline __m256 log_normal(__m256 x) {
  namespace c = npmath::constants;
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 inf_mask = _mm256_cmp_ps(x, _mm256_set1_ps(INFINITY), _CMP_EQ_OQ);
  __m256 exponent = _mm256_cvtepi32_ps(_mm256_sub_epi32(
      _mm256_srli_epi32(_mm256_castps_si256(x), 23), _mm256_set1_epi32(0x7E)));
  __m256 m = _mm256_castsi256_ps(
      _mm256_or_si256(_mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x7fffff)),
                      _mm256_set1_epi32(126 << 23)));
  const __m256 sqrt2_mask = _mm256_cmp_ps(m, _mm256_set1_ps(c::kSqrt1_2), _CMP_LE_OQ);
  m = _mm256_blendv_ps(m, _mm256_add_ps(m, m), sqrt2_mask);
  exponent = _mm256_blendv_ps(exponent, _mm256_sub_ps(exponent, one), sqrt2_mask);
  m = _mm256_sub_ps(m, one);

  __m256 num = _mm256_fmadd_ps(_mm256_set1_ps(c::kLogP5), m, _mm256_set1_ps(c::kLogP4));
  num = _mm256_fmadd_ps(num, m, _mm256_set1_ps(c::kLogP3));
  num = _mm256_fmadd_ps(num, m, _mm256_set1_ps(c::kLogP2));
  num = _mm256_fmadd_ps(num, m, _mm256_set1_ps(c::kLogP1));
  num = _mm256_fmadd_ps(num, m, _mm256_set1_ps(c::kLogP0));
  __m256 den = _mm256_fmadd_ps(_mm256_set1_ps(c::kLogQ5), m, _mm256_set1_ps(c::kLogQ4));
  den = _mm256_fmadd_ps(den, m, _mm256_set1_ps(c::kLogQ3));
  den = _mm256_fmadd_ps(den, m, _mm256_set1_ps(c::kLogQ2));
  den = _mm256_fmadd_ps(den, m, _mm256_set1_ps(c::kLogQ1));
  den = _mm256_fmadd_ps(den, m, _mm256_set1_ps(c::kLogQ0));
  __m256 poly = _mm256_div_ps(num, den);
  poly = _mm256_fmadd_ps(exponent, _mm256_set1_ps(c::kLoge2), poly);
  return _mm256_blendv_ps(poly, _mm256_set1_ps(INFINITY), inf_mask);
}

// Lanes of `x` that are NaN-aware "greater" in numpy's argmax sense: `v` replaces `best` when
// v > best, or v is NaN and best is not (the first NaN wins and stays).
FS_AVX2 inline __m256 argmax_takes(__m256 v, __m256 best) {
  return _mm256_and_ps(_mm256_cmp_ps(v, best, _CMP_NLE_UQ), _mm256_cmp_ps(best, best, _CMP_ORD_Q));
}

}  // namespace frozenseg::output::avx2

#endif  // x86-64
