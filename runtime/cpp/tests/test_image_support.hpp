// Shared by the image area's tests: the parity fixtures written by
// runtime/cpp/tests/data/make_image_cases.py (cases.json + small images) and small helpers.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "image/image.hpp"
#include "image/loading.hpp"

namespace frozenseg::image::testing {

inline std::filesystem::path repo_root() { return std::filesystem::path(FS_SOURCE_DIR); }

inline std::filesystem::path fixture_dir() {
  return repo_root() / "runtime" / "cpp" / "tests" / "data" / "image";
}

// A fixture name from cases.json: "samples/..." is relative to the repository, the rest to the
// fixture folder.
inline std::filesystem::path fixture_path(const std::string& name) {
  return name.rfind("samples/", 0) == 0 ? repo_root() / name : fixture_dir() / name;
}

inline const nlohmann::json& cases() {
  static const nlohmann::json parsed = [] {
    std::ifstream in(fixture_dir() / "cases.json");
    if (!in) throw std::runtime_error("cannot open " + (fixture_dir() / "cases.json").string());
    return nlohmann::json::parse(in);
  }();
  return parsed;
}

inline std::string sha256_of(std::span<const std::uint8_t> bytes) {
  return sha256_hex(std::as_bytes(bytes));
}

inline std::string sha256_of(std::span<const float> values) {
  return sha256_hex(std::as_bytes(values));
}

inline std::string sha256_of(const RgbImage& image) { return sha256_of(image.pixels()); }

// Compare float results with the Python summary {shape, sha256, sum, abs_sum, samples}: every
// sampled value within `tolerance`, the sums within tolerance per element.
inline void expect_close_to_summary(std::span<const float> values, const nlohmann::json& summary,
                                    double tolerance, const std::string& what) {
  std::size_t expected_size = 1;
  for (const auto& d : summary.at("shape")) expected_size *= d.get<std::size_t>();
  ASSERT_EQ(values.size(), expected_size) << what;
  for (const auto& sample : summary.at("samples")) {
    const auto index = sample.at(0).get<std::size_t>();
    const double expected = sample.at(1).get<double>();
    EXPECT_NEAR(values[index], expected, tolerance) << what << " at flat index " << index;
  }
  double sum = 0.0, abs_sum = 0.0;
  for (float v : values) {
    sum += v;
    abs_sum += std::fabs(v);
  }
  const double n = static_cast<double>(values.size());
  EXPECT_NEAR(sum, summary.at("sum").get<double>(), tolerance * n) << what;
  EXPECT_NEAR(abs_sum, summary.at("abs_sum").get<double>(), tolerance * n) << what;
}

}  // namespace frozenseg::image::testing
