// Files people can use, as runtime/output/files.py writes them: label PNG, COCO panoptic PNG +
// JSON, instance masks (.npz), overlay PNG with class names, and a JSON summary; each written
// atomically. Same file names, PNG formats and pixel values, JSON text (keys, order, numbers,
// indent=1 with \uXXXX escapes) and .npy entries as Python's; PNG and ZIP bytes differ only in
// compression. The overlay's legend text is drawn with a built-in font (see visualize.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "output/result.hpp"
#include "output/visualize.hpp"

namespace frozenseg::output {

// 8-bit grey for labels in 0..255, else 16-bit grey of the labels cast to uint16 (numpy's cast).
std::vector<std::uint8_t> label_png(const std::vector<std::int32_t>& labels, Size2 size);
// COCO panoptic encoding: id = R + 256 G + 256^2 B.
std::vector<std::uint8_t> coco_panoptic_png(const std::vector<std::int32_t>& panoptic, Size2 size);
// Class index per pixel of a panoptic map, -1 where no segment.
std::vector<std::int64_t> panoptic_labels(const std::vector<std::int32_t>& panoptic,
                                          const std::vector<Segment>& segments);
// Class per pixel from the instances with score >= 0.5, best drawn last; -1 elsewhere.
std::vector<std::int64_t> instance_labels(const SegmentationResult& result);
// np.savez_compressed(masks=bool (N, H, W), scores=float32 (N,), classes=int64 (N,)).
std::vector<std::uint8_t> instances_npz(const SegmentationResult& result);
// The summary dict of files.py (insertion order kept) and the JSON text json.dumps(indent=1)
// gives for it.
nlohmann::ordered_json summary(const SegmentationResult& result, const std::string& image_name);
nlohmann::ordered_json coco_panoptic_json(const SegmentationResult& result, const std::string& stem);
std::string python_json_text(const nlohmann::ordered_json& value);

// Writes <stem>_labels.png (semantic) or <stem>_panoptic.png + .json (panoptic) or
// <stem>_instances.npz (instance), then <stem>_overlay.png and <stem>_summary.json into out_dir
// (created if missing); returns the paths in that order. `image` is the RGB image at the
// result's size. Throws Error(FS_INVALID_INPUT) when out_dir cannot be written.
std::vector<std::filesystem::path> save_result(const SegmentationResult& result, RgbView image,
                                               const std::filesystem::path& out_dir,
                                               const std::string& stem);

}  // namespace frozenseg::output
