// The inner loops of the inferences, each with an AVX2 copy giving the same results as the
// scalar one (the sigmoid is numpy's, bit for bit, in both).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace frozenseg::output::kernels {

// Panoptic owner map, one row of one kept query k: s = sigmoid(m), v = score * s; where v wins
// numpy's argmax against best (greater, or NaN over non-NaN) best = v, owner = k, fg = s >= 0.5
// (as 0 / 1). Returns how many s >= 0.5 (the query's original area in this row).
int owner_update_row(const float* m, int n, float score, std::int32_t k, float* best,
                     std::int32_t* owner, std::int32_t* fg) noexcept;

// Semantic scores of one row: the sigmoids of Q mask rows are packed in blocks of 16 pixels,
// packed[(j * Q + q) * 16 + i] = sigmoid(rows[q][16 j + i]) (zero past the row's end).
void pack_sigmoids(const float* row, int n, int queries, int q, float* packed) noexcept;

// Class weights a (queries x lda, the first `classes` columns used) in groups of 6 classes:
// packed[(g * queries + q) * 6 + r] = a[q * lda + 6 g + r], zero past the last class.
constexpr int kClassGroup = 6;
std::vector<float> pack_class_weights(const float* a, int queries, int lda, int classes);

// For 16 pixels (block j of pack_sigmoids): out[c * stride + i] = sum_q a[q][c] * s[q][i] for
// c < classes, and labels[i] = argmax_c of those scores (numpy's first-index argmax). `out` may
// be the score planes themselves (stride = H * W) or a 16-wide tile. With `stream` (out and
// stride 32-byte aligned) the rows bypass the caches: the planes are far larger than any cache
// and never read back here; call store_fence() before other threads read them.
void class_scores_block(const float* packed_block, int queries, const float* packed_weights,
                        int classes, float* out, std::size_t stride, std::int32_t* labels,
                        bool stream = false) noexcept;
void store_fence() noexcept;

}  // namespace frozenseg::output::kernels
