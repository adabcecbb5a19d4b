// Text features -> the decoder's padded vocabulary tensors, as runtime/text/embedding.py computes
// them with numpy (float32, numpy's summation order: results equal to the last bit or nearly).
#pragma once

#include <cstddef>
#include <vector>

#include "text/vocabulary.hpp"

namespace frozenseg::text {

// Row-major (rows x cols) float32.
struct FloatMatrix {
  std::vector<float> data;
  size_t rows = 0;
  size_t cols = 0;
  const float* row(size_t r) const { return data.data() + r * cols; }
};

// x / max(||x||, 1e-12) per row, as l2_normalize(x, axis=-1) with numpy's pairwise sum.
FloatMatrix l2_normalize(const FloatMatrix& x);

// (synonyms * templates, E) prompt features -> (synonyms, E) normalised embeddings: normalise,
// average each synonym's templates, normalise again. Error(FS_INVALID_ARGUMENT) when the rows
// are not a multiple of num_templates.
FloatMatrix average_templates(const FloatMatrix& features, size_t num_templates);

// Synonym rows (N, E) gathered into (classes, synonyms, E) by the index (-1: zeros), row-major.
std::vector<float> padded_embeddings(const FloatMatrix& rows, const SynonymIndex& index);

}  // namespace frozenseg::text
