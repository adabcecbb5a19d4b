// The ONNX Runtime runner and the factory on data/tiny_graph.onnx (make_tiny_graph.py):
// outputs of every dtype, feed checks with the Python messages, 8 threads on one runner,
// backend names and missing providers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "runner/factory.hpp"
#include "runner/onnxruntime_runner.hpp"
#include "tiny_graph_support.hpp"

namespace fs = std::filesystem;
using frozenseg::DType;
using frozenseg::Runner;
using frozenseg::GraphSpec;
using frozenseg::Tensor;
using frozenseg::TensorMap;

namespace {

using namespace tiny_graph;

std::unique_ptr<Runner> cpu_runner(const frozenseg::RunnerOptions& options = {}, GraphSpec spec = tiny_spec()) {
  return frozenseg::make_runner(kGraph, spec, "onnxruntime-cpu", options);
}

}  // namespace

TEST(OnnxRuntimeRunner, RunsEveryDtypeAndDynamicBatch) {
  const auto runner = cpu_runner();
  EXPECT_EQ(runner->backend(), "onnxruntime-cpu");
  EXPECT_EQ(runner->spec().name, "tiny");
  for (const std::int64_t batch : {1, 2, 5, 8, 13}) {  // 13: past the declared max, ONNX Runtime runs it
    const TensorMap in = feed(batch, 4.0f);
    expect_tiny_outputs(in, runner->infer(in));
  }
}

TEST(OnnxRuntimeRunner, ZeroBatchRuns) {
  const auto runner = cpu_runner();
  const TensorMap in = feed(0, 0.0f);
  const TensorMap out = runner->infer(in);
  EXPECT_EQ(out.at("y").shape(), (frozenseg::Shape{0, 3}));
  EXPECT_EQ(out.at("k3").size(), 0u);
}

TEST(OnnxRuntimeRunner, MaxShapeIsUnboundedOnOnnxRuntime) {
  EXPECT_FALSE(cpu_runner()->max_shape("a").has_value());
}

TEST(OnnxRuntimeRunner, OptionsAndLoweredPrecisionLoadAndAgree) {
  GraphSpec fp16 = tiny_spec();
  fp16.precision = "fp16";  // disables NchwcTransformer, as onnxrt.py does for lowered graphs
  frozenseg::RunnerOptions options;
  options.threads = 1;
  options.memory_arena = true;  // the default is off: the arena is the option taken here
  const auto runner = cpu_runner(options, fp16);
  const TensorMap in = feed(3, 1.5f);
  expect_tiny_outputs(in, runner->infer(in));
  options.threads = -1;
  EXPECT_TRUE(contains(error_of([&] { cpu_runner(options); }, FS_INVALID_ARGUMENT), "threads"));
}

TEST(OnnxRuntimeRunner, BadFeedsGiveThePythonMessages) {
  const auto runner = cpu_runner();
  TensorMap in = feed(2, 0.0f);
  in.erase("k");
  EXPECT_EQ(error_of([&] { runner->infer(in); }, FS_INVALID_INPUT), "tiny: missing input 'k'");

  in = feed(2, 0.0f);
  in.at("k") = Tensor(DType::int32, {2});
  EXPECT_EQ(error_of([&] { runner->infer(in); }, FS_INVALID_INPUT), "tiny: input 'k' must be int64, got int32");

  in = feed(2, 0.0f);
  in.at("a") = Tensor(DType::float32, {6});
  EXPECT_EQ(error_of([&] { runner->infer(in); }, FS_INVALID_INPUT),
            "tiny: input 'a' must have shape ['batch', 3], got [6]");

  in = feed(2, 0.0f);
  in.at("b") = Tensor(DType::float32, {4});
  EXPECT_EQ(error_of([&] { runner->infer(in); }, FS_INVALID_INPUT),
            "tiny: input 'b' must have shape [3], got [4]");
}

TEST(OnnxRuntimeRunner, BackendFailureIsAnInferenceError) {
  // Dims that pass check_feed (both dynamic) but disagree inside the graph: ONNX Runtime fails.
  GraphSpec loose = tiny_spec();
  loose.inputs[1].shape = {std::string("width")};
  loose.dims["width"] = {1, 3, 8, std::nullopt};
  const auto runner = cpu_runner({}, loose);
  TensorMap in = feed(2, 0.0f);
  in.at("b") = Tensor(DType::float32, {4});
  const std::string message = error_of([&] { runner->infer(in); }, FS_INFERENCE_ERROR);
  EXPECT_TRUE(contains(message, "tiny: ONNX Runtime failed to run on onnxruntime-cpu")) << message;
}

