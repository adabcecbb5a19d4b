#include "runner/openvino/openvino_runner.hpp"

#include <openvino/openvino.hpp>

#include <algorithm>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace frozenseg {

namespace {

using FeedShape = std::vector<Shape>;  // one shape per input, in the spec's order

ov::element::Type ov_type(DType dtype) {
  switch (dtype) {
    case DType::float32: return ov::element::f32;
    case DType::float16: return ov::element::f16;
    case DType::int64: return ov::element::i64;
    case DType::int32: return ov::element::i32;
    case DType::boolean: return ov::element::boolean;
  }
  return ov::element::dynamic;
}

std::optional<DType> from_ov_type(const ov::element::Type& type) {
  if (type == ov::element::f32) return DType::float32;
  if (type == ov::element::f16) return DType::float16;
  if (type == ov::element::i64) return DType::int64;
  if (type == ov::element::i32) return DType::int32;
  if (type == ov::element::boolean) return DType::boolean;
  return std::nullopt;
}

// The last line of OpenVINO's (often multi-line) exception text: the reason, without its trace.
std::string reason_of(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const auto newline = text.find_last_of('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

std::string format_feed(const FeedShape& shapes) {
  std::string out = "[";
  for (std::size_t i = 0; i < shapes.size(); ++i) out += (i ? ", " : "") + format_shape(shapes[i]);
  return out + "]";
}

// The names a model's ports answer to (a port may carry several).
bool has_port(const std::vector<ov::Output<ov::Node>>& ports, const std::string& name) {
  return std::any_of(ports.begin(), ports.end(), [&](const auto& port) {
    const auto& names = port.get_names();
    return names.find(name) != names.end();
  });
}

}  // namespace

std::string openvino_version() {
  const ov::Version version = ov::get_openvino_version();
  return version.buildNumber ? std::string(version.buildNumber) : std::string();
}

struct OpenVinoRunner::Model {
  ov::Core core;
  std::shared_ptr<ov::Model> model;
  ov::AnyMap config;
  mutable std::mutex lock;  // guards the compiled models and the count
  // Least recently used first; the list keeps each compiled model alive while a call uses it.
  mutable std::list<std::pair<FeedShape, std::shared_ptr<ov::CompiledModel>>> compiled;
  mutable std::size_t compiles = 0;
};

OpenVinoRunner::OpenVinoRunner(const std::filesystem::path& graph, GraphSpec spec,
                               const RunnerOptions& options)
    : spec_(std::move(spec)), model_(std::make_unique<Model>()) {
  if (options.threads.value_or(0) < 0) {
    fail_argument(spec_.name + ": threads must be 0 (OpenVINO's default) or more, got " +
                  std::to_string(*options.threads));
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(graph, ec)) {
    fail_artifact(spec_.name + ": graph file " + graph.string() +
                  " does not exist; check the artifacts folder or re-export");
  }
  try {
    model_->model = model_->core.read_model(graph.string());
  } catch (const std::exception& e) {
    fail_artifact(spec_.name + ": OpenVINO cannot read " + graph.string() + ": " + reason_of(e) +
                  " (re-export the graph, or check the artifacts folder)");
  }
  for (const bool inputs : {true, false}) {
    const auto ports = inputs ? model_->model->inputs() : model_->model->outputs();
    for (const TensorSpec& t : inputs ? spec_.inputs : spec_.outputs) {
      if (!has_port(ports, t.name)) {
        fail_artifact(spec_.name + ": the manifest declares " + (inputs ? "input" : "output") + " '" + t.name +
                      "' but " + graph.string() + " lacks it; the manifest and the graph do not belong "
                      "together: re-export");
      }
    }
  }
  // Precision always set: OpenVINO's CPU plugin would compute in bf16 where the CPU has it. An
  // INT8 file's Q/DQ pairs still run as INT8 products (VNNI) under f32: the hint is the precision
  // of the float parts, and FP16 files compute in f32 from their FP16 weights.
  model_->config.emplace(ov::hint::inference_precision.name(), ov::element::f32);
  model_->config.emplace(ov::hint::performance_mode.name(), ov::hint::PerformanceMode::LATENCY);
  if (options.threads.value_or(0) > 0) model_->config.emplace(ov::inference_num_threads.name(), *options.threads);
  if (options.openvino_cache) model_->config.emplace(ov::cache_dir.name(), options.openvino_cache->string());
}

OpenVinoRunner::~OpenVinoRunner() = default;

std::optional<Shape> OpenVinoRunner::max_shape(std::string_view /*input_name*/) const { return std::nullopt; }

std::size_t OpenVinoRunner::compiles() const {
  const std::lock_guard<std::mutex> guard(model_->lock);
  return model_->compiles;
}

std::size_t OpenVinoRunner::shapes_held() const {
  const std::lock_guard<std::mutex> guard(model_->lock);
  return model_->compiled.size();
}

TensorMap OpenVinoRunner::infer(const TensorMap& inputs) const {
  check_feed(spec_, inputs);
  FeedShape shapes;
  for (const TensorSpec& t : spec_.inputs) shapes.push_back(inputs.find(t.name)->second.shape());

  std::shared_ptr<ov::CompiledModel> compiled;
  {
    // Compiling under the lock: a shape first seen by two threads at once compiles once.
    const std::lock_guard<std::mutex> guard(model_->lock);
    auto& held = model_->compiled;
    const auto found = std::find_if(held.begin(), held.end(), [&](const auto& e) { return e.first == shapes; });
    if (found != held.end()) {
      held.splice(held.end(), held, found);
    } else {
      try {
        const std::shared_ptr<ov::Model> fixed = model_->model->clone();
        std::map<std::string, ov::PartialShape> reshape;
        for (std::size_t i = 0; i < spec_.inputs.size(); ++i) {
          reshape.emplace(spec_.inputs[i].name, ov::PartialShape(ov::Shape(shapes[i].begin(), shapes[i].end())));
        }
        fixed->reshape(reshape);
        auto made = std::make_shared<ov::CompiledModel>(model_->core.compile_model(fixed, "CPU", model_->config));
        const ov::element::Type got = made->get_property(ov::hint::inference_precision);
        if (got != ov::element::f32) {
          fail_backend(spec_.name + ": OpenVINO was asked to compute in f32 but compiled for " +
                       got.get_type_name() + "; the runtime does not run one precision under the name of another");
        }
        held.emplace_back(shapes, std::move(made));
        ++model_->compiles;
      } catch (const Error&) {
        throw;
      } catch (const std::exception& e) {
        const std::string version = ov::get_openvino_version().buildNumber;
        fail_backend(spec_.name + " (" + spec_.precision + " file, feed " + format_feed(shapes) + "): OpenVINO " +
                     version.substr(0, version.find('-')) + " cannot compile it for the CPU (" + reason_of(e) +
                     "); run it with --backend onnxruntime-cpu");
      }
      while (held.size() > kOpenVinoMaxShapes) held.pop_front();
    }
    compiled = held.back().second;
  }

  try {
    // A request per call: requests are not thread-safe, and a call's outputs are its own.
    ov::InferRequest request = compiled->create_infer_request();
    static std::byte empty_placeholder{};  // OpenVINO wants a pointer even for zero elements
    for (std::size_t i = 0; i < spec_.inputs.size(); ++i) {
      const Tensor& tensor = inputs.find(spec_.inputs[i].name)->second;
      // OpenVINO reads inputs and never writes them; the tensor wraps the caller's bytes.
      void* data = tensor.bytes().empty() ? &empty_placeholder : const_cast<std::byte*>(tensor.bytes().data());
      request.set_tensor(spec_.inputs[i].name,
                         ov::Tensor(ov_type(tensor.dtype()), ov::Shape(shapes[i].begin(), shapes[i].end()), data));
    }
    request.infer();
    TensorMap result;
    for (const TensorSpec& t : spec_.outputs) {
      const ov::Tensor value = request.get_tensor(t.name);
      const auto dtype = from_ov_type(value.get_element_type());
      if (!dtype) {
        throw Error(FS_INFERENCE_ERROR, spec_.name + ": output '" + t.name + "' has OpenVINO element type " +
                                            value.get_element_type().get_type_name() +
                                            ", which the runtime does not handle (re-export)");
      }
      const ov::Shape dims = value.get_shape();
      Tensor out(*dtype, Shape(dims.begin(), dims.end()));
      if (!out.bytes().empty()) std::memcpy(out.bytes().data(), value.data(), out.bytes().size());
      result.emplace(t.name, std::move(out));
    }
    return result;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(FS_INFERENCE_ERROR, spec_.name + ": OpenVINO failed to run on openvino-cpu: " + reason_of(e));
  }
}

}  // namespace frozenseg
