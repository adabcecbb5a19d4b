#include "image/preprocess.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"
#include "image/pil_resize.hpp"
#include "image/resize_bilinear.hpp"

namespace frozenseg::image {

namespace {

void validate_image(const RgbImage& image) {
  if (image.empty()) {
    fail_input("expected a non-empty image, received shape (" + std::to_string(image.height()) +
               ", " + std::to_string(image.width()) + ", 3)");
  }
}

// Normalised planes written into the top-left of zeroed (3, padded) planes.
std::vector<float> normalized_padded(const RgbImage& image, const std::array<double, 3>& mean,
                                     const std::array<double, 3>& std, ImageSize padded) {
  const std::size_t plane = static_cast<std::size_t>(padded.height) * padded.width;
  std::vector<float> out(3 * plane, 0.0f);
  for (int c = 0; c < 3; ++c) {
    // Every uint8 value's result, computed as numpy computes it: float32(x) - float32(mean),
    // rounded to float32, then divided by float32(std).
    std::array<float, 256> lut;
    const auto m = static_cast<float>(mean[static_cast<std::size_t>(c)]);
    const auto s = static_cast<float>(std[static_cast<std::size_t>(c)]);
    for (int v = 0; v < 256; ++v) {
      const float centred = static_cast<float>(v) - m;
      lut[static_cast<std::size_t>(v)] = centred / s;
    }
    float* dst_plane = out.data() + static_cast<std::size_t>(c) * plane;
    for (int y = 0; y < image.height(); ++y) {
      const std::uint8_t* src = image.row(y) + c;
      float* dst = dst_plane + static_cast<std::size_t>(y) * padded.width;
      for (int x = 0; x < image.width(); ++x) dst[x] = lut[src[3 * static_cast<std::size_t>(x)]];
    }
  }
  return out;
}

int round_up(int value, int multiple) {
  return multiple <= 1 ? value : (value + multiple - 1) / multiple * multiple;
}

ImageSize padded_size(ImageSize size, int multiple) {
  return {round_up(size.height, multiple), round_up(size.width, multiple)};
}

}  // namespace

ImageSize resized_shape(int h, int w, int short_edge, int max_size) {
  const double size = short_edge * 1.0;
  double scale = size / std::min(h, w);
  double newh, neww;
  if (h < w) {
    newh = size;
    neww = scale * w;
  } else {
    newh = scale * h;
    neww = size;
  }
  if (std::max(newh, neww) > max_size) {
    scale = max_size * 1.0 / std::max(newh, neww);
    newh = newh * scale;
    neww = neww * scale;
  }
  return {static_cast<int>(newh + 0.5), static_cast<int>(neww + 0.5)};
}

RgbImage resize_image(const RgbImage& image, int short_edge, int max_size) {
  validate_image(image);
  const ImageSize target = resized_shape(image.height(), image.width(), short_edge, max_size);
  if (std::min(target.height, target.width) < 1) {
    fail_input("a " + std::to_string(image.height()) + "x" + std::to_string(image.width()) +
               " image becomes " + std::to_string(target.height) + "x" +
               std::to_string(target.width) + " under the resize rule (shortest edge " +
               std::to_string(short_edge) + ", longest at most " + std::to_string(max_size) +
               "): its aspect ratio is too extreme; crop or pad it, or preprocess it without the "
               "resize rule to segment it at its own size");
  }
  return pil_resize_bilinear(image, target.height, target.width);
}

std::vector<float> normalize(const RgbImage& image, const std::array<double, 3>& mean,
                             const std::array<double, 3>& std) {
  validate_image(image);
  return normalized_padded(image, mean, std, {image.height(), image.width()});
}

std::vector<float> pad_bottom_right(std::span<const float> planes, int channels, ImageSize size,
                                    int multiple, ImageSize& padded) {
  const std::size_t plane = static_cast<std::size_t>(size.height) * size.width;
  if (channels < 0 || size.height < 0 || size.width < 0 ||
      planes.size() != static_cast<std::size_t>(channels) * plane) {
    fail_argument("expected " + std::to_string(channels) + " planes of " +
                  std::to_string(size.height) + " x " + std::to_string(size.width) +
                  " floats to pad, received " + std::to_string(planes.size()) + " floats");
  }
  padded = padded_size(size, multiple);
  if (padded == size) return {planes.begin(), planes.end()};
  const std::size_t out_plane = static_cast<std::size_t>(padded.height) * padded.width;
  std::vector<float> out(static_cast<std::size_t>(channels) * out_plane, 0.0f);
  for (int c = 0; c < channels; ++c) {
    for (int y = 0; y < size.height; ++y) {
      const float* src = planes.data() + c * plane + static_cast<std::size_t>(y) * size.width;
      std::copy(src, src + size.width,
                out.data() + c * out_plane + static_cast<std::size_t>(y) * padded.width);
    }
  }
  return out;
}

PreparedImage prepare_image(const RgbImage& image, const PreprocessConstants& constants) {
  validate_image(image);
  if (constants.sam_size <= 0) {
    fail_argument("expected a positive sam_size in the preprocessing constants, received " +
                  std::to_string(constants.sam_size));
  }
  const ImageSize size{image.height(), image.width()};
  const ImageSize padded = padded_size(size, constants.pad_multiple);

  PreparedImage prepared;
  prepared.clip_input = normalized_padded(image, constants.clip_mean, constants.clip_std, padded);
  const std::vector<float> sam =
      normalized_padded(image, constants.sam_mean, constants.sam_std, padded);
  prepared.sam_input = resize_bilinear(sam, 3, padded.height, padded.width, constants.sam_size,
                                       constants.sam_size);
  prepared.sam_size = constants.sam_size;
  prepared.image_size = size;
  prepared.padded_size = padded;
  prepared.output_size = size;
  return prepared;
}

PreparedImage preprocess(const RgbImage& image, const PreprocessConstants& constants,
                         std::optional<ResizeRule> resize, std::optional<ImageSize> output_size) {
  validate_image(image);
  const ImageSize original{image.height(), image.width()};
  PreparedImage prepared =
      resize ? prepare_image(resize_image(image, resize->short_edge, resize->max_size), constants)
             : prepare_image(image, constants);
  prepared.output_size = output_size.value_or(original);
  return prepared;
}

PreparedImage preprocess_with_constants(const RgbImage& image, const PreprocessConstants& constants) {
  return preprocess(image, constants, ResizeRule{constants.resize_short, constants.resize_max});
}

}  // namespace frozenseg::image
