// check_feed: the Python runtime's messages (runtime/backends/base.py), byte for byte.
#include <gtest/gtest.h>

#include "common/error.hpp"
#include "runner/runner.hpp"

using frozenseg::DType;
using frozenseg::GraphSpec;
using frozenseg::Tensor;
using frozenseg::TensorMap;

namespace {

GraphSpec decoder_like() {
  GraphSpec spec;
  spec.name = "decoder";
  spec.inputs = {{"res2", DType::float32, {std::int64_t{1}, std::int64_t{96}, std::string("h4"), std::string("w4")}},
                 {"seen", DType::boolean, {std::string("classes")}}};
  spec.outputs = {{"masks", DType::float32, {std::int64_t{1}, std::string("queries")}}};
  spec.dims = {{"h4", {1, 64, 256, std::nullopt}}, {"w4", {1, 64, 256, std::nullopt}},
               {"classes", {1, 133, 1024, std::nullopt}}};
  return spec;
}

std::string input_error(const TensorMap& feed) {
  try {
    frozenseg::check_feed(decoder_like(), feed);
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(CheckFeed, AcceptsDynamicDimsAndIgnoresExtraInputs) {
  TensorMap feed;
  feed.emplace("res2", Tensor(DType::float32, {1, 96, 5, 7}));
  feed.emplace("seen", Tensor(DType::boolean, {3}));
  feed.emplace("unused", Tensor(DType::int64, {2}));
  EXPECT_NO_THROW(frozenseg::check_feed(decoder_like(), feed));
}

TEST(CheckFeed, MissingInput) {
  TensorMap feed;
  feed.emplace("res2", Tensor(DType::float32, {1, 96, 5, 7}));
  EXPECT_EQ(input_error(feed), "decoder: missing input 'seen'");
}

TEST(CheckFeed, WrongDtype) {
  TensorMap feed;
  feed.emplace("res2", Tensor(DType::float16, {1, 96, 5, 7}));
  feed.emplace("seen", Tensor(DType::boolean, {3}));
  EXPECT_EQ(input_error(feed), "decoder: input 'res2' must be float32, got float16");
}

TEST(CheckFeed, WrongRankOrFixedDim) {
  TensorMap feed;
  feed.emplace("res2", Tensor(DType::float32, {96, 5, 7}));
  feed.emplace("seen", Tensor(DType::boolean, {3}));
  EXPECT_EQ(input_error(feed), "decoder: input 'res2' must have shape [1, 96, 'h4', 'w4'], got [96, 5, 7]");
  feed.at("res2") = Tensor(DType::float32, {1, 95, 5, 7});
  EXPECT_EQ(input_error(feed), "decoder: input 'res2' must have shape [1, 96, 'h4', 'w4'], got [1, 95, 5, 7]");
}

TEST(GraphSpecLookup, FindInput) {
  const GraphSpec spec = decoder_like();
  ASSERT_NE(spec.find_input("seen"), nullptr);
  EXPECT_EQ(spec.find_input("seen")->dtype, DType::boolean);
  EXPECT_EQ(spec.find_input("masks"), nullptr);
}
