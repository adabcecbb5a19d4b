// official_class_scores, InferenceConstants and the task names.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "output/checks.hpp"
#include "output/numpy_math.hpp"
#include "output/pairwise_sum.hpp"
#include "output/postprocess.hpp"

namespace frozenseg::output {

std::string_view task_name(Task task) noexcept { return kTaskNames[static_cast<int>(task)]; }

Task parse_task(std::string_view name) {
  for (std::size_t i = 0; i < kTaskNames.size(); ++i)
    if (kTaskNames[i] == name) return static_cast<Task>(i);
  fail_input("task must be one of ('semantic', 'panoptic', 'instance'), got '" +
             std::string(name) + "'");
}

InferenceConstants InferenceConstants::from_record(const nlohmann::json& record) {
  auto number = [&](const char* key) -> const nlohmann::json& {
    if (!record.is_object() || !record.contains(key) || !record.at(key).is_number())
      fail_artifact(std::string("manifest constants.inference needs a number '") + key +
                    "'; re-export the artifacts with this version of frozenseg-deploy");
    return record.at(key);
  };
  InferenceConstants c;
  c.object_mask_threshold = number("object_mask_threshold").get<double>();
  c.overlap_threshold = number("overlap_threshold").get<double>();
  // Python's int(): truncated; clamped to int's range first (a cast of a double beyond it is
  // undefined; the top-k is then capped by the number of scores anyway).
  const double topk = number("instance_topk").get<double>();
  c.instance_topk = topk >= std::numeric_limits<int>::max()   ? std::numeric_limits<int>::max()
                    : topk <= std::numeric_limits<int>::min() ? std::numeric_limits<int>::min()
                                                              : static_cast<int>(topk);
  c.log_eps = number("log_eps").get<double>();
  c.instance_score_eps = number("instance_score_eps").get<double>();
  return c;
}

std::vector<float> official_class_scores(ClassProbsView probs, double log_eps) {
  check_probs(probs);
  const std::size_t cols = static_cast<std::size_t>(probs.columns);
  const std::size_t n = static_cast<std::size_t>(probs.queries) * cols;
  const float eps = static_cast<float>(log_eps);
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = probs.data[i] + eps;
  npmath::log_f32(out.data(), out.data(), n);
  for (std::size_t q = 0; q < static_cast<std::size_t>(probs.queries); ++q) {
    float* row = out.data() + q * cols;
    // numpy's max propagates NaN.
    float top = row[0];
    for (std::size_t c = 1; c < cols && top == top; ++c)
      top = row[c] != row[c] ? row[c] : std::max(top, row[c]);
    for (std::size_t c = 0; c < cols; ++c) row[c] -= top;
    npmath::exp_f32(row, row, cols);
    const float total = numpy_pairwise_sum(row, cols);
    for (std::size_t c = 0; c < cols; ++c) row[c] /= total;
  }
  return out;
}

}  // namespace frozenseg::output
