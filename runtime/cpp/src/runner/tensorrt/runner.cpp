#include "runner/tensorrt/runner.hpp"

#include <NvInferRuntime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>
#include <mutex>
#include <utility>

#include "common/error.hpp"
#include "runner/tensorrt/arena.hpp"
#include "runner/tensorrt/cuda_runtime.hpp"
#include "runner/tensorrt/engine_index.hpp"
#include "runner/tensorrt/loader.hpp"
#include "runner/tensorrt/schedule.hpp"

namespace frozenseg::tensorrt {
namespace {

std::size_t volume(const Shape& shape) { return static_cast<std::size_t>(element_count(shape)); }

}  // namespace

// Declared so that destruction runs: graphs, then the contexts (leaving the arena), then buffers
// and stream, then the engine (a context must not outlive its engine).
struct TensorRTRunner::Session {
  int device = 0;
  std::string name;
  EngineRecord record;
  LoadedEngine loaded;
  std::shared_ptr<ActivationArena> arena;  // shared across engines, or this engine's own
  cuda::Stream stream;
  std::map<std::string, std::size_t, std::less<>> limits;  // tensor -> bytes at the profile max
  std::map<std::string, std::unique_ptr<cuda::DeviceBuffer>, std::less<>> buffers;
  std::map<std::string, std::unique_ptr<cuda::PinnedBuffer>, std::less<>> pinned;
  std::uint64_t io_generation = 0;  // bumped when a device buffer moves
  std::vector<std::unique_ptr<nvinfer1::IExecutionContext>> contexts;  // one per shape key (schedule)
  std::map<std::size_t, cuda::Graph> graphs;                            // slot -> its captured graph
  ContextSchedule schedule;
  mutable std::mutex mutex;

  Session(int device_, bool cuda_graph, std::string name_, EngineRecord record_, LoadedEngine loaded_)
      : device(device_), name(std::move(name_)), record(std::move(record_)), loaded(std::move(loaded_)),
        schedule(cuda_graph) {}

  ~Session() {
    try {
      if (!contexts.empty()) stream.synchronize();
    } catch (...) {  // a failed stream cannot be waited on; free what we hold regardless
    }
    graphs.clear();
    while (!contexts.empty()) {
      nvinfer1::IExecutionContext* member = contexts.back().get();
      contexts.pop_back();  // gone before the arena may free the memory it ran in
      arena->release(member);
    }
  }

  std::size_t bytes_of(const std::string& tensor, const Shape& shape) const {
    return volume(shape) * dtype_size(loaded.dtypes.at(tensor));
  }

  // A new context bound to every buffer allocated so far (growth later re-binds them all).
  void add_context() {
    auto context = arena->create_context(*loaded.engine);
    for (const auto& [tensor, buffer] : buffers)
      if (!context->setTensorAddress(tensor.c_str(), buffer->get())) {
        arena->release(context.get());
        fail_backend(name + ": TensorRT refused the address of " + tensor);
      }
    contexts.push_back(std::move(context));
  }

  // Device and pinned buffers large enough for this call, grown by next_capacity (never shrunk);
  // a device buffer that moves is re-bound on every context.
  void fit_buffers(const std::map<std::string, Shape, std::less<>>& shapes) {
    for (const auto& [tensor, shape] : shapes) {
      const std::size_t needed = bytes_of(tensor, shape);
      auto& host = pinned[tensor];
      if (!host || needed > host->size())
        host = std::make_unique<cuda::PinnedBuffer>(next_capacity(needed, host ? host->size() : 0, limits.at(tensor)));
      auto& device_buffer = buffers[tensor];
      if (device_buffer && needed <= device_buffer->size()) continue;
      const std::size_t size = next_capacity(needed, device_buffer ? device_buffer->size() : 0, limits.at(tensor));
      if (device_buffer) stream.synchronize();  // nothing in flight may still use the old block
      device_buffer = std::make_unique<cuda::DeviceBuffer>(size);
      ++io_generation;
      for (auto& context : contexts)
        if (!context->setTensorAddress(tensor.c_str(), device_buffer->get()))
          fail_backend(name + ": TensorRT refused the address of " + tensor);
    }
  }

  void enqueue(nvinfer1::IExecutionContext& context) {
    if (!context.enqueueV3(stream.get()))
      throw Error(FS_INFERENCE_ERROR, name + ": TensorRT enqueueV3 failed (" + loaded.logger->last_error() + ")");
  }

  void execute(std::size_t slot) {
    nvinfer1::IExecutionContext& context = *contexts.at(slot);
    const Stamp stamp{arena->generation(), io_generation};
    const Action action = schedule.action(slot, stamp);
    if (action == Action::kReplay) {
      graphs.at(slot).launch(stream);
      return;
    }
    // A plain run first: it produces this call's outputs, and TensorRT's deferred work after a
    // shape or memory change happens here, not in the capture.
    enqueue(context);
    if (action == Action::kEnqueue) return;
    graphs.erase(slot);
    stream.synchronize();  // trtexec and Triton wait here: nothing of the warm-up is captured
    try {
      graphs.emplace(slot, cuda::Graph::capture(stream, [this, &context] { enqueue(context); }));
      schedule.captured(slot, stamp);
    } catch (const Error& e) {
      std::fprintf(stderr, "frozenseg: %s: CUDA graph capture failed (%s); running without\n", name.c_str(), e.what());
      for (const std::size_t index : schedule.capture_failed()) graphs.erase(index);
    }
  }

