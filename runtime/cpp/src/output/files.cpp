#include "output/files.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <system_error>

#include "common/error.hpp"
#include "common/atomic_file.hpp"
#include "common/npy.hpp"
#include "common/zip.hpp"
#include "output/png.hpp"

namespace frozenseg::output {

namespace {

std::size_t plane_of(Size2 size) { return static_cast<std::size_t>(size.height) * size.width; }

void check_plane(std::size_t count, Size2 size, const char* what) {
  if (count != plane_of(size))
    fail_argument(std::string(what) + " needs " + std::to_string(plane_of(size)) +
                  " pixels for a " + std::to_string(size.height) + "x" +
                  std::to_string(size.width) + " image, got " + std::to_string(count));
}

// Python's round(x, 5): the nearest decimal with 5 places (ties to even on the exact binary
// value, as glibc's printf), read back as a double.
double round5(double x) {
  char text[64];
  std::snprintf(text, sizeof text, "%.5f", x);
  return std::strtod(text, nullptr);
}

const std::string& name_at(const SegmentationResult& result, std::int64_t index) {
  if (index < 0 || index >= static_cast<std::int64_t>(result.class_names.size()))
    fail_argument("class index " + std::to_string(index) + " has no name (" +
                  std::to_string(result.class_names.size()) + " class names)");
  return result.class_names[static_cast<std::size_t>(index)];
}

void check_instances(const SegmentationResult& result) {
  const std::size_t n = result.instance_count();
  if (result.instance_masks.size() != n * plane_of(result.image_size) ||
      result.instance_classes.size() != n)
    fail_argument("instance results need N masks of the image size and N classes, got " +
                  std::to_string(n) + " scores, " + std::to_string(result.instance_classes.size()) +
                  " classes and " + std::to_string(result.instance_masks.size()) + " mask pixels");
}

template <typename T>
std::span<const std::uint8_t> bytes_of(const std::vector<T>& v) {
  return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(T)};
}

}  // namespace

std::vector<std::uint8_t> label_png(const std::vector<std::int32_t>& labels, Size2 size) {
  check_plane(labels.size(), size, "a label PNG");
  const auto [lo, hi] = std::minmax_element(labels.begin(), labels.end());
  if (labels.empty() || (*hi < 256 && *lo >= 0)) {
    std::vector<std::uint8_t> pixels(labels.begin(), labels.end());
    return encode_png_gray8(pixels, size.height, size.width);
  }
  std::vector<std::uint16_t> pixels(labels.size());
  std::transform(labels.begin(), labels.end(), pixels.begin(),
                 [](std::int32_t v) { return static_cast<std::uint16_t>(v); });
  return encode_png_gray16(pixels, size.height, size.width);
}

std::vector<std::uint8_t> coco_panoptic_png(const std::vector<std::int32_t>& panoptic, Size2 size) {
  check_plane(panoptic.size(), size, "a panoptic PNG");
  std::vector<std::uint8_t> rgb(panoptic.size() * 3);
  for (std::size_t p = 0; p < panoptic.size(); ++p) {
    const auto id = static_cast<std::uint32_t>(panoptic[p]);
    rgb[3 * p] = static_cast<std::uint8_t>(id % 256);
    rgb[3 * p + 1] = static_cast<std::uint8_t>(id / 256 % 256);
    rgb[3 * p + 2] = static_cast<std::uint8_t>(id / 65536 % 256);
  }
  return encode_png_rgb8(rgb, size.height, size.width);
}

std::vector<std::int64_t> panoptic_labels(const std::vector<std::int32_t>& panoptic,
                                          const std::vector<Segment>& segments) {
  std::map<std::int32_t, std::int64_t> category;  // later segments with the same id win
  for (const Segment& s : segments) category[s.id] = s.category_id;
  std::vector<std::int64_t> labels(panoptic.size(), -1);
  for (std::size_t p = 0; p < panoptic.size(); ++p)
    if (auto it = category.find(panoptic[p]); it != category.end()) labels[p] = it->second;
  return labels;
}

std::vector<std::int64_t> instance_labels(const SegmentationResult& result) {
  check_instances(result);
  const std::size_t plane = plane_of(result.image_size);
  const std::size_t n = result.instance_count();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return result.instance_scores[a] < result.instance_scores[b];
  });
  std::vector<std::int64_t> labels(plane, -1);
  for (const std::size_t i : order) {
    if (!(result.instance_scores[i] >= 0.5f)) continue;
    const std::uint8_t* mask = result.instance_masks.data() + i * plane;
    for (std::size_t p = 0; p < plane; ++p)
      if (mask[p]) labels[p] = result.instance_classes[i];
  }
  return labels;
}

std::vector<std::uint8_t> instances_npz(const SegmentationResult& result) {
  check_instances(result);
  const std::size_t n = result.instance_count();
  const std::vector<std::size_t> mask_shape = {n, static_cast<std::size_t>(result.image_size.height),
                                               static_cast<std::size_t>(result.image_size.width)};
  std::string masks(result.instance_masks.size(), '\0');
  std::transform(result.instance_masks.begin(), result.instance_masks.end(), masks.begin(),
                 [](std::uint8_t v) { return static_cast<char>(v != 0); });
  const auto npy = [](std::string descr, std::vector<std::size_t> shape, std::span<const std::uint8_t> data) {
    return write_npy({std::move(descr), false, std::move(shape), std::string(data.begin(), data.end())});
  };
  const std::string zip =
      write_zip({{"masks.npy", npy("|b1", mask_shape, {reinterpret_cast<const std::uint8_t*>(masks.data()), masks.size()})},
                 {"scores.npy", npy("<f4", {n}, bytes_of(result.instance_scores))},
                 {"classes.npy", npy("<i8", {n}, bytes_of(result.instance_classes))}},
                ZipMethod::deflated);
  return std::vector<std::uint8_t>(zip.begin(), zip.end());
}

