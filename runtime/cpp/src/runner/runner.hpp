// What every runner is: one graph on one backend, mirroring the Python Runner protocol
// (runtime/backends/base.py), plus the one check of a feed against the manifest's tensor specs.
//
// Lifetime replaces activate()/deactivate(): constructing a runner loads it, destroying it
// releases it. Engines are not copyable or movable (held by unique_ptr).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "runner/graph_spec.hpp"
#include "runner/tensor.hpp"

namespace frozenseg {

// Options of make_runner; each backend takes what applies to it (as make_runner in factory.py).
struct RunnerOptions {
  std::optional<int> threads;  // ONNX Runtime intra-op threads; unset or 0: its default
  // ONNX Runtime's CPU arena. Off (as Python's default): memory returns after each run. On the
  // full preset at 800x800 the per-session arenas held 11.1 GB at peak against PyTorch eager's
  // 6.9 GB, and 5.96 GB with them off, at the same speed (issue 25, item 5).
  bool memory_arena = false;
  bool cuda_graph = false;     // tensorrt: capture each input-shape combination once
  bool share_activations = false;  // tensorrt: scratch memory from the artifacts' shared arena
  int device = 0;              // tensorrt: the CUDA device
  // openvino-cpu: the folder of OpenVINO's compiled blobs (the Segmenter puts it beside the
  // vocabulary cache); nullopt: no blob cache, every process compiles from the ONNX file
  std::optional<std::filesystem::path> openvino_cache;
};

class Runner {
 public:
  virtual ~Runner() = default;
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  virtual const GraphSpec& spec() const noexcept = 0;
  // The resolved backend name ("onnxruntime-cpu", ...).
  virtual std::string_view backend() const noexcept = 0;

  // Runs the graph on the spec's inputs (extra entries are ignored) and returns every output of
  // the spec. Checks the feed first (check_feed). Thread-safe: concurrent calls on one runner are
  // allowed. Throws frozenseg::Error: FS_INVALID_INPUT for a bad feed, FS_INFERENCE_ERROR when
  // the backend fails.
  virtual TensorMap infer(const TensorMap& inputs) const = 0;

  // The largest shape the loaded graph accepts for an input, or nullopt when any size runs
  // (ONNX Runtime); a TensorRT engine is bound to the range it was built for.
  virtual std::optional<Shape> max_shape(std::string_view input_name) const = 0;

 protected:
  Runner() = default;
};

// Every declared input is present, of the declared dtype, rank and fixed dims; throws
// frozenseg::Error(FS_INVALID_INPUT) with runtime/backends/base.py's messages otherwise.
void check_feed(const GraphSpec& spec, const TensorMap& feed);

}  // namespace frozenseg
