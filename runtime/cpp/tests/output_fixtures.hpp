// Shared by the test_output_* suites: the Python fixtures of
// runtime/cpp/tests/data/make_postprocess_cases.py (npy files + cases.json) and the "large"
// case's inputs, rebuilt from the same hash as the script.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "output/postprocess.hpp"

namespace fs_test {

inline std::filesystem::path fixture_dir() {
  return std::filesystem::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data/postprocess";
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The official inference constants as an export writes them (the tiny preset's manifest).
inline frozenseg::output::InferenceConstants official_constants() {
  const auto manifest = nlohmann::json::parse(read_text(
      std::filesystem::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data/manifest_tiny.json"));
  return frozenseg::output::InferenceConstants::from_record(manifest["constants"]["inference"]);
}

inline const nlohmann::json& cases() {
  static const nlohmann::json all = nlohmann::json::parse(read_text(fixture_dir() / "cases.json"));
  return all.at("cases");
}

inline const nlohmann::json& find_case(const std::string& name) {
  for (const auto& c : cases())
    if (c.at("name") == name) return c;
  throw std::runtime_error("no case " + name);
}

// A little-endian float32 .npy (numpy's own format, version 1.0, C order).
inline std::vector<float> read_npy_f32(const std::string& file) {
  const std::string bytes = read_text(fixture_dir() / file);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw std::runtime_error(file + " is not an npy file");
  const std::size_t header = static_cast<unsigned char>(bytes[8]) |
                             (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  const std::string dict = bytes.substr(10, header);
  if (dict.find("'<f4'") == std::string::npos || dict.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(file + " is not C-order float32: " + dict);
  std::vector<float> out((bytes.size() - 10 - header) / 4);
  std::memcpy(out.data(), bytes.data() + 10 + header, out.size() * 4);
  return out;
}

// sha256 of a contiguous container's bytes (hashlib.sha256(array.tobytes())).
template <typename Container>
std::string sha256_of(const Container& values) {
  return frozenseg::sha256_hex(std::span<const std::byte>(
      reinterpret_cast<const std::byte*>(values.data()),
      values.size() * sizeof(typename Container::value_type)));
}

inline frozenseg::output::Size2 size_of(const nlohmann::json& pair) {
  return {pair.at(0).get<int>(), pair.at(1).get<int>()};
}

// Inputs and geometry of one case.
struct CaseInputs {
  std::vector<float> probs, masks;
  int queries = 0, columns = 0;
  frozenseg::output::Size2 mask_size;
  frozenseg::output::MaskGeometry geometry;
  std::vector<bool> isthing;
  frozenseg::output::ClassProbsView probs_view() const { return {probs.data(), queries, columns}; }
  frozenseg::output::MaskLogitsView masks_view() const { return {masks.data(), queries, mask_size}; }
};

// 24 high bits of splitmix64(seed * 2^32 + i + 1) (make_postprocess_cases.py's splitmix_bits).
inline std::uint32_t splitmix_bits(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = (seed * (1ULL << 32) + i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z = z ^ (z >> 31);
  return static_cast<std::uint32_t>(z >> 40);
}

// make_postprocess_cases.py's hashed_inputs (the "large" case).
inline void hashed_inputs(CaseInputs& in) {
  const int q = in.queries, c = in.columns - 1, h = in.mask_size.height, w = in.mask_size.width;
  in.probs.resize(static_cast<std::size_t>(q) * (c + 1));
  for (std::size_t i = 0; i < in.probs.size(); ++i)
    in.probs[i] = (static_cast<float>(splitmix_bits(1, i)) + 1.0f) * 0x1p-24f;
  const int classes[] = {0, 1, 3, 3, 4, 2, 8, 9, 12, 15, 20, 21, 6, 7};
  for (int k = 0; k < 14; ++k) in.probs[static_cast<std::size_t>(k) * (c + 1) + classes[k]] = 64.0f;
  for (int k = 14; k < 22; ++k) in.probs[static_cast<std::size_t>(k) * (c + 1) + c] = 64.0f;
  in.masks.resize(static_cast<std::size_t>(q) * h * w);
  for (std::size_t i = 0; i < in.masks.size(); ++i)
    in.masks[i] = static_cast<float>(splitmix_bits(2, i) >> 4) * 0x1p-17f - 10.0f;
  auto bump = [&](int k, int y0, int y1, int x0, int x1) {
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) in.masks[(static_cast<std::size_t>(k) * h + y) * w + x] += 12.0f;
  };
  for (int k = 0; k < 10; ++k) {
    const int y0 = (k / 5) * (h / 2), x0 = (k % 5) * (w / 5);
    bump(k, y0 + 2, y0 + h / 2 - 2, x0 + 2, x0 + w / 5 - 2);
  }
  for (int k = 10; k < 14; ++k) {
    const int x0 = (k - 10) * (w / 5) + w / 10;
    bump(k, 2, 2 + h / 3, x0, x0 + w / 5);
  }
}

inline CaseInputs load_case(const nlohmann::json& c) {
  CaseInputs in;
  const std::string name = c.at("name");
  in.queries = c.at("queries");
  in.columns = c.at("columns");
  in.mask_size = size_of(c.at("mask_size"));
  in.geometry = {size_of(c.at("padded")), size_of(c.at("image")), size_of(c.at("output"))};
  for (const auto& f : c.at("isthing")) in.isthing.push_back(f.get<bool>());
  if (name == "large") {
    hashed_inputs(in);
  } else {
    in.probs = read_npy_f32(name + "_probs.npy");
    in.masks = read_npy_f32(name + "_masks.npy");
  }
  return in;
}

}  // namespace fs_test
