// ONNX Runtime runners: one session per graph on the CPU, CUDA or TensorRT execution provider
// (runtime/backends/onnxrt.py). ONNX Runtime's headers stay inside the .cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/runner.hpp"

namespace frozenseg {

// Backend name -> execution providers in priority order (PROVIDERS in onnxrt.py); empty for a
// name that is not an ONNX Runtime backend.
std::vector<std::string> onnxruntime_providers(std::string_view backend);

// Execution providers the linked ONNX Runtime library offers (GetAvailableProviders).
std::vector<std::string> onnxruntime_available_providers();

// Throws frozenseg::Error(FS_BACKEND_ERROR) naming the missing provider and how to get it when
// the linked ONNX Runtime cannot run `backend`.
void require_onnxruntime_backend(std::string_view backend);

// The optimizers lowered-precision graphs skip (LOWERED_PRECISION_DISABLED_OPTIMIZERS): ONNX
// Runtime's NCHWc layout transformer crashes on some FP16 graphs with FP32 islands and only
// speeds up FP32 convolutions.
inline constexpr std::string_view kLoweredPrecisionDisabledOptimizers = "NchwcTransformer";

class OnnxRuntimeRunner final : public Runner {
 public:
  // Loads `graph` with the backend's providers. Throws frozenseg::Error: FS_ARTIFACT_ERROR when
  // the file is missing, unreadable or does not declare the spec's tensors; FS_BACKEND_ERROR when
  // a provider is missing or fails to start; FS_INVALID_ARGUMENT for a negative thread count.
  OnnxRuntimeRunner(const std::filesystem::path& graph, GraphSpec spec, std::string backend,
                    const RunnerOptions& options = {});
  ~OnnxRuntimeRunner() override;

  const GraphSpec& spec() const noexcept override { return spec_; }
  std::string_view backend() const noexcept override { return backend_; }
  // Thread-safe: ONNX Runtime allows concurrent Run calls on one session.
  TensorMap infer(const TensorMap& inputs) const override;
  // ONNX Runtime runs any size; the manifest's ranges are advice here.
  std::optional<Shape> max_shape(std::string_view input_name) const override;

 private:
  struct Session;
  GraphSpec spec_;
  std::string backend_;
  std::unique_ptr<Session> session_;
};

}  // namespace frozenseg
