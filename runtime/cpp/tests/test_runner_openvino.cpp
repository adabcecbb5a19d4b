// The OpenVINO runner (openvino-cpu) on data/tiny_graph.onnx, against the tiny graph's answers in
// plain C++ and against the ONNX Runtime runner on the same feeds: every dtype, a compiled model per
// feed shape (the oldest out beyond kOpenVinoMaxShapes), the blob cache folder, feed checks with the
// Python messages, 8 threads on one runner, and the errors of a missing graph and of a manifest
// that does not match it. Built only with FROZENSEG_HAVE_OPENVINO.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "runner/factory.hpp"
#include "runner/openvino/openvino_runner.hpp"
#include "tiny_graph_support.hpp"

namespace fs = std::filesystem;
using frozenseg::OpenVinoRunner;

namespace {

using namespace tiny_graph;

std::unique_ptr<OpenVinoRunner> openvino_runner(const frozenseg::RunnerOptions& options = {},
                                                GraphSpec spec = tiny_spec()) {
  return std::make_unique<OpenVinoRunner>(kGraph, std::move(spec), options);
}

}  // namespace

TEST(OpenVinoRunner, RunsEveryDtypeAndAnyBatch) {
  const auto runner = openvino_runner();
  EXPECT_EQ(runner->backend(), "openvino-cpu");
  EXPECT_FALSE(runner->max_shape("a").has_value());
  for (const std::int64_t batch : {1, 2, 5, 8, 13}) {  // 13: past the declared max, as ONNX Runtime
    const TensorMap in = feed(batch, 4.0f);
    expect_tiny_outputs(in, runner->infer(in));
  }
}

TEST(OpenVinoRunner, AgreesWithOnnxRuntimeOnTheSameFeeds) {
  const auto openvino = frozenseg::make_runner(kGraph, tiny_spec(), "openvino-cpu");
  const auto onnxruntime = frozenseg::make_runner(kGraph, tiny_spec(), "onnxruntime-cpu");
  const TensorMap in = feed(6, 7.25f);
  const TensorMap a = openvino->infer(in);
  const TensorMap b = onnxruntime->infer(in);
  for (const auto& [name, tensor] : b) {
    ASSERT_EQ(a.at(name).dtype(), tensor.dtype()) << name;
    ASSERT_EQ(a.at(name).shape(), tensor.shape()) << name;
    // (a + b) * 2 is exact in float32 on both: the bytes agree.
    EXPECT_TRUE(std::equal(a.at(name).bytes().begin(), a.at(name).bytes().end(), tensor.bytes().begin())) << name;
  }
}

TEST(OpenVinoRunner, OneCompiledModelPerShapeTheOldestOut) {
  const auto runner = openvino_runner();
  for (const std::int64_t batch : {1, 2, 1, 2}) runner->infer(feed(batch, 0.0f));
  EXPECT_EQ(runner->compiles(), 2u);  // seen shapes run at once
  for (std::int64_t batch = 3; batch < 3 + static_cast<std::int64_t>(frozenseg::kOpenVinoMaxShapes); ++batch) {
    runner->infer(feed(batch, 0.0f));
  }
  EXPECT_EQ(runner->shapes_held(), frozenseg::kOpenVinoMaxShapes);
  const std::size_t compiled = runner->compiles();
  runner->infer(feed(1, 0.0f));  // batch 1 was the least recently used: compiled again
  EXPECT_EQ(runner->compiles(), compiled + 1);
  EXPECT_EQ(runner->shapes_held(), frozenseg::kOpenVinoMaxShapes);
}

TEST(OpenVinoRunner, ZeroBatchRuns) {
  const auto runner = openvino_runner();
  const TensorMap out = runner->infer(feed(0, 0.0f));
  EXPECT_EQ(out.at("y").shape(), (frozenseg::Shape{0, 3}));
  EXPECT_EQ(out.at("k3").size(), 0u);
}

TEST(OpenVinoRunner, CompiledBlobsGoToTheCacheFolder) {
  const fs::path folder = fs::temp_directory_path() / ("fs_openvino_cache_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  frozenseg::RunnerOptions options;
  options.threads = 1;
  options.openvino_cache = folder;
  {
    const auto runner = openvino_runner(options);
    const TensorMap in = feed(3, 1.0f);
    expect_tiny_outputs(in, runner->infer(in));
  }
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++files;
  EXPECT_GT(files, 0u) << "nothing in " << folder;
  {
    const auto again = openvino_runner(options);  // from the blob this time, same answers
    const TensorMap in = feed(3, 1.0f);
    expect_tiny_outputs(in, again->infer(in));
  }
  fs::remove_all(folder);
}

TEST(OpenVinoRunner, BadFeedsGiveThePythonMessages) {
  const auto runner = openvino_runner();
  TensorMap in = feed(2, 0.0f);
  in.erase("k");
  EXPECT_EQ(error_of([&] { runner->infer(in); }, FS_INVALID_INPUT), "tiny: missing input 'k'");
  in = feed(2, 0.0f);
  in.insert_or_assign("b", Tensor::from_values<float>({4}, {1, 2, 3, 4}));
  EXPECT_EQ(error_of([&] { runner->infer(in); }, FS_INVALID_INPUT),
            "tiny: input 'b' must have shape [3], got [4]");
}

TEST(OpenVinoRunner, EightThreadsOnOneRunner) {
  const auto runner = openvino_runner();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const TensorMap in = feed(1 + (t + i) % 3, static_cast<float>(t));
        const TensorMap out = runner->infer(in);
        const float want = (in.at("a").data<float>()[0] + 0.5f) * 2.0f;
        if (out.at("y").data<float>()[0] != want) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(runner->compiles(), 3u);  // each shape compiled once, whichever thread saw it first
}

// Lowered files are no longer refused (stop 33): quantize's INT8 and FP16 files run on OpenVINO,
// exercised through the C ABI on real Q/DQ graphs by tests/export/test_check.py (int8-cpp-openvino-cpu).
TEST(OpenVinoRunner, MissingGraphAndMismatchedManifestAreRefused) {
  EXPECT_TRUE(contains(error_of([] { OpenVinoRunner(kGraph.parent_path() / "absent.onnx", tiny_spec()); },
                                FS_ARTIFACT_ERROR),
                       "does not exist"));
  GraphSpec renamed = tiny_spec();
  renamed.outputs[2].name = "k4";
  EXPECT_TRUE(contains(error_of([&] { OpenVinoRunner(kGraph, renamed); }, FS_ARTIFACT_ERROR),
                       "the manifest declares output 'k4'"));
  frozenseg::RunnerOptions negative;
  negative.threads = -1;
  error_of([&] { OpenVinoRunner(kGraph, tiny_spec(), negative); }, FS_INVALID_ARGUMENT);
}