TEST(OnnxRuntimeRunner, EightThreadsOnOneRunner) {
  const auto runner = cpu_runner();
  std::atomic<int> failures{0};
  std::atomic<int> runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::int64_t batch = 1 + (t + i) % 8;
        const TensorMap in = feed(batch, static_cast<float>(t) - 0.25f * static_cast<float>(i));
        try {
          const TensorMap out = runner->infer(in);
          const auto a = in.at("a").data<float>();
          const auto y = out.at("y").data<float>();
          bool ok = y.size() == a.size() && out.at("k3").size() == static_cast<std::size_t>(batch);
          for (std::size_t j = 0; ok && j < a.size(); ++j) {
            ok = y[j] == (a[j] + in.at("b").data<float>()[j % 3]) * 2.0f;
          }
          if (!ok) ++failures;
        } catch (...) {
          ++failures;
        }
        ++runs;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(runs.load(), 8 * 40);
  EXPECT_EQ(failures.load(), 0);
}

TEST(OnnxRuntimeRunner, MissingOrCorruptGraphIsAnArtifactError) {
  const std::string missing = error_of(
      [&] { frozenseg::make_runner(kGraph.parent_path() / "absent.onnx", tiny_spec(), "onnxruntime-cpu"); },
      FS_ARTIFACT_ERROR);
  EXPECT_TRUE(contains(missing, "absent.onnx does not exist")) << missing;

  const fs::path corrupt = kGraph.parent_path() / "sha256_vectors.txt";  // not a protobuf
  const std::string bad = error_of([&] { frozenseg::make_runner(corrupt, tiny_spec(), "onnxruntime-cpu"); },
                                   FS_ARTIFACT_ERROR);
  EXPECT_TRUE(contains(bad, "tiny: ONNX Runtime cannot load")) << bad;
}

TEST(OnnxRuntimeRunner, ManifestTensorsAbsentFromTheGraphAreAnArtifactError) {
  GraphSpec renamed = tiny_spec();
  renamed.outputs[2].name = "k4";
  const std::string message = error_of([&] { cpu_runner({}, renamed); }, FS_ARTIFACT_ERROR);
  EXPECT_TRUE(contains(message, "the manifest declares output 'k4'")) << message;
  EXPECT_TRUE(contains(message, "['y', 'positive', 'k3']")) << message;
}

TEST(Factory, BackendNamesMatchPython) {
  ASSERT_EQ(frozenseg::kBackends.size(), 6u);
  EXPECT_EQ(frozenseg::kBackends[0], "auto");
  EXPECT_EQ(frozenseg::kBackends[4], "tensorrt");
  EXPECT_EQ(frozenseg::kBackends[5], "openvino-cpu");
  EXPECT_EQ(frozenseg::resolve_backend("onnxruntime-cpu"), "onnxruntime-cpu");
  const std::string resolved = frozenseg::resolve_backend("auto");
  const auto available = frozenseg::onnxruntime_available_providers();
  EXPECT_NE(std::find(available.begin(), available.end(), "CPUExecutionProvider"), available.end());
  if (std::find(available.begin(), available.end(), "CUDAExecutionProvider") == available.end()) {
    // The recorded AUTO_ORDER on a CPU: OpenVINO where it is built in, for FP32 files only.
    EXPECT_EQ(resolved, frozenseg::built_with_openvino() ? "openvino-cpu" : "onnxruntime-cpu");
    EXPECT_EQ(frozenseg::resolve_backend("auto", /*fp32_files=*/false), "onnxruntime-cpu");
  }
}

