// semantic_inference: per output row, the sigmoids of every query's resized row are packed in
// blocks of 16 pixels and multiplied by the class scores (C x Q) in registers; labels are taken
// from the same tile while it is in L1.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "output/checks.hpp"
#include "output/parallel.hpp"
#include "output/post_kernels.hpp"
#include "output/postprocess.hpp"

namespace frozenseg::output {

SemanticOutput semantic_inference(ClassProbsView probs, MaskLogitsView masks,
                                  const MaskGeometry& geometry, double log_eps,
                                  const PostprocessOptions& options, bool keep_scores) {
  check_inputs(probs, masks);
  const MaskResizePlan plan(masks.size, geometry);
  const int queries = probs.queries;
  const int classes = probs.columns - 1;
  const Size2 size = plan.output_size();
  const std::size_t plane = static_cast<std::size_t>(size.height) * size.width;
  const std::vector<float> scores = official_class_scores(probs, log_eps);  // (Q, C+1)
  const std::vector<float> weights =
      kernels::pack_class_weights(scores.data(), queries, probs.columns, classes);

  SemanticOutput out;
  out.classes = classes;
  out.size = size;
  out.labels.assign(plane, 0);
  if (keep_scores) out.scores.resize(plane * classes);  // every element written below
  if (queries == 0) {  // no query: every score 0, every label 0 (as numpy)
    std::fill(out.scores.begin(), out.scores.end(), 0.0f);
    return out;
  }

  constexpr int kBlock = 16;
  const int blocks = (size.width + kBlock - 1) / kBlock;
  const std::size_t mask_floats = static_cast<std::size_t>(masks.size.height) * masks.size.width;
  parallel_ranges(worker_count(options.threads, size.height), size.height,
                  [&](int, long y_begin, long y_end) {
    std::vector<MaskRowStream> streams;
    streams.reserve(queries);
    for (int q = 0; q < queries; ++q) {
      streams.emplace_back(plan);
      streams.back().reset(masks.data + q * mask_floats);
    }
    std::vector<float> packed(static_cast<std::size_t>(blocks) * queries * kBlock);
    std::vector<float> tile(static_cast<std::size_t>(classes) * kBlock);
    std::int32_t labels[kBlock];
    for (long y = y_begin; y < y_end; ++y) {
      for (int q = 0; q < queries; ++q)
        kernels::pack_sigmoids(streams[q].row(static_cast<int>(y)), size.width, queries, q,
                               packed.data());
      for (int j = 0; j < blocks; ++j) {
        const int x0 = j * kBlock;
        const int valid = std::min(kBlock, size.width - x0);
        const std::size_t at = static_cast<std::size_t>(y) * size.width + x0;
        // Whole blocks go straight to the score planes; the rest through a 16-wide tile.
        const bool direct = keep_scores && valid == kBlock;
        float* target = direct ? out.scores.data() + at : tile.data();
        const bool stream = direct && reinterpret_cast<std::uintptr_t>(target) % 32 == 0 && plane % 8 == 0;
        kernels::class_scores_block(packed.data() + static_cast<std::size_t>(j) * queries * kBlock,
                                    queries, weights.data(), classes, target,
                                    direct ? plane : static_cast<std::size_t>(kBlock), labels,
                                    stream);
        std::copy(labels, labels + valid, out.labels.begin() + at);
        if (keep_scores && !direct)
          for (int c = 0; c < classes; ++c)
            std::copy(tile.begin() + c * kBlock, tile.begin() + c * kBlock + valid,
                      out.scores.begin() + c * plane + at);
      }
    }
    kernels::store_fence();  // streamed scores visible to the caller's thread
  });
  return out;
}

}  // namespace frozenseg::output
