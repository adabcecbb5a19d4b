// Post-processing of FrozenSeg outputs: runtime/output/postprocess.py in C++.
//
// Inputs are the decoder's `class_probs` (Q, C+1; void last) and mask logits (Q, h, w) at the
// decoder's resolution, plus the MaskGeometry that takes masks to the output size. Every inference
// fuses masks_to_output into its loops (rows stream through MaskRowStream), so the (Q, H, W)
// stack the Python code builds never exists; pass MaskGeometry::identity(size) for masks that are
// already at the output size (then nothing is resized, exactly as in Python).
//
// Parity with Python (numpy on x86 with AVX2 or AVX512):
// - bit for bit: official_class_scores, masks_to_output, the panoptic map, segments and scores,
//   the instance order, classes, masks and scores (numpy's float32 exp/log algorithm and its
//   pairwise summation are reproduced, see numpy_math.hpp and pairwise_sum.hpp);
// - semantic scores within float32 rounding (Python's einsum is a BLAS sgemm whose summation order
//   is the BLAS build's own); labels are their argmax, so they agree wherever the best two
//   classes of a pixel differ by more than that rounding.
// Results do not depend on the number of threads. All functions are thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "output/float_buffer.hpp"
#include "output/mask_resize.hpp"

namespace frozenseg::output {

enum class Task { semantic, panoptic, instance };
inline constexpr std::array<std::string_view, 3> kTaskNames = {"semantic", "panoptic", "instance"};
std::string_view task_name(Task task) noexcept;
// Throws Error(FS_INVALID_INPUT) "task must be one of ('semantic', 'panoptic', 'instance'), got
// 'x'" like segmentation_result's UsageError.
Task parse_task(std::string_view name);

// The official inference settings (manifest constants.inference). The defaults are the official
// values (frozenseg/presets.py Inference); from_record reads a manifest's.
// No defaults on purpose: the values come from the manifest (constants.inference), never from here.
struct InferenceConstants {
  double object_mask_threshold = 0;
  double overlap_threshold = 0;
  int instance_topk = 0;
  double log_eps = 0;
  double instance_score_eps = 0;
  // Throws Error(FS_ARTIFACT_ERROR) naming a missing or non-numeric key.
  static InferenceConstants from_record(const nlohmann::json& record);
};

// Row-major float32 views of the decoder's outputs (batch axis dropped).
struct ClassProbsView {
  const float* data = nullptr;
  int queries = 0;
  int columns = 0;  // C + 1, void last
};
struct MaskLogitsView {
  const float* data = nullptr;
  int queries = 0;
  Size2 size;  // (h, w)
};

struct PostprocessOptions {
  int threads = 0;  // worker threads; 0 = std::thread::hardware_concurrency()
};

// softmax(log(p + log_eps)) per row, (Q, C+1) float32: the scores every inference starts from.
std::vector<float> official_class_scores(ClassProbsView probs, double log_eps);

// (Q, H, W) float32 masks at the output size, as Python's masks_to_output.
FloatBuffer masks_to_output(MaskLogitsView masks, const MaskGeometry& geometry,
                            const PostprocessOptions& options = {});

struct SemanticOutput {
  int classes = 0;
  Size2 size;
  FloatBuffer scores;                  // (C, H, W): einsum("qc,qhw->chw", scores, sigmoid(masks))
  std::vector<std::int32_t> labels;    // (H, W): argmax over C, first index on ties
};
// keep_scores = false leaves `scores` empty (the labels are the same) and saves C*H*W floats.
SemanticOutput semantic_inference(ClassProbsView probs, MaskLogitsView masks,
                                  const MaskGeometry& geometry, double log_eps,
                                  const PostprocessOptions& options = {}, bool keep_scores = true);

// One panoptic segment; ids count from 1. `score` (the query's class score) is the runtime's
// addition to the official keys.
struct Segment {
  int id = 0;
  int category_id = 0;
  bool isthing = false;
  float score = 0.0f;
  friend bool operator==(const Segment&, const Segment&) = default;
};
struct PanopticOutput {
  Size2 size;
  std::vector<std::int32_t> panoptic_seg;  // (H, W), 0 = no segment
  std::vector<Segment> segments;
};
// The official merge: owner = argmax_k(score_k * sigmoid(mask_k)) over the kept queries,
// overlap test on owned / original areas, stuff classes merged, one id per segment.
PanopticOutput panoptic_inference(ClassProbsView probs, MaskLogitsView masks,
                                  const MaskGeometry& geometry, const std::vector<bool>& isthing,
                                  double object_mask_threshold, double overlap_threshold,
                                  double log_eps, const PostprocessOptions& options = {});

struct InstanceOutput {
  Size2 size;
  std::vector<std::uint8_t> masks;     // (N, H, W), 0 or 1 (numpy bool)
  std::vector<float> scores;           // (N,)
  std::vector<std::int64_t> classes;   // (N,)
  std::size_t count() const { return scores.size(); }
};
// Top-k over all (query, class) scores by score descending, ties by index; with things_only,
// stuff classes are dropped after the top-k; score = class score * mean sigmoid over the mask.
InstanceOutput instance_inference(ClassProbsView probs, MaskLogitsView masks,
                                  const MaskGeometry& geometry, const std::vector<bool>& isthing,
                                  int topk, bool things_only, double log_eps, double score_eps,
                                  const PostprocessOptions& options = {});

}  // namespace frozenseg::output
