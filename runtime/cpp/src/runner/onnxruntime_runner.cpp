#include "runner/onnxruntime_runner.hpp"

#include <onnxruntime_cxx_api.h>
#include <onnxruntime_session_options_config_keys.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/error.hpp"

namespace frozenseg {
namespace {

constexpr std::string_view kCpu = "CPUExecutionProvider";
constexpr std::string_view kCuda = "CUDAExecutionProvider";
constexpr std::string_view kTensorRT = "TensorrtExecutionProvider";

// One environment per process, as ONNX Runtime asks; created on first use (thread-safe static).
// Each runner holds a reference, so a runner kept in a static object still outlives it.
// Severity 3 (errors only) as the Python runner's log_severity_level. Telemetry events are off
// (ONNX Runtime 1.29 sends them from Linux too); its full opt-out, which also keeps it from opening
// its database under ~/.cache and a log in /tmp, is ORT_DISABLE_TELEMETRY=1 before the first
// environment: frozenseg-segment sets it, embedders choose (docs/cpp-api.md).
std::shared_ptr<Ort::Env> shared_env() {
  static const auto env = [] {
    auto created = std::make_shared<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "frozenseg");
    created->DisableTelemetryEvents();
    return created;
  }();
  return env;
}

ONNXTensorElementDataType ort_type(DType dtype) {
  switch (dtype) {
    case DType::float32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::float16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::int64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DType::int32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::boolean: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

std::optional<DType> from_ort_type(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DType::float32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return DType::float16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DType::int64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DType::int32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DType::boolean;
    default: return std::nullopt;
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "'" : ", '") + item + "'";
  return "[" + out + "]";
}

// Errors that mean the graph file itself is wrong rather than the backend.
bool is_artifact_failure(OrtErrorCode code) {
  return code == ORT_NO_SUCHFILE || code == ORT_NO_MODEL || code == ORT_INVALID_PROTOBUF ||
         code == ORT_INVALID_GRAPH || code == ORT_NOT_IMPLEMENTED || code == ORT_MODEL_LOADED;
}

Ort::SessionOptions session_options(std::string_view backend, const std::string& precision,
                                    const RunnerOptions& options) {
  Ort::SessionOptions opts;
  opts.SetLogSeverityLevel(ORT_LOGGING_LEVEL_ERROR);
  if (options.threads.value_or(0) > 0) opts.SetIntraOpNumThreads(*options.threads);
  if (options.memory_arena) {
    opts.EnableCpuMemArena();
  } else {
    opts.DisableCpuMemArena();
  }
  if (precision != "fp32") {
    opts.AddConfigEntry(kOrtSessionOptionsDisableSpecifiedOptimizers,
                        std::string(kLoweredPrecisionDisabledOptimizers).c_str());
  }
  // Providers in priority order; ONNX Runtime always falls back to the CPU provider last.
  for (const std::string& provider : onnxruntime_providers(backend)) {
    if (provider == kTensorRT) {
      Ort::TensorRTProviderOptions trt;
      opts.AppendExecutionProvider_TensorRT_V2(*trt);
    } else if (provider == kCuda) {
      Ort::CUDAProviderOptions cuda;
      opts.AppendExecutionProvider_CUDA_V2(*cuda);
    }
  }
  return opts;
}

std::vector<std::string> session_names(const Ort::Session& session, bool inputs) {
  Ort::AllocatorWithDefaultOptions allocator;
  std::vector<std::string> names;
  const std::size_t count = inputs ? session.GetInputCount() : session.GetOutputCount();
  for (std::size_t i = 0; i < count; ++i) {
    names.emplace_back(inputs ? session.GetInputNameAllocated(i, allocator).get()
                              : session.GetOutputNameAllocated(i, allocator).get());
  }
  return names;
}

// The manifest's tensors must exist in the graph: a clear ArtifactError at load time instead of
// an ONNX Runtime message at the first run.
void check_graph_declares(const std::filesystem::path& graph, const GraphSpec& spec,
                          const Ort::Session& session) {
  for (const bool inputs : {true, false}) {
    const std::vector<std::string> names = session_names(session, inputs);
    for (const TensorSpec& t : inputs ? spec.inputs : spec.outputs) {
      if (std::find(names.begin(), names.end(), t.name) == names.end()) {
        fail_artifact(spec.name + ": the manifest declares " + (inputs ? "input" : "output") + " '" +
                      t.name + "' but " + graph.string() + " has " + (inputs ? "inputs " : "outputs ") +
                      join(names) + "; the manifest and the graph do not belong together: re-export");
      }
    }
  }
}

Tensor to_tensor(const std::string& graph, const std::string& name, const Ort::Value& value) {
  if (!value.IsTensor()) throw Error(FS_INFERENCE_ERROR, graph + ": output '" + name + "' is not a tensor");
  const auto info = value.GetTensorTypeAndShapeInfo();
  const auto dtype = from_ort_type(info.GetElementType());
  if (!dtype) {
    throw Error(FS_INFERENCE_ERROR, graph + ": output '" + name + "' has ONNX element type " +
                                        std::to_string(info.GetElementType()) +
                                        ", which the runtime does not handle (re-export)");
  }
  Tensor out(*dtype, info.GetShape());
  if (!out.bytes().empty()) {
    std::memcpy(out.bytes().data(), value.GetTensorRawData(), out.bytes().size());
  }
  return out;
}

}  // namespace

std::vector<std::string> onnxruntime_providers(std::string_view backend) {
  if (backend == "onnxruntime-cpu") return {std::string(kCpu)};
  if (backend == "onnxruntime-cuda") return {std::string(kCuda), std::string(kCpu)};
  if (backend == "onnxruntime-trt") return {std::string(kTensorRT), std::string(kCuda), std::string(kCpu)};
  return {};
}

std::vector<std::string> onnxruntime_available_providers() { return Ort::GetAvailableProviders(); }

void require_onnxruntime_backend(std::string_view backend) {
  const std::vector<std::string> wanted = onnxruntime_providers(backend);
  if (wanted.empty()) fail_backend("backend '" + std::string(backend) + "' is not an ONNX Runtime backend");
  const std::vector<std::string> available = onnxruntime_available_providers();
  if (std::find(available.begin(), available.end(), wanted.front()) == available.end()) {
    std::vector<std::string> sorted = available;
    std::sort(sorted.begin(), sorted.end());
    fail_backend("backend " + std::string(backend) + " needs ONNX Runtime's " + wanted.front() +
                 ", which the linked ONNX Runtime " + Ort::GetVersionString() + " lacks (has " +
                 join(sorted) + "): build against ONNX Runtime's GPU package " +
                 "(onnxruntime-linux-x64-gpu-<version>.tgz) with -DONNXRUNTIME_ROOT=<its folder>, " +
                 "or use onnxruntime-cpu");
  }
}

struct OnnxRuntimeRunner::Session {
  std::shared_ptr<Ort::Env> env = shared_env();  // declared first: released after the session
  Ort::Session session{nullptr};
  std::vector<std::string> input_names;   // the spec's order
  std::vector<std::string> output_names;
  std::vector<const char*> input_ptrs;
  std::vector<const char*> output_ptrs;
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
};

OnnxRuntimeRunner::OnnxRuntimeRunner(const std::filesystem::path& graph, GraphSpec spec,
                                     std::string backend, const RunnerOptions& options)
    : spec_(std::move(spec)), backend_(std::move(backend)), session_(std::make_unique<Session>()) {
  if (options.threads.value_or(0) < 0) {
    fail_argument(spec_.name + ": threads must be 0 (ONNX Runtime's default) or more, got " +
                  std::to_string(*options.threads));
  }
  require_onnxruntime_backend(backend_);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(graph, ec)) {
    fail_artifact(spec_.name + ": graph file " + graph.string() +
                  " does not exist; check the artifacts folder or re-export");
  }
  Ort::SessionOptions opts{nullptr};
  try {
    opts = session_options(backend_, spec_.precision, options);
  } catch (const Ort::Exception& e) {
    fail_backend(spec_.name + ": ONNX Runtime cannot start backend " + backend_ + ": " + e.what());
  }
  try {
    session_->session = Ort::Session(*session_->env, graph.c_str(), opts);
  } catch (const Ort::Exception& e) {
    const std::string message = spec_.name + ": ONNX Runtime cannot load " + graph.string() +
                                " on " + backend_ + ": " + e.what();
    if (is_artifact_failure(e.GetOrtErrorCode()) && backend_ == "onnxruntime-cpu") {
      fail_artifact(message + " (re-export the graph, or check the artifacts folder)");
    }
    fail_backend(message);
  }
  check_graph_declares(graph, spec_, session_->session);
  for (const TensorSpec& t : spec_.inputs) session_->input_names.push_back(t.name);
  for (const TensorSpec& t : spec_.outputs) session_->output_names.push_back(t.name);
  for (const auto& n : session_->input_names) session_->input_ptrs.push_back(n.c_str());
  for (const auto& n : session_->output_names) session_->output_ptrs.push_back(n.c_str());
}

