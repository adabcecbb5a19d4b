#include "output/result.hpp"

#include <string>

#include "common/error.hpp"

namespace frozenseg::output {

SegmentationResult segmentation_result(const DecoderOutputs& raw, const MaskGeometry& geometry,
                                       std::vector<std::string> class_names,
                                       std::vector<bool> isthing, Task task,
                                       const InferenceConstants& constants,
                                       const PostprocessOptions& options) {
  if (class_names.size() != isthing.size())
    fail_argument("expected one isthing flag per class name, got " +
                  std::to_string(class_names.size()) + " names and " +
                  std::to_string(isthing.size()) + " flags");
  SegmentationResult result;
  result.task = task;
  result.image_size = geometry.output;
  const ClassProbsView probs = raw.class_probs;
  const MaskLogitsView masks = raw.pred_masks;
  if (task == Task::semantic) {
    SemanticOutput s = semantic_inference(probs, masks, geometry, constants.log_eps, options);
    result.semantic_scores = std::move(s.scores);
    result.semantic_labels = std::move(s.labels);
  } else if (task == Task::panoptic) {
    PanopticOutput p = panoptic_inference(probs, masks, geometry, isthing,
                                          constants.object_mask_threshold,
                                          constants.overlap_threshold, constants.log_eps, options);
    result.panoptic_seg = std::move(p.panoptic_seg);
    result.segments_info = std::move(p.segments);
  } else {
    InstanceOutput i = instance_inference(probs, masks, geometry, isthing,
                                          constants.instance_topk, /*things_only=*/true,
                                          constants.log_eps, constants.instance_score_eps, options);
    result.instance_masks = std::move(i.masks);
    result.instance_scores = std::move(i.scores);
    result.instance_classes = std::move(i.classes);
  }
  result.class_names = std::move(class_names);
  result.isthing = std::move(isthing);
  return result;
}

}  // namespace frozenseg::output
