#include "engine/tensorrt/tensorrt_engine.hpp"

#include <NvInferRuntime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <utility>

#include "common/error.hpp"
#include "engine/tensorrt/arena.hpp"
#include "engine/tensorrt/cuda.hpp"
#include "engine/tensorrt/engine_index.hpp"
#include "engine/tensorrt/loader.hpp"

namespace frozenseg::tensorrt {
namespace {

using ShapeKey = std::vector<std::pair<std::string, Shape>>;  // a call's input shapes

std::size_t volume(const Shape& shape) { return static_cast<std::size_t>(element_count(shape)); }

}  // namespace

// Declared so that destruction runs: graphs, then the context (leaving the arena), then buffers
// and stream, then the engine (a context must not outlive its engine).
struct TensorRTEngine::Session {
  int device = 0;
  bool cuda_graph = false;
  std::string name;
  EngineRecord record;
  LoadedEngine loaded;
  std::shared_ptr<ActivationArena> arena;  // null: the context owns its activation memory
  cuda::Stream stream;
  std::map<std::string, std::unique_ptr<cuda::DeviceBuffer>, std::less<>> buffers;
  std::unique_ptr<nvinfer1::IExecutionContext> context;
  struct Captured {
    ShapeKey key;
    std::uint64_t generation;
    cuda::Graph graph;
  };
  std::list<Captured> graphs;  // most recently used first
  mutable std::mutex mutex;

  Session(int device_, bool cuda_graph_, std::string name_, EngineRecord record_, LoadedEngine loaded_)
      : device(device_), cuda_graph(cuda_graph_), name(std::move(name_)), record(std::move(record_)),
        loaded(std::move(loaded_)) {}

  ~Session() {
    try {
      if (context) stream.synchronize();
    } catch (...) {  // a failed stream cannot be waited on; free what we hold regardless
    }
    graphs.clear();
    nvinfer1::IExecutionContext* member = context.get();
    context.reset();  // gone before the arena may free the memory it ran in
    if (arena && member) arena->release(member);
  }

  // Buffers at the largest shapes: inputs at the profile max, outputs at the larger of the
  // manifest's max and what the context reports for max-shaped inputs.
  void allocate(const GraphSpec& spec) {
    for (const auto& [input, range] : loaded.profile)
      if (!context->setInputShape(input.c_str(), dims_of(range.max)))
        fail_artifact(name + ": TensorRT refused the profile max " + format_shape(range.max) + " of " + input);
    std::map<std::string, std::size_t, std::less<>> bytes;
    for (const auto& [input, range] : loaded.profile) bytes[input] = volume(range.max) * dtype_size(loaded.dtypes.at(input));
    for (const auto& [output, declared] : output_max_shapes(spec)) {
      std::size_t elements = volume(declared);
      const Shape reported = shape_of(context->getTensorShape(output.c_str()));
      if (std::all_of(reported.begin(), reported.end(), [](std::int64_t d) { return d >= 0; }))
        elements = std::max(elements, volume(reported));
      bytes[output] = elements * dtype_size(loaded.dtypes.at(output));
    }
    for (const auto& [tensor, size] : bytes) {
      auto buffer = std::make_unique<cuda::DeviceBuffer>(size);
      if (!context->setTensorAddress(tensor.c_str(), buffer->get()))
        fail_backend(name + ": TensorRT refused the address of " + tensor);
      buffers.emplace(tensor, std::move(buffer));
    }
  }

  void enqueue() {
    if (!context->enqueueV3(stream.get()))
      throw Error(FS_INFERENCE_ERROR, name + ": TensorRT enqueueV3 failed (" + loaded.logger->last_error() + ")");
  }

