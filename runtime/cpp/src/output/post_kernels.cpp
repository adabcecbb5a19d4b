#include "output/post_kernels.hpp"

#include <algorithm>

#include "output/numpy_math.hpp"
#include "output/simd_avx2.hpp"

namespace frozenseg::output::kernels {

namespace {

constexpr int kBlock = 16;

int owner_update_scalar(const float* m, int begin, int n, float score, std::int32_t k,
                        float* best, std::int32_t* owner, std::int32_t* fg) noexcept {
  int area = 0;
  for (int x = begin; x < n; ++x) {
    const float s = npmath::sigmoid_f32(m[x]);
    const float v = score * s;
    const bool on = s >= 0.5f;
    area += on;
    if (!(v <= best[x]) && best[x] == best[x]) {
      best[x] = v;
      owner[x] = k;
      fg[x] = on;
    }
  }
  return area;
}

int groups_of(int classes) { return (classes + kClassGroup - 1) / kClassGroup; }

void class_scores_scalar(const float* s, int queries, const float* w, int classes, float* out,
                         std::size_t stride, std::int32_t* labels) noexcept {
  float best[kBlock];
  for (int c = 0; c < classes; ++c) {
    const int g = c / kClassGroup, r = c % kClassGroup;
    float acc[kBlock] = {};
    for (int q = 0; q < queries; ++q) {
      const float weight = w[(static_cast<std::size_t>(g) * queries + q) * kClassGroup + r];
      for (int i = 0; i < kBlock; ++i) acc[i] += weight * s[q * kBlock + i];
    }
    for (int i = 0; i < kBlock; ++i) {
      out[c * stride + i] = acc[i];
      if (c == 0 || (!(acc[i] <= best[i]) && best[i] == best[i])) {
        best[i] = acc[i];
        labels[i] = c;
      }
    }
  }
}

#ifdef FROZENSEG_OUTPUT_X86
FS_AVX2 int owner_update_avx2(const float* m, int n, float score, std::int32_t k, float* best,
                              std::int32_t* owner, std::int32_t* fg) noexcept {
  const __m256 vscore = _mm256_set1_ps(score);
  const __m256 vk = _mm256_castsi256_ps(_mm256_set1_epi32(k));
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 ones = _mm256_castsi256_ps(_mm256_set1_epi32(1));
  int area = 0;
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    const __m256 s = avx2::sigmoid(_mm256_loadu_ps(m + x));
    const __m256 v = _mm256_mul_ps(vscore, s);
    const __m256 b = _mm256_loadu_ps(best + x);
    const __m256 take = avx2::argmax_takes(v, b);
    const __m256 on = _mm256_cmp_ps(s, half, _CMP_GE_OQ);
    area += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(on)));
    _mm256_storeu_ps(best + x, _mm256_blendv_ps(b, v, take));
    float* own = reinterpret_cast<float*>(owner + x);
    _mm256_storeu_ps(own, _mm256_blendv_ps(_mm256_loadu_ps(own), vk, take));
    float* f = reinterpret_cast<float*>(fg + x);
    _mm256_storeu_ps(f, _mm256_blendv_ps(_mm256_loadu_ps(f), _mm256_and_ps(on, ones), take));
  }
  return area + owner_update_scalar(m, x, n, score, k, best, owner, fg);
}

FS_AVX2 void pack_sigmoids_avx2(const float* row, int n, int queries, int q,
                                float* packed) noexcept {
  const int full = n / kBlock;
  for (int j = 0; j < full; ++j) {
    float* dst = packed + (static_cast<std::size_t>(j) * queries + q) * kBlock;
    _mm256_storeu_ps(dst, avx2::sigmoid(_mm256_loadu_ps(row + j * kBlock)));
    _mm256_storeu_ps(dst + 8, avx2::sigmoid(_mm256_loadu_ps(row + j * kBlock + 8)));
  }
  if (full * kBlock < n) {
    float* dst = packed + (static_cast<std::size_t>(full) * queries + q) * kBlock;
    const int rest = n - full * kBlock;
    for (int i = 0; i < kBlock; ++i) dst[i] = i < rest ? npmath::sigmoid_f32(row[full * kBlock + i]) : 0.0f;
  }
}