TEST(Factory, AutoFollowsTheManifestsChoice) {
  const auto available = frozenseg::onnxruntime_available_providers();
  if (std::find(available.begin(), available.end(), "CUDAExecutionProvider") != available.end())
    GTEST_SKIP() << "ONNX Runtime has a GPU provider here: auto's first choices differ";
  const frozenseg::BackendChoice cpu_first{{"onnxruntime-cpu", "openvino-cpu"}, {}};
  EXPECT_EQ(frozenseg::resolve_backend("auto", true, cpu_first), "onnxruntime-cpu");
  const frozenseg::BackendChoice openvino_first{{"openvino-cpu", "onnxruntime-cpu"}, {"openvino-cpu"}};
  EXPECT_EQ(frozenseg::resolve_backend("auto", true, openvino_first),
            frozenseg::built_with_openvino() ? "openvino-cpu" : "onnxruntime-cpu");
  EXPECT_EQ(frozenseg::resolve_backend("auto", false, openvino_first), "onnxruntime-cpu");
  const frozenseg::BackendChoice gpu_only{{"onnxruntime-cuda", "onnxruntime-trt"}, {}};
  const std::string message = error_of([&] { frozenseg::resolve_backend("auto", true, gpu_only); }, FS_BACKEND_ERROR);
  EXPECT_EQ(message, "no backend of the manifest's auto order (onnxruntime-cuda, onnxruntime-trt) can run here");
}

TEST(Factory, BuiltBackendsAreWhatThisBuildHas) {
  const auto names = frozenseg::built_backends();
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(names[0], "auto");
  const auto has = [&](std::string_view name) { return std::find(names.begin(), names.end(), name) != names.end(); };
  EXPECT_TRUE(has("onnxruntime-cpu") && has("onnxruntime-cuda") && has("onnxruntime-trt"));
  EXPECT_EQ(has("tensorrt"), frozenseg::built_with_tensorrt());
  EXPECT_EQ(has("openvino-cpu"), frozenseg::built_with_openvino());
}

TEST(Factory, OpenVinoNeedsABuildWithIt) {
  if (frozenseg::built_with_openvino()) {
    EXPECT_EQ(frozenseg::resolve_backend("openvino-cpu"), "openvino-cpu");
    return;
  }
  const std::string message = error_of([] { frozenseg::resolve_backend("openvino-cpu"); }, FS_BACKEND_ERROR);
  EXPECT_TRUE(contains(message, "not built with OpenVINO")) << message;
  EXPECT_TRUE(contains(message, "-DFROZENSEG_WITH_OPENVINO=ON")) << message;
  error_of([] { frozenseg::make_runner(kGraph, tiny_spec(), "openvino-cpu"); }, FS_BACKEND_ERROR);
}

TEST(Factory, UnknownBackend) {
  const std::string message = error_of([] { frozenseg::resolve_backend("onnxruntime-gpu"); }, FS_BACKEND_ERROR);
  EXPECT_EQ(message,
            "unknown backend 'onnxruntime-gpu'; choose one of auto, onnxruntime-cpu, onnxruntime-cuda, "
            "onnxruntime-trt, tensorrt, openvino-cpu");
  const std::string unresolved = error_of([] { frozenseg::make_runner(kGraph, tiny_spec(), "auto"); }, FS_BACKEND_ERROR);
  EXPECT_TRUE(contains(unresolved, "resolve it first")) << unresolved;
}

TEST(Factory, MissingGpuProvidersAreBackendErrors) {
  const auto available = frozenseg::onnxruntime_available_providers();
  for (const std::string backend : {"onnxruntime-cuda", "onnxruntime-trt"}) {
    const std::string provider = frozenseg::onnxruntime_providers(backend).front();
    if (std::find(available.begin(), available.end(), provider) != available.end()) {
      continue;  // a GPU build of ONNX Runtime: nothing missing to report
    }
    const std::string resolved = error_of([&] { frozenseg::resolve_backend(backend); }, FS_BACKEND_ERROR);
    EXPECT_TRUE(contains(resolved, "backend " + backend + " needs ONNX Runtime's " + provider)) << resolved;
    EXPECT_TRUE(contains(resolved, "-DONNXRUNTIME_ROOT")) << resolved;
    const std::string made = error_of([&] { frozenseg::make_runner(kGraph, tiny_spec(), backend); }, FS_BACKEND_ERROR);
    EXPECT_EQ(made, resolved);
  }
}

TEST(Factory, TensorRTNeedsABuildWithIt) {
  if (frozenseg::built_with_tensorrt()) GTEST_SKIP() << "built with TensorRT (FROZENSEG_HAVE_TENSORRT)";
  const std::string message = error_of([] { frozenseg::resolve_backend("tensorrt"); }, FS_BACKEND_ERROR);
  EXPECT_TRUE(contains(message, "not built with TensorRT")) << message;
  EXPECT_EQ(error_of([] { frozenseg::make_runner(kGraph, tiny_spec(), "tensorrt"); }, FS_BACKEND_ERROR), message);
}
