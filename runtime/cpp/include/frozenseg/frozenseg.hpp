// Header-only C++ wrapper over the C API (frozenseg.h): RAII handles, exceptions, spans.
//
//   frozenseg::Segmenter seg("artifacts/");
//   seg.set_vocabulary("cat,dog,grass");
//   auto result = seg.segment_file("photo.jpg", FS_TASK_PANOPTIC);
//   for (const auto& s : result.segments()) ...
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "frozenseg/frozenseg.h"

namespace frozenseg {

// A failed call: its status and fs_last_error()'s message.
class ApiError : public std::runtime_error {
 public:
  ApiError(fs_status status, const char* message) : std::runtime_error(message), status_(status) {}
  fs_status status() const noexcept { return status_; }

 private:
  fs_status status_;
};

inline void check(fs_status status) {
  if (status != FS_OK) throw ApiError(status, fs_last_error());
}

class Result {
 public:
  explicit Result(fs_result_t handle) : handle_(handle, &fs_result_release) {
    check(fs_result_size(handle, &height_, &width_));
  }
  int height() const noexcept { return height_; }
  int width() const noexcept { return width_; }
  std::span<const std::int32_t> semantic_labels() const {
    const auto* p = fs_result_semantic_labels(handle_.get());
    return p ? std::span<const std::int32_t>(p, pixels()) : std::span<const std::int32_t>();
  }
  std::span<const std::int32_t> panoptic() const {
    const auto* p = fs_result_panoptic(handle_.get(), nullptr, nullptr);
    return p ? std::span<const std::int32_t>(p, pixels()) : std::span<const std::int32_t>();
  }
  std::span<const fs_segment_info> segments() const {
    const fs_segment_info* s = nullptr;
    std::size_t n = 0;
    fs_result_panoptic(handle_.get(), &s, &n);
    return {s, n};
  }
  std::size_t instance_count() const { return fs_result_instances(handle_.get(), nullptr, nullptr, nullptr); }
  std::span<const std::uint8_t> instance_masks() const {
    const std::uint8_t* m = nullptr;
    const auto n = fs_result_instances(handle_.get(), &m, nullptr, nullptr);
    return {m, n * pixels()};
  }
  std::span<const float> instance_scores() const {
    const float* s = nullptr;
    const auto n = fs_result_instances(handle_.get(), nullptr, &s, nullptr);
    return {s, n};
  }
  std::span<const std::int32_t> instance_classes() const {
    const std::int32_t* c = nullptr;
    const auto n = fs_result_instances(handle_.get(), nullptr, nullptr, &c);
    return {c, n};
  }
  std::vector<std::string> class_names() const {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < fs_result_num_classes(handle_.get()); ++i)
      names.emplace_back(fs_result_class_name(handle_.get(), i));
    return names;
  }
  // Seconds per stage (preprocess, clip_image, sam_image, decoder, graphs, postprocess), in the
  // order Python's SegmentationResult.timings holds them.
  std::vector<std::pair<std::string, double>> timings() const {
    std::vector<std::pair<std::string, double>> stages;
    for (std::size_t i = 0; i < fs_result_num_timings(handle_.get()); ++i) {
      const char* stage = nullptr;
      double seconds = 0.0;
      check(fs_result_timing(handle_.get(), i, &stage, &seconds));
      stages.emplace_back(stage, seconds);
    }
    return stages;
  }

 private:
  std::size_t pixels() const { return static_cast<std::size_t>(height_) * static_cast<std::size_t>(width_); }
  std::unique_ptr<fs_result, void (*)(fs_result_t)> handle_;
  std::int32_t height_ = 0, width_ = 0;
};

class Segmenter {
 public:
  explicit Segmenter(const std::string& artifacts, const fs_segmenter_options& options = fs_segmenter_options_default())
      : handle_(nullptr, &fs_segmenter_destroy) {
    fs_segmenter_t raw = nullptr;
    check(fs_segmenter_create(artifacts.c_str(), &options, &raw));
    handle_.reset(raw);
  }
  std::string backend() const { return fs_segmenter_backend(handle_.get()); }
  // A file (.txt, .json) or text ("cat,dog", or a JSON list of {"names": [...], "isthing": b}).
  void set_vocabulary(const std::string& source) { check(fs_segmenter_set_vocabulary_text(handle_.get(), source.c_str())); }
  // Classes with synonyms (first = display name) and thing flags.
  void set_vocabulary(const std::vector<std::vector<std::string>>& names, const std::vector<bool>& isthing) {
    if (names.size() != isthing.size()) throw std::invalid_argument("one isthing flag per class");
    std::vector<std::vector<const char*>> pointers(names.size());
    std::vector<fs_class> classes(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      for (const auto& n : names[i]) pointers[i].push_back(n.c_str());
      classes[i] = {pointers[i].data(), pointers[i].size(), isthing[i] ? 1 : 0};
    }
    check(fs_segmenter_set_vocabulary(handle_.get(), classes.data(), classes.size()));
  }
  Result segment(const fs_image& image, fs_task task) const {
    fs_result_t raw = nullptr;
    check(fs_segment(handle_.get(), &image, task, &raw));
    return Result(raw);
  }
  // With its own test-time resize (short_edge, max_size; both 0: none) instead of the manifest's.
  Result segment(const fs_image& image, fs_task task, int32_t short_edge, int32_t max_size) const {
    fs_result_t raw = nullptr;
    check(fs_segment_resized(handle_.get(), &image, task, short_edge, max_size, &raw));
    return Result(raw);
  }
  Result segment_file(const std::string& path, fs_task task) const {
    fs_result_t raw = nullptr;
    check(fs_segment_file(handle_.get(), path.c_str(), task, &raw));
    return Result(raw);
  }

 private:
  std::unique_ptr<fs_segmenter, void (*)(fs_segmenter_t)> handle_;
};

}  // namespace frozenseg
