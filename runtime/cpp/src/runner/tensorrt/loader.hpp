// Deserializing one graph's TensorRT engine once its record is known to fit this TensorRT and GPU
// (runtime/backends/tensorrt/loader.py's load_engine). Compiled only with FROZENSEG_HAVE_TENSORRT.
#pragma once

#include <NvInferRuntime.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runner/graph_spec.hpp"
#include "runner/tensorrt/cuda_runtime.hpp"
#include "runner/tensorrt/engine_index.hpp"
#include "runner/tensorrt/profiles.hpp"

namespace frozenseg::tensorrt {

// TensorRT's log at WARNING and above goes to stderr; the last error is kept for messages: the
// calling thread's own (TensorRT logs on the thread of the failing call), else the process's last.
class Logger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* message) noexcept override;
  std::string last_error() const;

 private:
  mutable std::mutex mutex_;
  std::string last_error_;
};

// The one logger of the process: TensorRT may keep the first logger it is given process-wide,
// and NVIDIA's samples use one global logger; every runtime here is created with this one.
Logger& process_logger();

// "major.minor.patch.build" of the libnvinfer loaded at run time (not the headers compiled against).
std::string tensorrt_library_version();

// The GPU an engine will run on; frozenseg::Error(FS_BACKEND_ERROR) naming what is missing when
// there is no usable CUDA driver or GPU, or `device` is not present.
cuda::DeviceInfo require_gpu(int device);

// Declared in destruction order reversed: the engine goes first, then its runtime.
struct LoadedEngine {
  Logger* logger = &process_logger();
  std::unique_ptr<nvinfer1::IRuntime> runtime;
  std::unique_ptr<nvinfer1::ICudaEngine> engine;
  Profile profile;                                      // the engine's profile 0, multiples from the sidecar
  std::map<std::string, DType, std::less<>> dtypes;     // every input and output
};

// Checks the sidecar against this TensorRT and GPU, the engine file against its recorded sha256,
// deserializes it on `device`, and checks its tensors are the manifest's by name, direction and
// dtype. Throws frozenseg::Error: FS_ARTIFACT_ERROR (stale, foreign, truncated or mismatched
// engine, with the rebuild command), FS_BACKEND_ERROR (no GPU, TensorRT cannot start).
LoadedEngine load_engine(const EngineRecord& record, const GraphSpec& spec, int device);

// nvinfer1::Dims <-> Shape.
Shape shape_of(const nvinfer1::Dims& dims);
nvinfer1::Dims dims_of(const Shape& shape);

}  // namespace frozenseg::tensorrt
