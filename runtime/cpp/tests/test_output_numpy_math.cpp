// numpy's float32 exp/log and pairwise sum, as output/numpy_math.hpp and pairwise_sum.hpp copy
// them: values numpy 2.x gives on x86 (AVX512F / AVX2) where they differ from a correctly rounded
// result, libm where numpy uses libm, and agreement of the AVX2 and scalar copies on every kind
// of input.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "output/numpy_math.hpp"
#include "output/pairwise_sum.hpp"

namespace npmath = frozenseg::output::npmath;

namespace {

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

// Inputs of every kind: normal, huge, tiny, subnormal, zeros, infinities, NaN, range edges.
std::vector<float> awkward_inputs() {
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 1e-8f, 1e-40f, -1e-40f, 1e-45f,
                          88.72283f, 88.7228394f, 88.72284f, 89.0f, -87.3f, -88.0f, -100.0f,
                          -103.97f, -103.98f, -104.0f, 0.5f, 0.70710677f, 1.17549435e-38f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(), 3.4e38f, -3.4e38f};
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 30.0f);
  for (int i = 0; i < 20000; ++i) v.push_back(normal(rng));
  for (int i = 0; i < 20000; ++i) v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng())));
  return v;
}

void expect_same_bits(float got, float want, float x, const char* what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << "(" << x << ")";
  } else {
    EXPECT_EQ(bits(got), bits(want)) << what << "(" << std::hexfloat << x << ") = " << got
                                     << ", expected " << want;
  }
}

}  // namespace

TEST(OutputNumpyMath, ExpMatchesNumpyWhereLibmRoundsDifferently) {
  // (x, numpy.exp(x)) from numpy 2.4 on an AVX512 CPU; the correctly rounded results differ.
  const float cases[][2] = {{-0x1.a7cb7ep+4f, 0x1.b9bf2ap-39f}, {-0x1.3de722p+2f, 0x1.c8498ep-8f},
                            {-0x1.61b1bcp+3f, 0x1.09c21p-16f},  {0x1.df3282p+3f, 0x1.852a1cp+21f},
                            {-0x1.8aaa48p+4f, 0x1.5501d4p-36f}, {-0x1.32a516p+4f, 0x1.465b9ap-28f}};
  for (const auto& c : cases) {
    expect_same_bits(npmath::exp_numpy_simd(c[0]), c[1], c[0], "exp_numpy_simd");
    if (!npmath::uses_numpy_simd_algorithm()) continue;  // numpy calls libm here
    expect_same_bits(npmath::exp_f32(c[0]), c[1], c[0], "exp_f32");
    float out = 0.0f;
    npmath::exp_f32(&c[0], &out, 1);
    expect_same_bits(out, c[1], c[0], "exp_f32[]");
  }
}

TEST(OutputNumpyMath, LogMatchesNumpyWhereLibmRoundsDifferently) {
  const float cases[][2] = {{0x1.8aae6p+4f, 0x1.9a4d7cp+1f},  {0x1.79449cp+3f, 0x1.3bcddep+1f},
                            {0x1.0991d8p+4f, 0x1.6796c6p+1f}, {0x1.39daeap+4f, 0x1.7cf8ccp+1f},
                            {0x1.847644p-1f, -0x1.1ac1aap-2f}, {0x1.859dc6p+2f, 0x1.ce6854p+0f}};
  for (const auto& c : cases) {
    expect_same_bits(npmath::log_numpy_simd(c[0]), c[1], c[0], "log_numpy_simd");
    if (!npmath::uses_numpy_simd_algorithm()) continue;
    expect_same_bits(npmath::log_f32(c[0]), c[1], c[0], "log_f32");
    std::vector<float> in(9, c[0]), out(9);  // 8 lanes + a scalar tail
    npmath::log_f32(in.data(), out.data(), in.size());
    for (float o : out) expect_same_bits(o, c[1], c[0], "log_f32[]");
  }
}

