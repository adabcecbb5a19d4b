// The native TensorRT runner: one graph's engine built by `frozenseg-deploy build`, run with
// enqueueV3 on its own stream (runtime/backends/tensorrt/runner.py). TensorRT's headers stay in
// the .cpp. Compiled only with FROZENSEG_HAVE_TENSORRT.
//
// - the engine is found through ARTIFACTS/engines/index.json and its sidecar, checked against the
//   manifest's ONNX sha256, this TensorRT version and this GPU, and its file's sha256;
// - tensors are bound by name; device buffers and pinned host staging buffers are sized for the
//   shapes a call uses and grown on demand (schedule.hpp's next_capacity), so copies are real
//   asynchronous DMA and a Jetson does not hold the profile's worst case;
// - each runner has its own non-blocking stream, so CLIP and SAM (two threads in the Segmenter)
//   run at once;
// - with cuda_graph, each input-shape combination gets its own execution context, captured once
//   and replayed (schedule.hpp: NVIDIA's one context per graph, 8 kept);
// - every context is USER_MANAGED and takes its activations, sized for the shapes run, from an
//   arena: the runner's own, or the one clip_text and decoder share.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "runner/runner.hpp"

namespace frozenseg::tensorrt {

class TensorRTRunner final : public Runner {
 public:
  // `graph` is the manifest's ONNX file (its folder locates the artifacts and their engines).
  // Throws frozenseg::Error: FS_ARTIFACT_ERROR (no engine recorded, stale or foreign engine),
  // FS_BACKEND_ERROR (no GPU), FS_OUT_OF_MEMORY.
  TensorRTRunner(const std::filesystem::path& graph, GraphSpec spec, const RunnerOptions& options);
  ~TensorRTRunner() override;

  const GraphSpec& spec() const noexcept override { return spec_; }
  std::string_view backend() const noexcept override { return "tensorrt"; }
  // Thread-safe: calls on one runner are serialized (one context, one stream).
  TensorMap infer(const TensorMap& inputs) const override;
  // The profile's max: the engine runs nothing larger.
  std::optional<Shape> max_shape(std::string_view input_name) const override;

 private:
  struct Session;
  GraphSpec spec_;
  std::unique_ptr<Session> session_;
};

}  // namespace frozenseg::tensorrt