// One class group (rows c0 .. c0 + rows - 1) for 16 pixels: 6 x 16 sums over the queries with
// FMAs in 12 accumulators, stored to out (row stride `stride`), folded into the running argmax.
template <bool Stream>
FS_AVX2 void gemm_group(const float* s, int queries, const float* w, int c0, int rows, float* out,
                        std::size_t stride, __m256 best[2], __m256i top[2]) noexcept {
  __m256 lo[kClassGroup], hi[kClassGroup];
#pragma GCC unroll 6
  for (int r = 0; r < kClassGroup; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (int q = 0; q < queries; ++q, s += kBlock, w += kClassGroup) {
    const __m256 s0 = _mm256_loadu_ps(s);
    const __m256 s1 = _mm256_loadu_ps(s + 8);
#pragma GCC unroll 6
    for (int r = 0; r < kClassGroup; ++r) {
      const __m256 b = _mm256_broadcast_ss(w + r);
      lo[r] = _mm256_fmadd_ps(b, s0, lo[r]);
      hi[r] = _mm256_fmadd_ps(b, s1, hi[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kClassGroup; ++r) {
    if (r >= rows) break;
    float* row = out + static_cast<std::size_t>(c0 + r) * stride;
    if constexpr (Stream) {
      _mm256_stream_ps(row, lo[r]);
      _mm256_stream_ps(row + 8, hi[r]);
    } else {
      _mm256_storeu_ps(row, lo[r]);
      _mm256_storeu_ps(row + 8, hi[r]);
    }
    const __m256i c = _mm256_set1_epi32(c0 + r);
    const __m256 take_lo = avx2::argmax_takes(lo[r], best[0]);
    const __m256 take_hi = avx2::argmax_takes(hi[r], best[1]);
    best[0] = _mm256_blendv_ps(best[0], lo[r], take_lo);
    best[1] = _mm256_blendv_ps(best[1], hi[r], take_hi);
    top[0] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(top[0]), _mm256_castsi256_ps(c), take_lo));
    top[1] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(top[1]), _mm256_castsi256_ps(c), take_hi));
  }
}

template <bool Stream>
FS_AVX2 void class_scores_avx2(const float* s, int queries, const float* w, int classes,
                               float* out, std::size_t stride, std::int32_t* labels) noexcept {
  // -inf loses to any score, NaN included, so class 0 always takes the lead first.
  __m256 best[2] = {_mm256_set1_ps(-INFINITY), _mm256_set1_ps(-INFINITY)};
  __m256i top[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int g = 0; g * kClassGroup < classes; ++g)
    gemm_group<Stream>(s, queries, w + static_cast<std::size_t>(g) * queries * kClassGroup, g * kClassGroup,
               std::min(kClassGroup, classes - g * kClassGroup), out, stride, best, top);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(labels), top[0]);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(labels + 8), top[1]);
}
#endif

}  // namespace

int owner_update_row(const float* m, int n, float score, std::int32_t k, float* best,
                     std::int32_t* owner, std::int32_t* fg) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (npmath::simd_enabled()) return owner_update_avx2(m, n, score, k, best, owner, fg);
#endif
  return owner_update_scalar(m, 0, n, score, k, best, owner, fg);
}

void pack_sigmoids(const float* row, int n, int queries, int q, float* packed) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (npmath::simd_enabled()) return pack_sigmoids_avx2(row, n, queries, q, packed);
#endif
  const int blocks = (n + kBlock - 1) / kBlock;
  for (int j = 0; j < blocks; ++j) {
    float* dst = packed + (static_cast<std::size_t>(j) * queries + q) * kBlock;
    for (int i = 0; i < kBlock; ++i) {
      const int x = j * kBlock + i;
      dst[i] = x < n ? npmath::sigmoid_f32(row[x]) : 0.0f;
    }
  }
}

std::vector<float> pack_class_weights(const float* a, int queries, int lda, int classes) {
  const int groups = groups_of(classes);
  std::vector<float> packed(static_cast<std::size_t>(groups) * queries * kClassGroup, 0.0f);
  for (int g = 0; g < groups; ++g)
    for (int q = 0; q < queries; ++q)
      for (int r = 0; r < kClassGroup && g * kClassGroup + r < classes; ++r)
        packed[(static_cast<std::size_t>(g) * queries + q) * kClassGroup + r] =
            a[static_cast<std::size_t>(q) * lda + g * kClassGroup + r];
  return packed;
}

void class_scores_block(const float* packed_block, int queries, const float* packed_weights,
                        int classes, float* out, std::size_t stride, std::int32_t* labels,
                        bool stream) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (npmath::simd_enabled()) {
    if (stream)
      return class_scores_avx2<true>(packed_block, queries, packed_weights, classes, out, stride, labels);
    return class_scores_avx2<false>(packed_block, queries, packed_weights, classes, out, stride, labels);
  }
#else
  (void)stream;
#endif
  class_scores_scalar(packed_block, queries, packed_weights, classes, out, stride, labels);
}

void store_fence() noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  _mm_sfence();
#endif
}

}  // namespace frozenseg::output::kernels
