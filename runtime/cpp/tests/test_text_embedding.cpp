// Template averaging and the padded layout give numpy's float32 results (tests/data/
// embedding_cases.json, written by make_embedding_cases.py from runtime/text/embedding.py).
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "text/embedding.hpp"

namespace ft = frozenseg::text;
using nlohmann::json;

namespace {

const json& cases() {
  static const json data = [] {
    std::ifstream in(std::string(FS_SOURCE_DIR) + "/runtime/cpp/tests/data/embedding_cases.json");
    return json::parse(in);
  }();
  return data;
}

std::vector<float> floats(const json& bit_patterns) {
  std::vector<float> out;
  for (const auto& b : bit_patterns) {
    const uint32_t u = b.get<uint32_t>();
    float f;
    std::memcpy(&f, &u, 4);
    out.push_back(f);
  }
  return out;
}

}  // namespace

TEST(TextEmbedding, AverageTemplatesMatchesNumpy) {
  ASSERT_EQ(cases()["average_templates"].size(), 4u);
  for (const auto& c : cases()["average_templates"]) {
    const size_t s = c["synonyms"], t = c["templates"], e = c["width"];
    ft::FloatMatrix features{floats(c["features"]), s * t, e};
    const ft::FloatMatrix got = ft::average_templates(features, t);
    ASSERT_EQ(got.rows, s);
    ASSERT_EQ(got.cols, e);
    const std::vector<float> want = floats(c["expected"]);
    int differing_bits = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(got.data[i], want[i], 1e-7f) << "width " << e << " element " << i;
      differing_bits += got.data[i] != want[i];
    }
    EXPECT_EQ(differing_bits, 0) << "width " << e << ": numpy's summation order not matched";
  }
}

TEST(TextEmbedding, ZeroFeaturesStayZeroThroughTheFloor) {
  ft::FloatMatrix zeros{std::vector<float>(6, 0.0f), 2, 3};
  const auto got = ft::average_templates(zeros, 2);
  for (float v : got.data) EXPECT_EQ(v, 0.0f);
}

TEST(TextEmbedding, AverageTemplatesRefusesPartialTemplateSets) {
  ft::FloatMatrix features{std::vector<float>(15, 1.0f), 5, 3};
  EXPECT_THROW(ft::average_templates(features, 2), frozenseg::Error);
  EXPECT_THROW(ft::average_templates(features, 0), frozenseg::Error);
}

TEST(TextEmbedding, PaddedEmbeddingsMatchNumpy) {
  const auto& c = cases()["padded_embeddings"];
  const size_t width = c["width"];
  const std::vector<float> rows_data = floats(c["rows"]);
  ft::FloatMatrix rows{rows_data, rows_data.size() / width, width};
  ft::SynonymIndex index;
  for (const auto& row : c["index"]) {
    index.synonyms = row.size();
    ++index.classes;
    for (const auto& v : row) index.index.push_back(v.get<int64_t>());
  }
  EXPECT_EQ(ft::padded_embeddings(rows, index), floats(c["expected"]));
  index.index[0] = 99;
  EXPECT_THROW(ft::padded_embeddings(rows, index), frozenseg::Error);
}

TEST(TextEmbedding, L2NormalizeGivesUnitRows) {
  ft::FloatMatrix x{{3.0f, 4.0f, 0.0f, 0.0f}, 2, 2};
  const auto y = ft::l2_normalize(x);
  EXPECT_EQ(y.data, (std::vector<float>{0.6f, 0.8f, 0.0f, 0.0f}));
}