nlohmann::ordered_json summary(const SegmentationResult& result, const std::string& image_name) {
  using Json = nlohmann::ordered_json;
  Json out = Json::object();
  out["image"] = image_name;
  out["task"] = std::string(task_name(result.task));
  out["size"] = Json::array({result.image_size.height, result.image_size.width});
  Json timings = Json::object();
  for (const auto& [key, seconds] : result.timings) timings[key] = seconds;
  out["timings_s"] = timings;
  const std::size_t plane = plane_of(result.image_size);
  if (result.task == Task::semantic) {
    check_plane(result.semantic_labels.size(), result.image_size, "semantic labels");
    std::map<std::int32_t, long> counts;  // np.unique: ascending ids
    for (const auto l : result.semantic_labels) ++counts[l];
    std::vector<std::pair<std::int32_t, long>> order(counts.begin(), counts.end());
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    Json classes = Json::array();
    for (const auto& [id, count] : order)
      classes.push_back(Json{{"id", id}, {"name", name_at(result, id)},
                             {"area_fraction", round5(static_cast<double>(count) / static_cast<double>(plane))}});
    out["classes"] = classes;
  }
  if (result.task == Task::panoptic) {
    check_plane(result.panoptic_seg.size(), result.image_size, "a panoptic map");
    std::map<std::int32_t, long> area;
    for (const auto id : result.panoptic_seg) ++area[id];
    Json segments = Json::array();
    for (const Segment& s : result.segments_info)
      segments.push_back(Json{{"id", s.id}, {"isthing", s.isthing}, {"category_id", s.category_id},
                              {"score", static_cast<double>(s.score)},
                              {"name", name_at(result, s.category_id)},
                              {"area", area.count(s.id) ? area[s.id] : 0L}});
    out["segments"] = segments;
  }
  if (result.task == Task::instance) {
    check_instances(result);
    Json instances = Json::array();
    for (std::size_t i = 0; i < result.instance_count(); ++i) {
      const std::uint8_t* mask = result.instance_masks.data() + i * plane;
      const long area = std::count_if(mask, mask + plane, [](std::uint8_t v) { return v != 0; });
      instances.push_back(Json{{"class", result.instance_classes[i]},
                               {"name", name_at(result, result.instance_classes[i])},
                               {"score", round5(static_cast<double>(result.instance_scores[i]))},
                               {"area", area}});
    }
    out["instances"] = instances;
  }
  return out;
}

nlohmann::ordered_json coco_panoptic_json(const SegmentationResult& result, const std::string& stem) {
  using Json = nlohmann::ordered_json;
  Json segments = Json::array();
  for (const Segment& s : result.segments_info)
    segments.push_back(Json{{"id", s.id}, {"category_id", s.category_id}, {"isthing", s.isthing},
                            {"score", static_cast<double>(s.score)}});
  return Json{{"file_name", stem + "_panoptic.png"}, {"segments_info", segments}};
}

std::string python_json_text(const nlohmann::ordered_json& value) {
  // json.dumps(indent=1): one space per level, ", " never at line ends, ASCII with \uXXXX.
  return value.dump(1, ' ', /*ensure_ascii=*/true);
}

std::vector<std::filesystem::path> save_result(const SegmentationResult& result, RgbView image,
                                               const std::filesystem::path& out_dir,
                                               const std::string& stem) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error)
    fail_input("cannot create the output folder " + out_dir.string() + ": " + error.message());
  if (image.height != result.image_size.height || image.width != result.image_size.width)
    fail_argument("the overlay image must have the result's size " +
                  std::to_string(result.image_size.height) + "x" +
                  std::to_string(result.image_size.width) + ", got " +
                  std::to_string(image.height) + "x" + std::to_string(image.width));
  std::vector<std::filesystem::path> written;
  std::vector<std::int64_t> labels;
  if (result.task == Task::semantic) {
    written.push_back(write_bytes_atomic(out_dir / (stem + "_labels.png"),
                                         label_png(result.semantic_labels, result.image_size)));
    labels.assign(result.semantic_labels.begin(), result.semantic_labels.end());
  } else if (result.task == Task::panoptic) {
    written.push_back(write_bytes_atomic(out_dir / (stem + "_panoptic.png"),
                                         coco_panoptic_png(result.panoptic_seg, result.image_size)));
    written.push_back(write_text_atomic(out_dir / (stem + "_panoptic.json"),
                                        python_json_text(coco_panoptic_json(result, stem))));
    labels = panoptic_labels(result.panoptic_seg, result.segments_info);
  } else {
    written.push_back(write_bytes_atomic(out_dir / (stem + "_instances.npz"), instances_npz(result)));
    labels = instance_labels(result);
  }
  const RgbImage picture = overlay(image, labels, result.class_names);
  written.push_back(write_bytes_atomic(out_dir / (stem + "_overlay.png"),
                                       encode_png_rgb8(picture.pixels, picture.height, picture.width)));
  written.push_back(write_text_atomic(out_dir / (stem + "_summary.json"),
                                      python_json_text(summary(result, stem))));
  return written;
}

}  // namespace frozenseg::output