TEST(OutputNumpyMath, SpecialValuesAsNumpy) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(npmath::exp_numpy_simd(0.0f), 1.0f);
  EXPECT_EQ(npmath::exp_numpy_simd(100.0f), inf);
  EXPECT_EQ(npmath::exp_numpy_simd(-inf), 0.0f);
  EXPECT_EQ(npmath::exp_numpy_simd(-104.0f), 0.0f);
  EXPECT_TRUE(std::isnan(npmath::exp_numpy_simd(std::nanf(""))));
  EXPECT_EQ(npmath::log_numpy_simd(0.0f), -inf);
  EXPECT_EQ(npmath::log_numpy_simd(inf), inf);
  EXPECT_EQ(npmath::log_numpy_simd(1.0f), 0.0f);
  EXPECT_TRUE(std::isnan(npmath::log_numpy_simd(-1.0f)));
  EXPECT_EQ(npmath::sigmoid_f32(0.0f), 0.5f);
  EXPECT_EQ(npmath::sigmoid_f32(-200.0f), 0.0f);
  EXPECT_EQ(npmath::sigmoid_f32(200.0f), 1.0f);
}

TEST(OutputNumpyMath, LibmWhereNumpyUsesLibm) {
  if (npmath::uses_numpy_simd_algorithm()) GTEST_SKIP() << "numpy uses its SIMD algorithm on this CPU";
  for (const float x : awkward_inputs()) {
    expect_same_bits(npmath::exp_f32(x), std::exp(x), x, "exp");
    expect_same_bits(npmath::log_f32(x), std::log(x), x, "log");
  }
}

TEST(OutputNumpyMath, ArrayAndScalarCopiesAgreeOnEveryKindOfInput) {
  if (!npmath::simd_enabled()) GTEST_SKIP() << "no AVX2 kernels here: the array functions are the scalar ones";
  const std::vector<float> x = awkward_inputs();
  std::vector<float> e(x.size()), l(x.size()), s(x.size());
  npmath::exp_f32(x.data(), e.data(), x.size());
  npmath::log_f32(x.data(), l.data(), x.size());
  npmath::sigmoid_f32(x.data(), s.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    expect_same_bits(e[i], npmath::exp_f32(x[i]), x[i], "exp");
    expect_same_bits(l[i], npmath::log_f32(x[i]), x[i], "log");
    expect_same_bits(s[i], npmath::sigmoid_f32(x[i]), x[i], "sigmoid");
  }
}

TEST(OutputNumpyMath, InPlaceAndShortArrays) {
  for (std::size_t n = 0; n < 20; ++n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = 0.37f * static_cast<float>(i) - 3.0f;
    std::vector<float> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = npmath::sigmoid_f32(v[i]);
    npmath::sigmoid_f32(v.data(), v.data(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(bits(v[i]), bits(want[i])) << n << " " << i;
  }
}

TEST(OutputPairwiseSum, MatchesNumpySums) {
  // a[i] = float32(i * 37 % 101) / 7; numpy's a.sum() (151 differs from a float64 sum's rounding).
  const std::pair<std::size_t, float> cases[] = {{7, 0x1.36db6ep+5f},   {9, 0x1.e36db8p+5f},
                                                 {128, 0x1.c38p+9f},    {151, 0x1.0dadb8p+10f},
                                                 {1000, 0x1.be8492p+12f}, {4099, 0x1.c962dcp+14f}};
  for (const auto& [n, want] : cases) {
    std::vector<float> a(n);
    for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<float>(i * 37 % 101) / 7.0f;
    EXPECT_EQ(bits(frozenseg::output::numpy_pairwise_sum(a.data(), n)), bits(want)) << n;
  }
}

TEST(OutputPairwiseSum, EmptyAndNegativeZero) {
  EXPECT_EQ(frozenseg::output::numpy_pairwise_sum(nullptr, 0), 0.0f);
  const float z[] = {-0.0f, -0.0f};
  EXPECT_TRUE(std::signbit(frozenseg::output::numpy_pairwise_sum(z, 2)));
}