  TensorMap run(const GraphSpec& spec, const TensorMap& inputs, const ShapeKey& key) {
    const Choice choice = schedule.choose(key);
    try {
      return run_on(spec, inputs, choice);
    } catch (...) {
      const bool created = choice.new_context && contexts.size() <= choice.slot;
      if (schedule.abandon(choice.slot, created)) graphs.erase(choice.slot);
      throw;
    }
  }

  TensorMap run_on(const GraphSpec& spec, const TensorMap& inputs, const Choice& choice) {
    if (choice.drop_graph) graphs.erase(choice.slot);
    if (choice.new_context) add_context();
    nvinfer1::IExecutionContext& context = *contexts.at(choice.slot);
    std::map<std::string, Shape, std::less<>> shapes;
    for (const TensorSpec& t : spec.inputs) {
      const Tensor& tensor = inputs.find(t.name)->second;
      if (choice.set_shapes && !context.setInputShape(t.name.c_str(), dims_of(tensor.shape())))
        fail_input(name + ": TensorRT refused shape " + format_shape(tensor.shape()) + " for " + t.name);
      shapes[t.name] = tensor.shape();
    }
    TensorMap outputs;
    for (const TensorSpec& t : spec.outputs) {
      const Shape shape = shape_of(context.getTensorShape(t.name.c_str()));
      if (std::any_of(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; }))
        throw Error(FS_INFERENCE_ERROR, name + ": TensorRT left output " + t.name + " at shape " + format_shape(shape));
      shapes[t.name] = shape;
      outputs.emplace(t.name, Tensor(t.dtype, shape));
    }
    fit_buffers(shapes);
    if (choice.set_shapes) arena->fit(context);  // after the shapes: TensorRT sizes activations for them
    for (const TensorSpec& t : spec.inputs) {
      const auto bytes = inputs.find(t.name)->second.bytes();
      std::memcpy(pinned.at(t.name)->get(), bytes.data(), bytes.size());
      cuda::check(cudaMemcpyAsync(buffers.at(t.name)->get(), pinned.at(t.name)->get(), bytes.size(),
                                  cudaMemcpyHostToDevice, stream.get()),
                  "cudaMemcpyAsync (host to device)");
    }
    execute(choice.slot);
    for (auto& [tensor_name, tensor] : outputs)
      cuda::check(cudaMemcpyAsync(pinned.at(tensor_name)->get(), buffers.at(tensor_name)->get(), tensor.bytes().size(),
                                  cudaMemcpyDeviceToHost, stream.get()),
                  "cudaMemcpyAsync (device to host)");
    stream.synchronize();
    for (auto& [tensor_name, tensor] : outputs)
      std::memcpy(tensor.bytes().data(), pinned.at(tensor_name)->get(), tensor.bytes().size());
    return outputs;
  }
};

TensorRTRunner::TensorRTRunner(const std::filesystem::path& graph, GraphSpec spec, const RunnerOptions& options)
    : spec_(std::move(spec)) {
  const std::filesystem::path artifacts = artifacts_root(graph, spec_);
  EngineRecord record = locate_engine(spec_, artifacts);
  LoadedEngine loaded = load_engine(record, spec_, options.device);
  auto session = std::make_unique<Session>(options.device, options.cuda_graph, spec_.name, std::move(record),
                                           std::move(loaded));
  if (options.share_activations) {
    std::error_code ignored;
    const auto canonical = std::filesystem::weakly_canonical(artifacts, ignored);
    session->arena = shared_arena((ignored ? artifacts : canonical).string() + "#cuda" + std::to_string(options.device));
  } else {
    session->arena = std::make_shared<ActivationArena>(spec_.name + "#cuda" + std::to_string(options.device));
  }
  for (const auto& [input, range] : session->loaded.profile) session->limits[input] = session->bytes_of(input, range.max);
  for (const auto& [output, declared] : output_max_shapes(spec_)) session->limits[output] = session->bytes_of(output, declared);
  session_ = std::move(session);
}

TensorRTRunner::~TensorRTRunner() = default;

std::optional<Shape> TensorRTRunner::max_shape(std::string_view input_name) const {
  const auto it = session_->loaded.profile.find(input_name);
  if (it == session_->loaded.profile.end()) fail_argument("no input '" + std::string(input_name) + "' in " + spec_.name);
  return it->second.max;
}

TensorMap TensorRTRunner::infer(const TensorMap& inputs) const {
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
  std::lock_guard lock(s.mutex);
  std::lock_guard arena_lock(s.arena->mutex());  // shared: held from enqueue to sync
  cuda::set_device(s.device);
  return s.run(spec_, inputs, key);
}

}  // namespace frozenseg::tensorrt
