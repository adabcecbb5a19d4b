// OpenVINO on the CPU (`openvino-cpu`) as a runner: the manifest's ONNX graph compiled by
// OpenVINO's CPU plugin (runtime/backends/openvino_runner.py). Built with FROZENSEG_HAVE_OPENVINO
// (CMake option FROZENSEG_WITH_OPENVINO, the SDK from scripts/fetch_openvino_sdk.sh), which
// compiles the .cpp; OpenVINO's headers stay inside it.
//
// As in Python: each distinct feed shape gets its own statically shaped compiled model, the last
// kOpenVinoMaxShapes kept; compiled blobs go to OpenVINO's cache folder (beside the vocabulary
// cache, RunnerOptions::openvino_cache; none for memory only); the precision is always set (f32: OpenVINO's CPU default is bf16
// where the CPU has it) and read back after compiling.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runner/runner.hpp"

namespace frozenseg {

inline constexpr std::string_view kOpenVinoBackend = "openvino-cpu";
inline constexpr std::size_t kOpenVinoMaxShapes = 4;  // compiled models kept per graph (MAX_SHAPES)

// OpenVINO's build string ("2026.4.1-22982-...").
std::string openvino_version();

class OpenVinoRunner final : public Runner {
 public:
  // Reads `graph` with OpenVINO. Throws frozenseg::Error: FS_ARTIFACT_ERROR when the file is
  // missing or unreadable or lacks the spec's tensors; FS_BACKEND_ERROR for a reduced-precision
  // file (they stay on ONNX Runtime); FS_INVALID_ARGUMENT for a negative thread count. Models compile on first use of
  // each shape (FS_BACKEND_ERROR naming the graph and shape when OpenVINO cannot).
  OpenVinoRunner(const std::filesystem::path& graph, GraphSpec spec, const RunnerOptions& options = {});
  ~OpenVinoRunner() override;

  const GraphSpec& spec() const noexcept override { return spec_; }
  std::string_view backend() const noexcept override { return kOpenVinoBackend; }
  // Thread-safe: a request per call on a shared compiled model.
  TensorMap infer(const TensorMap& inputs) const override;
  // Any size compiles; the manifest's ranges are advice here.
  std::optional<Shape> max_shape(std::string_view input_name) const override;

  // Compiled models made so far and the feed shapes held now (for tests and tools).
  std::size_t compiles() const;
  std::size_t shapes_held() const;

 private:
  struct Model;
  GraphSpec spec_;
  std::unique_ptr<Model> model_;
};

}  // namespace frozenseg
