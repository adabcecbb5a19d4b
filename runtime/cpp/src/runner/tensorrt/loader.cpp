#include "runner/tensorrt/loader.hpp"

#include <algorithm>
#include <iostream>
#include <optional>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/sha256.hpp"
#include "runner/tensorrt/engine_metadata.hpp"

// The headers compiled against must be new enough too (setDeviceMemoryV2, getDeviceMemorySizeV2).
static_assert(NV_TENSORRT_MAJOR > frozenseg::tensorrt::kMinTensorRTMajor ||
                  (NV_TENSORRT_MAJOR == frozenseg::tensorrt::kMinTensorRTMajor &&
                   NV_TENSORRT_MINOR >= frozenseg::tensorrt::kMinTensorRTMinor),
              "the native TensorRT engine needs TensorRT >= 10.1 headers");

namespace frozenseg::tensorrt {
namespace {

std::optional<DType> dtype_from_tensorrt(nvinfer1::DataType type) {
  switch (type) {
    case nvinfer1::DataType::kFLOAT: return DType::float32;
    case nvinfer1::DataType::kHALF: return DType::float16;
    case nvinfer1::DataType::kINT64: return DType::int64;
    case nvinfer1::DataType::kINT32: return DType::int32;
    case nvinfer1::DataType::kBOOL: return DType::boolean;
    default: return std::nullopt;
  }
}

std::string names_text(std::vector<std::string> names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", '" : "'") + names[i] + "'";
  return out + "]";
}

void check_io(LoadedEngine& loaded, const GraphSpec& spec, const EngineRecord& record) {
  const nvinfer1::ICudaEngine& engine = *loaded.engine;
  std::vector<std::string> inputs, outputs;
  for (int32_t i = 0; i < engine.getNbIOTensors(); ++i) {
    const char* name = engine.getIOTensorName(i);
    (engine.getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT ? inputs : outputs).emplace_back(name);
  }
  std::vector<std::string> want_in, want_out;
  for (const auto& t : spec.inputs) want_in.push_back(t.name);
  for (const auto& t : spec.outputs) want_out.push_back(t.name);
  const auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  if (sorted(inputs) != sorted(want_in) || sorted(outputs) != sorted(want_out))
    fail_artifact(record.path.string() + ": engine tensors " + names_text(inputs) + " -> " + names_text(outputs) +
                  " are not the manifest's " + names_text(want_in) + " -> " + names_text(want_out) + "; rebuild it");
  std::vector<TensorSpec> all = spec.inputs;
  all.insert(all.end(), spec.outputs.begin(), spec.outputs.end());
  for (const TensorSpec& t : all) {
    const auto got = dtype_from_tensorrt(engine.getTensorDataType(t.name.c_str()));
    if (got != t.dtype)
      fail_artifact(record.path.string() + ": tensor " + t.name + " is " +
                    (got ? std::string(dtype_name(*got)) : std::string("a type FrozenSeg does not use")) +
                    " in the engine, " + std::string(dtype_name(t.dtype)) + " in the manifest; rebuild it");
    loaded.dtypes.emplace(t.name, t.dtype);
  }
  for (const TensorSpec& t : spec.inputs) {
    const char* name = t.name.c_str();
    ShapeRange range{shape_of(engine.getProfileShape(name, 0, nvinfer1::OptProfileSelector::kMIN)),
                     shape_of(engine.getProfileShape(name, 0, nvinfer1::OptProfileSelector::kOPT)),
                     shape_of(engine.getProfileShape(name, 0, nvinfer1::OptProfileSelector::kMAX)), {}};
    const auto recorded = record.metadata.profiles.find(t.name);
    range.multiple = recorded != record.metadata.profiles.end() && recorded->second.multiple.size() == range.min.size()
                         ? recorded->second.multiple
                         : Shape(range.min.size(), 1);
    loaded.profile.emplace(t.name, std::move(range));
  }
}

}  // namespace

namespace {
thread_local std::string thread_last_error;
}  // namespace

void Logger::log(Severity severity, const char* message) noexcept {
  if (severity > Severity::kWARNING) return;
  try {
    std::cerr << "[TensorRT] " << message << '\n';
    if (severity <= Severity::kERROR) {
      thread_last_error = message;
      std::lock_guard lock(mutex_);
      last_error_ = message;
    }
  } catch (...) {  // nothing may leave a TensorRT callback
  }
}

std::string Logger::last_error() const {
  if (!thread_last_error.empty()) return thread_last_error;
  std::lock_guard lock(mutex_);
  return last_error_;
}

Logger& process_logger() {
  static Logger logger;  // never destroyed before the engines: static, constructed on first use
  return logger;
}

std::string tensorrt_library_version() {
  return std::to_string(getInferLibMajorVersion()) + "." + std::to_string(getInferLibMinorVersion()) + "." +
         std::to_string(getInferLibPatchVersion()) + "." + std::to_string(getInferLibBuildVersion());
}

cuda::DeviceInfo require_gpu(int device) {
  std::string why;
  const int count = cuda::device_count(&why);
  if (count == 0)
    fail_backend("no CUDA GPU found (" + why + "): TensorRT engines are built and run on an NVIDIA GPU with its "
                 "driver; on a machine without one, use backend onnxruntime-cpu");
  if (device < 0 || device >= count)
    fail_backend("CUDA device " + std::to_string(device) + " requested, only " + std::to_string(count) + " present");
  return cuda::device_info(device);
}

Shape shape_of(const nvinfer1::Dims& dims) {
  Shape out;
  for (int32_t i = 0; i < dims.nbDims; ++i) out.push_back(static_cast<std::int64_t>(dims.d[i]));
  return out;
}

nvinfer1::Dims dims_of(const Shape& shape) {
  nvinfer1::Dims dims{};
  if (shape.size() > static_cast<std::size_t>(nvinfer1::Dims::MAX_DIMS))
    fail_input("a tensor of rank " + std::to_string(shape.size()) + " is beyond TensorRT's " +
               std::to_string(nvinfer1::Dims::MAX_DIMS) + " dims");
  dims.nbDims = static_cast<int32_t>(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) dims.d[i] = shape[i];
  return dims;
}

LoadedEngine load_engine(const EngineRecord& record, const GraphSpec& spec, int device) {
  const std::string version = tensorrt_library_version();
  if (const std::string problem = tensorrt_version_problem(version); !problem.empty()) fail_backend(problem);
  const cuda::DeviceInfo gpu = require_gpu(device);
  check_engine_compatible(record.metadata,
                          {version, gpu.name, gpu.compute_capability, spec.sha256, gpu.sm_count, gpu.total_memory},
                          record.artifacts);
  std::vector<std::byte> data = read_file_bytes(record.path);
  if (!record.metadata.engine_sha256.empty() && sha256_hex(data) != record.metadata.engine_sha256)
    fail_artifact(record.path.string() + " does not match the sha256 in its metadata (truncated or replaced): "
                  "rebuild it with " + record.rebuild_command());
  cuda::set_device(device);
  LoadedEngine loaded;
  loaded.runtime.reset(nvinfer1::createInferRuntime(*loaded.logger));
  if (!loaded.runtime) fail_backend("TensorRT could not create a runtime: " + loaded.logger->last_error());
  loaded.engine.reset(loaded.runtime->deserializeCudaEngine(data.data(), data.size()));
  if (!loaded.engine)
    fail_artifact("TensorRT could not deserialize " + record.path.string() + " (" + loaded.logger->last_error() +
                  "); rebuild it with " + record.rebuild_command());
  check_io(loaded, spec, record);
  return loaded;
}

}  // namespace frozenseg::tensorrt