OnnxRuntimeRunner::~OnnxRuntimeRunner() = default;

std::optional<Shape> OnnxRuntimeRunner::max_shape(std::string_view /*input_name*/) const {
  return std::nullopt;
}

TensorMap OnnxRuntimeRunner::infer(const TensorMap& inputs) const {
  check_feed(spec_, inputs);
  static std::byte empty_placeholder{};  // ONNX Runtime wants a pointer even for zero elements
  try {
    std::vector<Ort::Value> values;
    values.reserve(spec_.inputs.size());
    for (const TensorSpec& t : spec_.inputs) {
      const Tensor& tensor = inputs.find(t.name)->second;
      // ONNX Runtime reads inputs and never writes them; the API takes a non-const pointer.
      void* data = tensor.bytes().empty() ? &empty_placeholder
                                          : const_cast<std::byte*>(tensor.bytes().data());
      values.push_back(Ort::Value::CreateTensor(session_->cpu, data, tensor.bytes().size(),
                                                tensor.shape().data(), tensor.shape().size(),
                                                ort_type(tensor.dtype())));
    }
    const std::vector<Ort::Value> outputs =
        session_->session.Run(Ort::RunOptions{nullptr}, session_->input_ptrs.data(), values.data(),
                              values.size(), session_->output_ptrs.data(), session_->output_ptrs.size());
    TensorMap result;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      result.emplace(session_->output_names[i], to_tensor(spec_.name, session_->output_names[i], outputs[i]));
    }
    return result;
  } catch (const Ort::Exception& e) {
    throw Error(FS_INFERENCE_ERROR, spec_.name + ": ONNX Runtime failed to run on " + backend_ + ": " + e.what());
  }
}

}  // namespace frozenseg
