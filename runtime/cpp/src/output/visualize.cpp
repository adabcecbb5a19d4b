#include "output/visualize.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "common/error.hpp"
#include "output/legend_font.hpp"
#include "output/palette_data.hpp"  // generated from runtime/data/palette.rgb

namespace frozenseg::output {

namespace {

// The first `limit` code points of UTF-8 text (Python's name[:28]); bytes that are not UTF-8
// count as one character each.
std::vector<char32_t> code_points(const std::string& text, std::size_t limit) {
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < limit) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int extra = lead < 0x80 ? 0 : (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xE ? 2
                                                         : (lead >> 3) == 0x1E ? 3 : -1;
    bool valid = extra >= 0 && i + extra < text.size();
    char32_t c = extra > 0 ? lead & (0x3F >> extra) : lead;
    for (int k = 1; valid && k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      c = (c << 6) | (next & 0x3F);
    }
    out.push_back(valid ? c : U'?');
    i += valid ? extra + 1 : 1;
  }
  return out;
}

void fill_rect(RgbImage& canvas, int x0, int y0, int x1, int y1, const std::array<std::uint8_t, 3>& rgb) {
  for (int y = std::max(y0, 0); y <= std::min(y1, canvas.height - 1); ++y)
    for (int x = std::max(x0, 0); x <= std::min(x1, canvas.width - 1); ++x)
      std::copy(rgb.begin(), rgb.end(), canvas.pixels.begin() + (static_cast<std::size_t>(y) * canvas.width + x) * 3);
}

void draw_text(RgbImage& canvas, int x, int y, const std::vector<char32_t>& text) {
  for (const char32_t c : text) {
    const char* const* rows = legend_font::glyph(c);
    for (int r = 0; r < legend_font::kHeight; ++r)
      for (int k = 0; k < legend_font::kWidth; ++k)
        if (rows[r][k] == '#') fill_rect(canvas, x + k, y + r, x + k, y + r, {0, 0, 0});
    x += legend_font::kAdvance;
  }
}

}  // namespace

std::vector<std::array<std::uint8_t, 3>> palette(int n) {
  static_assert(kPaletteRgbSize > 0 && kPaletteRgbSize % 3 == 0, "palette.rgb holds RGB triples");
  constexpr std::size_t kColours = kPaletteRgbSize / 3;
  std::vector<std::array<std::uint8_t, 3>> out(static_cast<std::size_t>(std::max(n, 1)));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const unsigned char* c = kPaletteRgb + 3 * (i % kColours);
    out[i] = {c[0], c[1], c[2]};
  }
  return out;
}

RgbImage overlay(RgbView image, const std::vector<std::int64_t>& labels,
                 const std::vector<std::string>& names, double alpha, std::int64_t ignore) {
  const std::size_t plane = static_cast<std::size_t>(image.height) * image.width;
  if (image.data == nullptr || image.height <= 0 || image.width <= 0 || labels.size() != plane)
    fail_argument("overlay needs an RGB image and one label per pixel, got a " +
                  std::to_string(image.height) + "x" + std::to_string(image.width) + " image and " +
                  std::to_string(labels.size()) + " labels");
  const auto colours = palette(static_cast<int>(names.size()));
  const std::int64_t last = static_cast<std::int64_t>(colours.size()) - 1;
  // numpy: (1 - alpha) * pixel + alpha * colour in float32 (Python floats cast to float32),
  // then astype(np.uint8), which truncates.
  const float keep = static_cast<float>(1.0 - alpha);
  const float mix = static_cast<float>(alpha);
  std::map<std::int64_t, long> counts;
  RgbImage blended{image.height, image.width, std::vector<std::uint8_t>(image.data, image.data + plane * 3)};
  for (std::size_t p = 0; p < plane; ++p) {
    if (labels[p] == ignore) continue;
    ++counts[labels[p]];
    const auto& colour = colours[std::clamp<std::int64_t>(labels[p], 0, last)];
    for (int c = 0; c < 3; ++c) {
      const float a = keep * static_cast<float>(image.data[p * 3 + c]);
      const float b = mix * static_cast<float>(colour[c]);
      blended.pixels[p * 3 + c] = static_cast<std::uint8_t>(a + b);
    }
  }
  // Legend entries by pixel count, largest first.
  std::vector<std::pair<std::int64_t, long>> order(counts.begin(), counts.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });

  constexpr int kRow = 16, kLegendWidth = 200;
  RgbImage canvas;
  canvas.width = image.width + kLegendWidth;
  canvas.height = std::max(image.height, kRow * static_cast<int>(order.size()) + 8);
  canvas.pixels.assign(static_cast<std::size_t>(canvas.width) * canvas.height * 3, 255);
  for (int y = 0; y < image.height; ++y)
    std::copy_n(blended.pixels.begin() + static_cast<std::size_t>(y) * image.width * 3, image.width * 3,
                canvas.pixels.begin() + static_cast<std::size_t>(y) * canvas.width * 3);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int y = 4 + static_cast<int>(i) * kRow;
    const std::int64_t index = std::clamp<std::int64_t>(order[i].first, 0, last);
    fill_rect(canvas, image.width + 6, y, image.width + 18, y + 12, colours[index]);
    const std::string& name = index < static_cast<std::int64_t>(names.size()) ? names[index] : std::string("?");
    draw_text(canvas, image.width + 24, y + 3, code_points(name, 28));
  }
  return canvas;
}

}  // namespace frozenseg::output
