// SegmentationResult and segmentation_result: runtime/output/postprocess.py's dataclass and the
// one call the Segmenter makes after decoding.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "output/postprocess.hpp"

namespace frozenseg::output {

// Results at the output size. Class indices refer to class_names. Which arrays are filled
// depends on the task, as in Python (the others stay empty).
struct SegmentationResult {
  Task task = Task::semantic;
  std::vector<std::string> class_names;
  std::vector<bool> isthing;
  Size2 image_size;                              // the output size (H, W)
  std::vector<std::int32_t> semantic_labels;     // semantic: (H, W)
  FloatBuffer semantic_scores;                   // semantic: (C, H, W)
  std::vector<std::int32_t> panoptic_seg;        // panoptic: (H, W), 0 = no segment
  std::vector<Segment> segments_info;            // panoptic
  std::vector<std::uint8_t> instance_masks;      // instance: (N, H, W) 0 / 1
  std::vector<float> instance_scores;            // instance: (N,)
  std::vector<std::int64_t> instance_classes;    // instance: (N,)
  std::vector<std::pair<std::string, double>> timings;  // seconds, in insertion order

  std::size_t instance_count() const { return instance_scores.size(); }
};

// The decoder's raw outputs for one image (batch axis dropped).
struct DecoderOutputs {
  ClassProbsView class_probs;  // "class_probs" (Q, C+1)
  MaskLogitsView pred_masks;   // "pred_masks" (Q, h, w)
};

// The official post-processing of one task at geometry.output size (Python's
// segmentation_result; instances with things_only). class_names and isthing are the
// vocabulary's display names and flags (one per class).
SegmentationResult segmentation_result(const DecoderOutputs& raw, const MaskGeometry& geometry,
                                       std::vector<std::string> class_names,
                                       std::vector<bool> isthing, Task task,
                                       const InferenceConstants& constants,
                                       const PostprocessOptions& options = {});

}  // namespace frozenseg::output
