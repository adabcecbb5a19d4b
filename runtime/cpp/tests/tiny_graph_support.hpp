// data/tiny_graph.onnx (make_tiny_graph.py) for the runner tests: its manifest entry, feeds, the
// answers in plain C++ (the error helpers come from test_support.hpp).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "runner/runner.hpp"
#include "test_support.hpp"

namespace tiny_graph {

using frozenseg::DType;
using frozenseg::GraphSpec;
using frozenseg::Tensor;
using frozenseg::TensorMap;


inline const std::filesystem::path kGraph = std::filesystem::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data/tiny_graph.onnx";

// The manifest entry the tiny graph would have.
inline GraphSpec tiny_spec() {
  GraphSpec spec;
  spec.name = "tiny";
  spec.file = "tiny_graph.onnx";
  spec.inputs = {{"a", DType::float32, {std::string("batch"), std::int64_t{3}}},
                 {"b", DType::float32, {std::int64_t{3}}},
                 {"k", DType::int64, {std::string("batch")}}};
  spec.outputs = {{"y", DType::float32, {std::string("batch"), std::int64_t{3}}},
                  {"positive", DType::boolean, {std::string("batch"), std::int64_t{3}}},
                  {"k3", DType::int64, {std::string("batch")}}};
  spec.dims = {{"batch", {1, 2, 8, std::nullopt}}};
  spec.opset = 17;
  return spec;
}

inline TensorMap feed(std::int64_t batch, float offset) {
  std::vector<float> a(static_cast<std::size_t>(batch) * 3);
  std::vector<std::int64_t> k(static_cast<std::size_t>(batch));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) - offset;
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::int64_t>(i) - 2;
  TensorMap out;
  out.emplace("a", Tensor::from_values({batch, 3}, a));
  out.emplace("b", Tensor::from_values<float>({3}, {0.5f, 1.0f, -3.0f}));
  out.emplace("k", Tensor::from_values({batch}, k));
  return out;
}

// The tiny graph in plain C++: y = (a + b) * 2, positive = y > 0, k3 = k * 3.
inline void expect_tiny_outputs(const TensorMap& in, const TensorMap& out) {
  const auto a = in.at("a").data<float>();
  const auto b = in.at("b").data<float>();
  const auto k = in.at("k").data<std::int64_t>();
  const std::int64_t batch = in.at("a").shape()[0];
  ASSERT_EQ(out.size(), 3u);
  const Tensor& y = out.at("y");
  const Tensor& positive = out.at("positive");
  const Tensor& k3 = out.at("k3");
  ASSERT_EQ(y.dtype(), DType::float32);
  ASSERT_EQ(positive.dtype(), DType::boolean);
  ASSERT_EQ(k3.dtype(), DType::int64);
  ASSERT_EQ(y.shape(), (frozenseg::Shape{batch, 3}));
  ASSERT_EQ(positive.shape(), (frozenseg::Shape{batch, 3}));
  ASSERT_EQ(k3.shape(), (frozenseg::Shape{batch}));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float want = (a[i] + b[i % 3]) * 2.0f;
    ASSERT_EQ(y.data<float>()[i], want) << "y[" << i << "]";
    ASSERT_EQ(positive.data<bool>()[i], want > 0.0f) << "positive[" << i << "]";
  }
  for (std::size_t i = 0; i < k.size(); ++i) ASSERT_EQ(k3.data<std::int64_t>()[i], k[i] * 3);
}

using test_support::contains;
using test_support::error_of;


}  // namespace tiny_graph
