#include "output/resize_kernels.hpp"

#include "output/numpy_math.hpp"
#include "output/simd_avx2.hpp"

namespace frozenseg::output::kernels {

namespace {

void lerp_gather_scalar(const float* src, const std::int32_t* i0, const std::int32_t* i1,
                        const float* lam0, const float* lam1, float* out, int begin,
                        int n) noexcept {
  for (int x = begin; x < n; ++x) {
    const float a = src[i0[x]] * lam0[x];
    const float b = src[i1[x]] * lam1[x];
    out[x] = a + b;
  }
}

void lerp_rows_scalar(const float* a, const float* b, float w0, float w1, float* out, int begin,
                      int n) noexcept {
  for (int x = begin; x < n; ++x) {
    const float p = a[x] * w0;
    const float q = b[x] * w1;
    out[x] = p + q;
  }
}

#ifdef FROZENSEG_OUTPUT_X86
FS_AVX2 void lerp_gather_avx2(const float* src, const std::int32_t* i0, const std::int32_t* i1,
                              const float* lam0, const float* lam1, float* out, int n) noexcept {
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    const __m256i j0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(i0 + x));
    const __m256i j1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(i1 + x));
    const __m256 a = _mm256_mul_ps(_mm256_i32gather_ps(src, j0, 4), _mm256_loadu_ps(lam0 + x));
    const __m256 b = _mm256_mul_ps(_mm256_i32gather_ps(src, j1, 4), _mm256_loadu_ps(lam1 + x));
    _mm256_storeu_ps(out + x, _mm256_add_ps(a, b));
  }
  lerp_gather_scalar(src, i0, i1, lam0, lam1, out, x, n);
}

FS_AVX2 void lerp_rows_avx2(const float* a, const float* b, float w0, float w1, float* out,
                            int n) noexcept {
  const __m256 v0 = _mm256_set1_ps(w0);
  const __m256 v1 = _mm256_set1_ps(w1);
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(a + x), v0);
    const __m256 q = _mm256_mul_ps(_mm256_loadu_ps(b + x), v1);
    _mm256_storeu_ps(out + x, _mm256_add_ps(p, q));
  }
  lerp_rows_scalar(a, b, w0, w1, out, x, n);
}
#endif

}  // namespace

void lerp_gather(const float* src, const std::int32_t* i0, const std::int32_t* i1,
                 const float* lam0, const float* lam1, float* out, int n) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (npmath::simd_enabled()) return lerp_gather_avx2(src, i0, i1, lam0, lam1, out, n);
#endif
  lerp_gather_scalar(src, i0, i1, lam0, lam1, out, 0, n);
}

void lerp_rows(const float* a, const float* b, float w0, float w1, float* out, int n) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (npmath::simd_enabled()) return lerp_rows_avx2(a, b, w0, w1, out, n);
#endif
  lerp_rows_scalar(a, b, w0, w1, out, 0, n);
}

}  // namespace frozenseg::output::kernels