  void execute(const ShapeKey& key) {
    if (!cuda_graph) {
      enqueue();
      return;
    }
    const std::uint64_t generation = arena ? arena->generation() : 0;
    for (auto it = graphs.begin(); it != graphs.end(); ++it) {
      if (it->key != key) continue;
      if (it->generation == generation) {
        graphs.splice(graphs.begin(), graphs, it);
        graphs.front().graph.launch(stream);
        return;
      }
      graphs.erase(it);  // captured on an arena buffer since replaced
      break;
    }
    // A plain run first: after a shape change TensorRT does deferred work in the first enqueue,
    // which must not be captured. It also produces this call's outputs.
    enqueue();
    try {
      graphs.push_front({key, generation, cuda::Graph::capture(stream, [this] { enqueue(); })});
    } catch (const Error& e) {
      std::fprintf(stderr, "frozenseg: %s: CUDA graph capture failed (%s); running without\n", name.c_str(), e.what());
      cuda_graph = false;
      return;
    }
    if (graphs.size() > kMaxCudaGraphs) graphs.pop_back();
  }
};

TensorRTEngine::TensorRTEngine(const std::filesystem::path& graph, GraphSpec spec, const EngineOptions& options)
    : spec_(std::move(spec)) {
  const std::filesystem::path artifacts = artifacts_root(graph, spec_);
  EngineRecord record = locate_engine(spec_, artifacts);
  LoadedEngine loaded = load_engine(record, spec_, options.device);
  auto session = std::make_unique<Session>(options.device, options.cuda_graph, spec_.name, std::move(record),
                                           std::move(loaded));
  nvinfer1::ICudaEngine& engine = *session->loaded.engine;
  if (options.share_activations) {
    std::error_code ignored;
    const auto canonical = std::filesystem::weakly_canonical(artifacts, ignored);
    session->arena = shared_arena((ignored ? artifacts : canonical).string() + "#cuda" + std::to_string(options.device));
    session->context = session->arena->create_context(engine);
  } else {
    session->context.reset(engine.createExecutionContext());
    if (!session->context) fail_backend(spec_.name + ": TensorRT could not create an execution context");
  }
  session->allocate(spec_);
  session_ = std::move(session);
}

TensorRTEngine::~TensorRTEngine() = default;

std::optional<Shape> TensorRTEngine::max_shape(std::string_view input_name) const {
  const auto it = session_->loaded.profile.find(input_name);
  if (it == session_->loaded.profile.end()) fail_argument("no input '" + std::string(input_name) + "' in " + spec_.name);
  return it->second.max;
}

TensorMap TensorRTEngine::infer(const TensorMap& inputs) const {
  check_feed(spec_, inputs);
  Session& s = *session_;
  ShapeKey key;
  for (const TensorSpec& t : spec_.inputs) {
    const Tensor& tensor = inputs.find(t.name)->second;
    try {
      check_shape(t.name, tensor.shape(), s.loaded.profile.at(t.name));
    } catch (const Error& e) {
      fail_input(spec_.name + ": " + e.what());
    }
    key.emplace_back(t.name, tensor.shape());
  }
  std::unique_lock<std::recursive_mutex> arena_lock;
  std::lock_guard lock(s.mutex);
  if (s.arena) arena_lock = std::unique_lock<std::recursive_mutex>(s.arena->mutex());
  cuda::set_device(s.device);
  for (const TensorSpec& t : spec_.inputs) {
    const Tensor& tensor = inputs.find(t.name)->second;
    if (!s.context->setInputShape(t.name.c_str(), dims_of(tensor.shape())))
      fail_input(spec_.name + ": TensorRT refused shape " + format_shape(tensor.shape()) + " for " + t.name);
    cuda::check(cudaMemcpyAsync(s.buffers.at(t.name)->get(), tensor.bytes().data(), tensor.bytes().size(),
                                cudaMemcpyHostToDevice, s.stream.get()),
                "cudaMemcpyAsync (host to device)");
  }
  TensorMap outputs;
  for (const TensorSpec& t : spec_.outputs) {
    const Shape shape = shape_of(s.context->getTensorShape(t.name.c_str()));
    const bool unknown = std::any_of(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; });
    const std::size_t bytes = unknown ? 0 : volume(shape) * dtype_size(t.dtype);
    if (unknown || bytes > s.buffers.at(t.name)->size())
      throw Error(FS_INFERENCE_ERROR, spec_.name + ": output " + t.name + " has shape " + format_shape(shape) +
                                          ", beyond its buffer of " + std::to_string(s.buffers.at(t.name)->size()) + " bytes");
    outputs.emplace(t.name, Tensor(t.dtype, shape));
  }
  s.execute(key);
  for (auto& [name, tensor] : outputs)
    cuda::check(cudaMemcpyAsync(tensor.bytes().data(), s.buffers.at(name)->get(), tensor.bytes().size(),
                                cudaMemcpyDeviceToHost, s.stream.get()),
                "cudaMemcpyAsync (device to host)");
  s.stream.synchronize();
  return outputs;
}

}  // namespace frozenseg::tensorrt
