// panoptic_inference: the owner map is built band by band (a few output rows, every kept query),
// fusing the resize, the sigmoid and the argmax; areas and the official per-query loop follow.
#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>

#include "output/checks.hpp"
#include "output/parallel.hpp"
#include "output/post_kernels.hpp"
#include "output/postprocess.hpp"

namespace frozenseg::output {

namespace {

struct KeptQueries {
  std::vector<int> query;      // indices into the decoder's queries, ascending
  std::vector<float> score;    // class score
  std::vector<int> category;   // argmax class
};

KeptQueries kept_queries(const std::vector<float>& probs, int queries, int columns,
                         double object_mask_threshold) {
  const int void_class = columns - 1;
  const float threshold = static_cast<float>(object_mask_threshold);
  KeptQueries kept;
  for (int q = 0; q < queries; ++q) {
    const float* row = probs.data() + static_cast<std::size_t>(q) * columns;
    const int label = numpy_argmax(row, columns);
    if (label != void_class && row[label] > threshold) {
      kept.query.push_back(q);
      kept.score.push_back(row[label]);
      kept.category.push_back(label);
    }
  }
  return kept;
}

// Per pixel: owning kept query and whether its sigmoid there is >= 0.5; per kept query the count
// of sigmoid >= 0.5 over the whole image (Python's _owner_map).
struct OwnerMap {
  std::vector<std::int32_t> owner;
  std::vector<std::int32_t> fg;
  std::vector<long> original_area;
};

OwnerMap owner_map(const MaskResizePlan& plan, MaskLogitsView masks, const KeptQueries& kept,
                   int threads) {
  const Size2 size = plan.output_size();
  const int width = size.width;
  const std::size_t plane = static_cast<std::size_t>(size.height) * width;
  const std::size_t mask_floats = static_cast<std::size_t>(masks.size.height) * masks.size.width;
  const int n = static_cast<int>(kept.query.size());
  OwnerMap map;
  map.owner.assign(plane, 0);
  map.fg.assign(plane, 0);
  map.original_area.assign(n, 0);
  // About 8k pixels per band: best, owner and fg of a band stay in L1/L2 across the queries.
  const int band_rows = std::max(1, 8192 / width);
  const int workers = worker_count(threads, size.height / band_rows + 1);
  std::vector<std::vector<long>> areas(workers, std::vector<long>(n, 0));
  parallel_ranges(workers, size.height, [&](int worker, long y_begin, long y_end) {
    std::vector<MaskRowStream> streams;
    streams.reserve(n);
    for (int k = 0; k < n; ++k) {
      streams.emplace_back(plan);
      streams.back().reset(masks.data + kept.query[k] * mask_floats);
    }
    std::vector<float> best(static_cast<std::size_t>(band_rows) * width);
    std::vector<long>& area = areas[worker];
    for (long y0 = y_begin; y0 < y_end; y0 += band_rows) {
      const long y1 = std::min(y_end, y0 + band_rows);
      const std::size_t first = static_cast<std::size_t>(y0) * width;
      const std::size_t count = static_cast<std::size_t>(y1 - y0) * width;
      std::fill_n(best.begin(), count, -std::numeric_limits<float>::infinity());
      std::int32_t* owner = map.owner.data() + first;
      std::int32_t* fg = map.fg.data() + first;
      for (int k = 0; k < n; ++k)
        for (long y = y0; y < y1; ++y) {
          const std::size_t offset = static_cast<std::size_t>(y - y0) * width;
          area[k] += kernels::owner_update_row(streams[k].row(static_cast<int>(y)), width,
                                               kept.score[k], k, best.data() + offset,
                                               owner + offset, fg + offset);
        }
    }
  });
  for (const auto& a : areas)
    for (int k = 0; k < n; ++k) map.original_area[k] += a[k];
  return map;
}

}  // namespace

PanopticOutput panoptic_inference(ClassProbsView probs, MaskLogitsView masks,
                                  const MaskGeometry& geometry, const std::vector<bool>& isthing,
                                  double object_mask_threshold, double overlap_threshold,
                                  double log_eps, const PostprocessOptions& options) {
  check_inputs(probs, masks);
  const int num_classes = probs.columns - 1;
  check_isthing(isthing, num_classes);
  const MaskResizePlan plan(masks.size, geometry);
  const Size2 size = plan.output_size();
  const std::size_t plane = static_cast<std::size_t>(size.height) * size.width;

  PanopticOutput out;
  out.size = size;
  out.panoptic_seg.assign(plane, 0);
  const std::vector<float> scores = official_class_scores(probs, log_eps);
  const KeptQueries kept = kept_queries(scores, probs.queries, probs.columns,
                                        object_mask_threshold);
  const int n = static_cast<int>(kept.query.size());
  if (n == 0) return out;

  const OwnerMap map = owner_map(plan, masks, kept, options.threads);
  std::vector<long> mask_area(n, 0), visible_area(n, 0);
  for (std::size_t p = 0; p < plane; ++p) {
    ++mask_area[map.owner[p]];
    visible_area[map.owner[p]] += map.fg[p];
  }

  // The official per-query loop (Python's _assign_segments).
  std::vector<std::int32_t> segment_of(n, 0);
  std::map<int, int> stuff_memory;
  int current = 0;
  for (int k = 0; k < n; ++k) {
    const int category = kept.category[k];
    const bool thing = isthing[category];
    if (!(mask_area[k] > 0 && map.original_area[k] > 0 && visible_area[k] > 0)) continue;
    if (static_cast<double>(mask_area[k]) / static_cast<double>(map.original_area[k]) <
        overlap_threshold)
      continue;
    if (!thing) {
      if (auto it = stuff_memory.find(category); it != stuff_memory.end()) {
        segment_of[k] = it->second;
        continue;
      }
      stuff_memory[category] = current + 1;
    }
    ++current;
    segment_of[k] = current;
    out.segments.push_back({current, category, thing, kept.score[k]});
  }
  // One owner per pixel, so a lookup equals the official sequence of `seg[mask] = id`.
  for (std::size_t p = 0; p < plane; ++p)
    out.panoptic_seg[p] = map.fg[p] ? segment_of[map.owner[p]] : 0;
  return out;
}

}  // namespace frozenseg::output
