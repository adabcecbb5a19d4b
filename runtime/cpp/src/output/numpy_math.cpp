#include "output/numpy_math.hpp"

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "output/numpy_constants.hpp"
#include "output/simd_avx2.hpp"

namespace frozenseg::output::npmath {

namespace c = constants;

float exp_numpy_simd(float x) noexcept {
  if (std::isnan(x)) return std::numeric_limits<float>::quiet_NaN();
  if (x >= c::kExpMax) return std::numeric_limits<float>::infinity();
  if (x <= c::kExpMin) return 0.0f;
  float quadrant = x * c::kLog2e;
  quadrant = (quadrant + c::kRintMagic) - c::kRintMagic;  // round to nearest even
  float r = std::fma(quadrant, c::kCodyWaiteHigh, x);
  r = std::fma(quadrant, c::kCodyWaiteLow, r);
  r = std::fma(quadrant, 0.0f, r);
  float num = std::fma(c::kExpP5, r, c::kExpP4);
  num = std::fma(num, r, c::kExpP3);
  num = std::fma(num, r, c::kExpP2);
  num = std::fma(num, r, c::kExpP1);
  num = std::fma(num, r, c::kExpP0);
  float den = std::fma(c::kExpQ2, r, c::kExpQ1);
  den = std::fma(den, r, c::kExpQ0);
  // poly * 2^quadrant in one rounding, as AVX512's scalef (numpy's path on AVX512 CPUs; on
  // AVX2 numpy's exponent arithmetic gives the same floats for every normal result).
  return std::ldexp(num / den, static_cast<int>(quadrant));
}

float log_numpy_simd(float x) noexcept {
  if (std::isnan(x)) return std::numeric_limits<float>::quiet_NaN();
  if (x < 0.0f) return -std::numeric_limits<float>::quiet_NaN();
  if (x == 0.0f) return -std::numeric_limits<float>::infinity();
  if (std::isinf(x)) return std::numeric_limits<float>::infinity();
  int e = 0;
  float m = std::frexp(x, &e);  // m in [0.5, 1), subnormals included (numpy scales them by 2^100)
  float exponent = static_cast<float>(e);
  if (m <= c::kSqrt1_2) {
    m = m + m;
    exponent = exponent - 1.0f;
  }
  m = m - 1.0f;
  float num = std::fma(c::kLogP5, m, c::kLogP4);
  num = std::fma(num, m, c::kLogP3);
  num = std::fma(num, m, c::kLogP2);
  num = std::fma(num, m, c::kLogP1);
  num = std::fma(num, m, c::kLogP0);
  float den = std::fma(c::kLogQ5, m, c::kLogQ4);
  den = std::fma(den, m, c::kLogQ3);
  den = std::fma(den, m, c::kLogQ2);
  den = std::fma(den, m, c::kLogQ1);
  den = std::fma(den, m, c::kLogQ0);
  return std::fma(exponent, c::kLoge2, num / den);
}

namespace {

bool cpu_has_avx2_fma() noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

#ifdef FROZENSEG_OUTPUT_X86
FS_AVX2 void exp_avx2(const float* in, float* out, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, avx2::exp(_mm256_loadu_ps(in + i)));
  for (; i < n; ++i) out[i] = exp_numpy_simd(in[i]);
}

FS_AVX2 void sigmoid_avx2(const float* in, float* out, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, avx2::sigmoid(_mm256_loadu_ps(in + i)));
  for (; i < n; ++i) out[i] = 1.0f / (1.0f + exp_numpy_simd(-in[i]));
}

FS_AVX2 void log_avx2(const float* in, float* out, std::size_t n) noexcept {
  std::size_t i = 0;
  const __m256 smallest = _mm256_set1_ps(FLT_MIN);
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(in + i);
    // Zero, subnormal, negative and NaN lanes take the scalar path (NaN compares false).
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, smallest, _CMP_GE_OQ)) == 0xFF) {
      _mm256_storeu_ps(out + i, avx2::log_normal(x));
    } else {
      for (std::size_t j = i; j < i + 8; ++j) out[j] = log_numpy_simd(in[j]);
    }
  }
  for (; i < n; ++i) out[i] = log_numpy_simd(in[i]);
}
#endif

}  // namespace

bool uses_numpy_simd_algorithm() noexcept { return cpu_has_avx2_fma(); }

bool simd_enabled() noexcept {
  static const bool enabled = cpu_has_avx2_fma() && std::getenv("FROZENSEG_OUTPUT_SCALAR") == nullptr;
  return enabled;
}

float exp_f32(float x) noexcept {
  return uses_numpy_simd_algorithm() ? exp_numpy_simd(x) : std::exp(x);
}

float log_f32(float x) noexcept {
  return uses_numpy_simd_algorithm() ? log_numpy_simd(x) : std::log(x);
}

float sigmoid_f32(float x) noexcept { return 1.0f / (1.0f + exp_f32(-x)); }

void exp_f32(const float* in, float* out, std::size_t n) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (simd_enabled()) return exp_avx2(in, out, n);
#endif
  for (std::size_t i = 0; i < n; ++i) out[i] = exp_f32(in[i]);
}

void log_f32(const float* in, float* out, std::size_t n) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (simd_enabled()) return log_avx2(in, out, n);
#endif
  for (std::size_t i = 0; i < n; ++i) out[i] = log_f32(in[i]);
}

void sigmoid_f32(const float* in, float* out, std::size_t n) noexcept {
#ifdef FROZENSEG_OUTPUT_X86
  if (simd_enabled()) return sigmoid_avx2(in, out, n);
#endif
  for (std::size_t i = 0; i < n; ++i) out[i] = sigmoid_f32(in[i]);
}

}  // namespace frozenseg::output::npmath
