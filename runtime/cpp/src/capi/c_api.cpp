// The C ABI over Segmenter: status codes and a thread-local message, nothing thrown across.
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <type_traits>

#include "common/error.hpp"
#include "core/segmenter.hpp"
#include "frozenseg/frozenseg.h"
#include "runner/factory.hpp"

struct fs_segmenter {
  std::unique_ptr<frozenseg::core::Segmenter> impl;
};

struct fs_result {
  frozenseg::output::SegmentationResult result;
  std::vector<fs_segment_info> segments;
  std::vector<std::int32_t> classes;
};

namespace {

thread_local std::string last_error;

fs_status fail(fs_status status, std::string message) {
  last_error = std::move(message);
  return status;
}

// Runs `work`, turning every exception into a status and the thread's message.
template <typename Work>
fs_status guarded(Work&& work) noexcept {
  try {
    last_error.clear();
    work();
    return FS_OK;
  } catch (const frozenseg::Error& e) {
    return fail(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return fail(FS_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(FS_INTERNAL_ERROR, std::string("internal error (please report): ") + e.what());
  } catch (...) {
    return fail(FS_INTERNAL_ERROR, "internal error (please report): unknown exception");
  }
}

void require(bool ok, const char* message) {
  if (!ok) throw frozenseg::Error(FS_INVALID_ARGUMENT, message);
}

// A C caller may store any int in an enum field; in C++ a value outside the enumerators' range is
// undefined behaviour once read as the enum. Read the bytes as the underlying integer instead.
template <typename Enum>
long long enum_value(const Enum& value) {
  std::underlying_type_t<Enum> raw;
  std::memcpy(&raw, &value, sizeof raw);
  return static_cast<long long>(raw);
}

frozenseg::output::Task task_of(const fs_task& given) {
  const long long task = enum_value(given);
  switch (task) {
    case FS_TASK_SEMANTIC: return frozenseg::output::Task::semantic;
    case FS_TASK_PANOPTIC: return frozenseg::output::Task::panoptic;
    case FS_TASK_INSTANCE: return frozenseg::output::Task::instance;
  }
  throw frozenseg::Error(FS_INVALID_ARGUMENT, "task must be FS_TASK_SEMANTIC, FS_TASK_PANOPTIC or "
                                              "FS_TASK_INSTANCE, got " + std::to_string(task));
}

frozenseg::image::PixelFormat format_of(const fs_pixel_format& given) {
  using frozenseg::image::PixelFormat;
  const long long format = enum_value(given);
  switch (format) {
    case FS_PIXEL_RGB: return PixelFormat::RGB;
    case FS_PIXEL_BGR: return PixelFormat::BGR;
    case FS_PIXEL_RGBA: return PixelFormat::RGBA;
    case FS_PIXEL_BGRA: return PixelFormat::BGRA;
    case FS_PIXEL_GRAY: return PixelFormat::GRAY;
  }
  throw frozenseg::Error(FS_INVALID_ARGUMENT, "unknown pixel format " + std::to_string(format) +
                                                  ": use FS_PIXEL_RGB, _BGR, _RGBA, _BGRA or _GRAY");
}

fs_result_t wrap(frozenseg::output::SegmentationResult result) {
  auto out = std::make_unique<fs_result>();
  out->result = std::move(result);
  for (const auto& s : out->result.segments_info)
    out->segments.push_back({s.id, s.category_id, s.isthing ? 1 : 0, s.score});
  out->classes.assign(out->result.instance_classes.begin(), out->result.instance_classes.end());
  return out.release();
}

}  // namespace

extern "C" {

const char* fs_version(void) { return "0.1.0"; }

const char* fs_backends(void) {
  static const std::string names = [] {
    std::string joined;
    for (const auto name : frozenseg::built_backends()) joined += (joined.empty() ? "" : ",") + std::string(name);
    return joined;
  }();
  return names.c_str();
}

const char* fs_last_error(void) { return last_error.c_str(); }

fs_segmenter_options fs_segmenter_options_default(void) {
  fs_segmenter_options o{};
  o.verify = 1;
  return o;
}

fs_status fs_segmenter_create(const char* artifacts_dir, const fs_segmenter_options* options,
                              fs_segmenter_t* out) {
  return guarded([&] {
    require(artifacts_dir != nullptr && out != nullptr, "artifacts_dir and out must not be NULL");
    *out = nullptr;
    const fs_segmenter_options o = options ? *options : fs_segmenter_options_default();
    frozenseg::core::SegmenterOptions opts;
    if (o.backend) opts.backend = o.backend;
    if (o.precision) opts.precision = o.precision;
    if (o.threads < 0) throw frozenseg::Error(FS_INVALID_ARGUMENT, "threads must be >= 0 (0: the default)");
    if (o.threads > 0) opts.threads = o.threads;
    if (o.cache_dir) {
      if (o.cache_dir[0] == '\0') opts.memory_cache_only = true;
      else opts.cache_dir = o.cache_dir;
    }
    opts.verify = o.verify != 0;
    opts.cuda_graph = o.cuda_graph != 0;
    if (o.max_image_pixels < -1)
      throw frozenseg::Error(FS_INVALID_ARGUMENT, "max_image_pixels must be -1 (no limit), 0 (default) or positive");
    if (o.max_image_pixels == -1) opts.max_image_pixels = std::nullopt;
    else if (o.max_image_pixels > 0) opts.max_image_pixels = static_cast<std::uint64_t>(o.max_image_pixels);
    if (o.encoder_schedule < FS_ENCODERS_AUTO || o.encoder_schedule > FS_ENCODERS_SEQUENTIAL)
      throw frozenseg::Error(FS_INVALID_ARGUMENT, "encoder_schedule must be FS_ENCODERS_AUTO, _CONCURRENT or "
                                                  "_SEQUENTIAL, got " + std::to_string(o.encoder_schedule));
    // The C enum's names (frozenseg.h); the manifest's rule decides what each means.
    static constexpr const char* kScheduleNames[] = {"auto", "concurrent", "sequential"};
    opts.encoder_schedule = kScheduleNames[o.encoder_schedule];
    auto handle = std::make_unique<fs_segmenter>();
    handle->impl = frozenseg::core::Segmenter::from_artifacts(artifacts_dir, opts);
    *out = handle.release();
  });
}

void fs_segmenter_destroy(fs_segmenter_t segmenter) { delete segmenter; }

const char* fs_segmenter_backend(fs_segmenter_t segmenter) {
  return segmenter ? segmenter->impl->backend().c_str() : "";
}

fs_status fs_segmenter_set_vocabulary(fs_segmenter_t segmenter, const fs_class* classes, size_t num_classes) {
  return guarded([&] {
    require(segmenter != nullptr, "segmenter must not be NULL");
    require(classes != nullptr || num_classes == 0, "classes must not be NULL");
    std::vector<std::vector<std::string>> names(num_classes);
    std::vector<bool> isthing(num_classes);
    for (size_t i = 0; i < num_classes; ++i) {
      require(classes[i].names != nullptr || classes[i].num_names == 0, "a class's names must not be NULL");
      for (size_t j = 0; j < classes[i].num_names; ++j) {
        require(classes[i].names[j] != nullptr, "a class name must not be NULL");
        names[i].emplace_back(classes[i].names[j]);
      }
      isthing[i] = classes[i].isthing != 0;
    }
    auto vocabulary = frozenseg::text::parse_vocabulary_synonyms(names);
    vocabulary.isthing = isthing;
    segmenter->impl->set_vocabulary(vocabulary);
  });
}

fs_status fs_segmenter_set_vocabulary_text(fs_segmenter_t segmenter, const char* source) {
  return guarded([&] {
    require(segmenter != nullptr && source != nullptr, "segmenter and source must not be NULL");
    segmenter->impl->set_vocabulary(frozenseg::text::parse_vocabulary(source));
  });
}

size_t fs_segmenter_num_classes(fs_segmenter_t segmenter) {
  if (!segmenter) return 0;
  const auto state = segmenter->impl->vocabulary_state();
  return state ? state->vocabulary.num_classes() : 0;
}

namespace {

// fs_segment and fs_segment_resized: the image checked and viewed, then segmented with the
// manifest's resize rule (nullopt) or `resize` (which may itself say: none).
// `task` by reference: a copy of an out-of-range enum is already a load of it (see enum_value).
fs_status segment_image(fs_segmenter_t segmenter, const fs_image* image, const fs_task& task,
                        std::optional<std::optional<frozenseg::image::ResizeRule>> resize, fs_result_t* out) {
  return guarded([&] {
    require(segmenter != nullptr && image != nullptr && out != nullptr, "segmenter, image and out must not be NULL");
    *out = nullptr;
    require(image->data != nullptr, "image data must not be NULL");
    require(image->height > 0 && image->width > 0, "image height and width must be positive");
    require(image->stride > 0, "image stride must be positive");
    const auto t = task_of(task);
    frozenseg::image::ImageView view;
    view.data = image->data;
    view.height = image->height;
    view.width = image->width;
    view.stride = static_cast<std::size_t>(image->stride);
    view.format = format_of(image->format);
    const auto pixels = static_cast<std::uint64_t>(image->height) * static_cast<std::uint64_t>(image->width);
    const auto limit = segmenter->impl->max_image_pixels();
    if (limit && pixels > *limit)
      throw frozenseg::Error(FS_INVALID_INPUT, "expected an image of at most " + std::to_string(*limit) +
                                                   " pixels, received " + std::to_string(pixels) +
                                                   "; raise max_image_pixels if it is genuine");
    const auto rgb = frozenseg::image::to_rgb(view);
    *out = wrap(resize ? segmenter->impl->segment(rgb, t, *resize) : segmenter->impl->segment(rgb, t));
  });
}

}  // namespace

fs_status fs_segment(fs_segmenter_t segmenter, const fs_image* image, fs_task task, fs_result_t* out) {
  return segment_image(segmenter, image, task, std::nullopt, out);
}

fs_status fs_segment_resized(fs_segmenter_t segmenter, const fs_image* image, fs_task task, int32_t short_edge,
                             int32_t max_size, fs_result_t* out) {
  const bool none = short_edge == 0 && max_size == 0;
  if (!none && (short_edge <= 0 || max_size < short_edge))
    return guarded([&] {
      if (out) *out = nullptr;
      throw frozenseg::Error(FS_INVALID_ARGUMENT, "resize needs 0 < short_edge <= max_size (or both 0: no resize), got " +
                                                      std::to_string(short_edge) + "," + std::to_string(max_size));
    });
  std::optional<frozenseg::image::ResizeRule> rule;
  if (!none) rule = frozenseg::image::ResizeRule{short_edge, max_size};
  return segment_image(segmenter, image, task, rule, out);
}

fs_status fs_segment_file(fs_segmenter_t segmenter, const char* path, fs_task task, fs_result_t* out) {
  return guarded([&] {
    require(segmenter != nullptr && path != nullptr && out != nullptr, "segmenter, path and out must not be NULL");
    *out = nullptr;
    const auto t = task_of(task);
    frozenseg::image::LoadOptions load;
    load.max_pixels = segmenter->impl->max_image_pixels();
    *out = wrap(segmenter->impl->segment(frozenseg::image::load_image(path, load), t));
  });
}

void fs_result_release(fs_result_t result) { delete result; }

fs_status fs_result_size(fs_result_t result, int32_t* height, int32_t* width) {
  return guarded([&] {
    require(result != nullptr && height != nullptr && width != nullptr, "result, height and width must not be NULL");
    *height = result->result.image_size.height;
    *width = result->result.image_size.width;
  });
}

const int32_t* fs_result_semantic_labels(fs_result_t result) {
  if (!result || result->result.semantic_labels.empty()) return nullptr;
  return result->result.semantic_labels.data();
}

const int32_t* fs_result_panoptic(fs_result_t result, const fs_segment_info** segments, size_t* num_segments) {
  if (segments) *segments = nullptr;
  if (num_segments) *num_segments = 0;
  if (!result || result->result.task != frozenseg::output::Task::panoptic) return nullptr;
  if (segments) *segments = result->segments.data();
  if (num_segments) *num_segments = result->segments.size();
  return result->result.panoptic_seg.data();
}

size_t fs_result_instances(fs_result_t result, const uint8_t** masks, const float** scores, const int32_t** classes) {
  if (masks) *masks = nullptr;
  if (scores) *scores = nullptr;
  if (classes) *classes = nullptr;
  if (!result || result->result.task != frozenseg::output::Task::instance) return 0;
  if (masks) *masks = result->result.instance_masks.data();
  if (scores) *scores = result->result.instance_scores.data();
  if (classes) *classes = result->classes.data();
  return result->result.instance_count();
}

size_t fs_result_num_classes(fs_result_t result) { return result ? result->result.class_names.size() : 0; }

const char* fs_result_class_name(fs_result_t result, size_t index) {
  if (!result || index >= result->result.class_names.size()) return nullptr;
  return result->result.class_names[index].c_str();
}

size_t fs_result_num_timings(fs_result_t result) { return result ? result->result.timings.size() : 0; }

fs_status fs_result_timing(fs_result_t result, size_t index, const char** stage, double* seconds) {
  return guarded([&] {
    require(result != nullptr && stage != nullptr && seconds != nullptr, "result, stage and seconds must not be NULL");
    const auto& timings = result->result.timings;
    if (index >= timings.size())
      throw frozenseg::Error(FS_INVALID_ARGUMENT, "timing index must be below fs_result_num_timings (" +
                                                      std::to_string(timings.size()) + "), got " + std::to_string(index));
    *stage = timings[index].first.c_str();
    *seconds = timings[index].second;
  });
}

}  // extern "C"
