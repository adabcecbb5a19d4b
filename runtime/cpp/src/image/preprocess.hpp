// Image preprocessing of FrozenSeg, as the Python runtime's image/preprocess.py (function for
// function): detectron2's ResizeShortestEdge (Pillow bilinear on uint8, pil_resize.hpp), then the
// CLIP branch (normalise, zero-pad bottom/right to a multiple) and the SAM branch (normalise with
// SAM's statistics, pad, bilinear resize to a square as torch does, aspect NOT kept).
// Integer steps are bit-exact; float steps do the same float32 operations in the same order.
// Thread-safe: no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "image/image.hpp"

namespace frozenseg::image {

// The manifest's constants.preprocessing (filled by the manifest reader). Means and standard
// deviations are kept as the manifest's numbers (float64) and used as float32, like
// np.asarray(mean, dtype=np.float32).
struct PreprocessConstants {
  std::array<double, 3> clip_mean{};
  std::array<double, 3> clip_std{};
  std::array<double, 3> sam_mean{};
  std::array<double, 3> sam_std{};
  int pad_multiple = 0;  // <= 1: no padding
  int sam_size = 0;
  int resize_short = 0;  // the default resize rule: shortest edge ...
  int resize_max = 0;    // ... and longest edge at most
};

struct ImageSize {
  int height = 0;
  int width = 0;
  friend bool operator==(const ImageSize&, const ImageSize&) = default;
};

struct ResizeRule {
  int short_edge = 0;
  int max_size = 0;
};

// Model inputs for one image plus the sizes post-processing needs to undo the transforms.
struct PreparedImage {
  std::vector<float> clip_input;  // (1, 3, padded_size.height, padded_size.width)
  std::vector<float> sam_input;   // (1, 3, sam_size, sam_size)
  int sam_size = 0;
  ImageSize image_size;   // (h, w) of the image fed to the model, before padding
  ImageSize padded_size;  // (Hp, Wp)
  ImageSize output_size;  // (H, W) at which results are returned

  std::array<std::int64_t, 4> clip_shape() const {
    return {1, 3, padded_size.height, padded_size.width};
  }
  std::array<std::int64_t, 4> sam_shape() const { return {1, 3, sam_size, sam_size}; }
};

// detectron2 ResizeShortestEdge.get_output_shape: (new_h, new_w), rounded as int(x + 0.5).
ImageSize resized_shape(int h, int w, int short_edge, int max_size);

// The resize of detectron2's ResizeTransform (Pillow bilinear). Refuses (FS_INVALID_INPUT) an
// image whose aspect ratio makes a side shorter than one pixel.
RgbImage resize_image(const RgbImage& image, int short_edge, int max_size);

// (x - mean) / std in float32 on 0..255 values, as (3, H, W).
std::vector<float> normalize(const RgbImage& image, const std::array<double, 3>& mean,
                             const std::array<double, 3>& std);

// Zero-pad (channels, h, w) bottom and right up to a multiple (<= 1: unchanged), like
// ImageList.from_tensors; returns the padded planes and sets `padded`.
std::vector<float> pad_bottom_right(std::span<const float> planes, int channels, ImageSize size,
                                    int multiple, ImageSize& padded);

// Both branch inputs from an (already resized) image.
PreparedImage prepare_image(const RgbImage& image, const PreprocessConstants& constants);

// Resize (when `resize` is given), then prepare_image. `output_size` defaults to the size of the
// image given here, before resizing (results come back at the original resolution).
PreparedImage preprocess(const RgbImage& image, const PreprocessConstants& constants,
                         std::optional<ResizeRule> resize,
                         std::optional<ImageSize> output_size = std::nullopt);

// preprocess with the constants' own resize rule (resize_short, resize_max): what the Segmenter's
// prepare does by default.
PreparedImage preprocess_with_constants(const RgbImage& image, const PreprocessConstants& constants);

}  // namespace frozenseg::image
