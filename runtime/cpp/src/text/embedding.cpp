#include "text/embedding.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.hpp"

namespace frozenseg::text {
namespace {

// numpy's pairwise summation of a contiguous float32 run (FLOAT_pairwise_sum: eight float
// accumulators per block of at most 128, halves above that), the order add.reduce uses along
// the last axis.
float pairwise_sum(const float* a, size_t n) {
  if (n < 8) {
    float res = 0.0f;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    for (size_t j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

}  // namespace

FloatMatrix l2_normalize(const FloatMatrix& x) {
  FloatMatrix out = x;
  std::vector<float> squares(x.cols);
  for (size_t r = 0; r < x.rows; ++r) {
    const float* src = x.row(r);
    for (size_t c = 0; c < x.cols; ++c) squares[c] = src[c] * src[c];
    // add.reduce adds the run to the identity 0: 0 + sum.
    const float norm = std::sqrt(0.0f + pairwise_sum(squares.data(), x.cols));
    const float divisor = std::max(norm, 1e-12f);
    float* dst = out.data.data() + r * x.cols;
    for (size_t c = 0; c < x.cols; ++c) dst[c] = src[c] / divisor;
  }
  return out;
}

FloatMatrix average_templates(const FloatMatrix& features, size_t num_templates) {
  if (num_templates == 0 || features.rows % num_templates != 0) {
    fail_argument("average_templates: expected prompt features for whole template sets, "
                  "received " + std::to_string(features.rows) + " rows for " +
                  std::to_string(num_templates) + " templates");
  }
  const FloatMatrix normalised = l2_normalize(features);
  FloatMatrix mean;
  mean.rows = features.rows / num_templates;
  mean.cols = features.cols;
  mean.data.assign(mean.rows * mean.cols, 0.0f);
  for (size_t s = 0; s < mean.rows; ++s) {
    float* acc = mean.data.data() + s * mean.cols;
    for (size_t t = 0; t < num_templates; ++t) {  // numpy reduces the middle axis in order
      const float* src = normalised.row(s * num_templates + t);
      for (size_t c = 0; c < mean.cols; ++c) acc[c] += src[c];
    }
    // true_divide(float32 sum, intp count): a float64 loop, rounded back to float32.
    for (size_t c = 0; c < mean.cols; ++c) {
      acc[c] = static_cast<float>(static_cast<double>(acc[c]) / static_cast<double>(num_templates));
    }
  }
  return l2_normalize(mean);
}

std::vector<float> padded_embeddings(const FloatMatrix& rows, const SynonymIndex& index) {
  std::vector<float> out(index.classes * index.synonyms * rows.cols, 0.0f);
  for (size_t i = 0; i < index.index.size(); ++i) {
    const int64_t at = index.index[i];
    if (at < 0) continue;
    if (static_cast<size_t>(at) >= rows.rows) {
      fail_argument("padded_embeddings: the synonym index points at row " + std::to_string(at) +
                    " of " + std::to_string(rows.rows));
    }
    std::copy_n(rows.row(static_cast<size_t>(at)), rows.cols, out.data() + i * rows.cols);
  }
  return out;
}

}  // namespace frozenseg::text
