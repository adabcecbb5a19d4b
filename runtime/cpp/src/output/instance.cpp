// instance_inference: top-k over (query, class) scores, then one full-size pass per distinct
// query of the top-k: its bool mask (logits > 0) and numpy's float32 mask score.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

#include "output/checks.hpp"
#include "output/numpy_math.hpp"
#include "output/pairwise_sum.hpp"
#include "output/parallel.hpp"
#include "output/postprocess.hpp"

namespace frozenseg::output {

namespace {

// numpy's argsort(-values, kind="stable")[:k]: value descending, ties by index, NaN last.
std::vector<int> topk_desc(const std::vector<float>& values, int k) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  auto before = [&](int a, int b) {
    const float va = values[a], vb = values[b];
    const bool na = std::isnan(va), nb = std::isnan(vb);
    if (na || nb) return na == nb ? a < b : nb;
    return va > vb || (va == vb && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
  order.resize(k);
  return order;
}

}  // namespace

InstanceOutput instance_inference(ClassProbsView probs, MaskLogitsView masks,
                                  const MaskGeometry& geometry, const std::vector<bool>& isthing,
                                  int topk, bool things_only, double log_eps, double score_eps,
                                  const PostprocessOptions& options) {
  check_inputs(probs, masks);
  const int num_classes = probs.columns - 1;
  check_isthing(isthing, num_classes);
  const MaskResizePlan plan(masks.size, geometry);
  const Size2 size = plan.output_size();
  const std::size_t plane = static_cast<std::size_t>(size.height) * size.width;

  // Class scores without void, (Q, C) flattened.
  const std::vector<float> full = official_class_scores(probs, log_eps);
  std::vector<float> scores(static_cast<std::size_t>(probs.queries) * num_classes);
  for (int q = 0; q < probs.queries; ++q)
    std::copy_n(full.begin() + static_cast<std::size_t>(q) * probs.columns, num_classes,
                scores.begin() + static_cast<std::size_t>(q) * num_classes);
  const int k = static_cast<int>(std::min<long>(std::max(topk, 0), static_cast<long>(scores.size())));
  std::vector<int> queries, classes;
  std::vector<float> top_scores;
  for (const int idx : topk_desc(scores, k)) {
    const int c = idx % num_classes;
    if (things_only && !isthing[c]) continue;
    queries.push_back(idx / num_classes);
    classes.push_back(c);
    top_scores.push_back(scores[idx]);
  }

  // Distinct queries, ascending (np.unique), each resized once.
  std::vector<int> unique_q = queries;
  std::sort(unique_q.begin(), unique_q.end());
  unique_q.erase(std::unique(unique_q.begin(), unique_q.end()), unique_q.end());
  const std::size_t mask_floats = static_cast<std::size_t>(masks.size.height) * masks.size.width;
  std::vector<std::uint8_t> unique_masks(unique_q.size() * plane);
  std::vector<float> mask_scores(unique_q.size());
  const float eps = static_cast<float>(score_eps);
  const long n_unique = static_cast<long>(unique_q.size());
  parallel_ranges(worker_count(options.threads, n_unique), n_unique,
                  [&](int, long begin, long end) {
    MaskRowStream stream(plan);
    std::vector<float> logits(plane), values(plane);
    for (long u = begin; u < end; ++u) {
      stream.reset(masks.data + unique_q[u] * mask_floats);
      stream.write_all(logits.data());
      std::uint8_t* fg = unique_masks.data() + u * plane;
      // Python's _mask_scores: sum(sigmoid(l) * (l > 0)) / (sum(l > 0) + eps), float32 sums.
      npmath::sigmoid_f32(logits.data(), values.data(), plane);
      for (std::size_t p = 0; p < plane; ++p) {
        fg[p] = logits[p] > 0.0f;
        values[p] *= fg[p] ? 1.0f : 0.0f;
      }
      const float num = numpy_pairwise_sum(values.data(), plane);
      for (std::size_t p = 0; p < plane; ++p) values[p] = fg[p] ? 1.0f : 0.0f;
      const float count = numpy_pairwise_sum(values.data(), plane);
      mask_scores[u] = num / (count + eps);
    }
  });

  InstanceOutput out;
  out.size = size;
  const std::size_t n = queries.size();
  out.masks.resize(n * plane);
  out.scores.resize(n);
  out.classes.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t u = std::lower_bound(unique_q.begin(), unique_q.end(), queries[i]) -
                          unique_q.begin();
    std::copy_n(unique_masks.begin() + u * plane, plane, out.masks.begin() + i * plane);
    out.scores[i] = top_scores[i] * mask_scores[u];
    out.classes[i] = classes[i];
  }
  return out;
}

}  // namespace frozenseg::output
