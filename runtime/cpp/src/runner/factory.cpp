#include "runner/factory.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "runner/onnxruntime_runner.hpp"
#ifdef FROZENSEG_HAVE_TENSORRT
#include "runner/tensorrt/runner.hpp"
#endif
#ifdef FROZENSEG_HAVE_OPENVINO
#include "runner/openvino/openvino_runner.hpp"
#endif

namespace frozenseg {
namespace {

std::string backend_list() {
  std::string out;
  for (const auto name : kBackends) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

bool provider_available(const std::vector<std::string>& available, std::string_view backend) {
  const std::vector<std::string> providers = onnxruntime_providers(backend);
  if (providers.empty()) return false;  // not an ONNX Runtime backend
  const std::string& first = providers.front();
  return std::find(available.begin(), available.end(), first) != available.end();
}

}  // namespace

bool built_with_tensorrt() noexcept {
#ifdef FROZENSEG_HAVE_TENSORRT
  return true;
#else
  return false;
#endif
}

bool built_with_openvino() noexcept {
#ifdef FROZENSEG_HAVE_OPENVINO
  return true;
#else
  return false;
#endif
}

std::vector<std::string_view> built_backends() {
  std::vector<std::string_view> names;
  for (const std::string_view name : kBackends) {
    if ((name == "tensorrt" && !built_with_tensorrt()) || (name == "openvino-cpu" && !built_with_openvino())) continue;
    names.push_back(name);
  }
  return names;
}

const BackendChoice& unrecorded_backend_choice() {
  static const BackendChoice choice{{"onnxruntime-trt", "onnxruntime-cuda", "openvino-cpu", "onnxruntime-cpu"},
                                    {"openvino-cpu"}};
  return choice;
}

std::string resolve_backend(std::string_view name, bool fp32_files, const BackendChoice& choice) {
  if (std::find(kBackends.begin(), kBackends.end(), name) == kBackends.end()) {
    fail_backend("unknown backend '" + std::string(name) + "'; choose one of " + backend_list());
  }
  if (name == "tensorrt") {
    if (!built_with_tensorrt()) {
      fail_backend(
          "the native TensorRT backend cannot run here: this FrozenSeg library was not built with "
          "TensorRT (configure with -DFROZENSEG_WITH_TENSORRT=ON on a machine with TensorRT and the "
          "CUDA toolkit). It also needs engines built on this machine with `frozenseg-deploy build`; "
          "use onnxruntime-trt or onnxruntime-cpu otherwise");
    }
    return std::string(name);
  }
  if (name == "openvino-cpu") {
    if (!built_with_openvino()) {
      fail_backend(
          "backend openvino-cpu cannot run here: this FrozenSeg library was not built with OpenVINO "
          "(configure with -DFROZENSEG_WITH_OPENVINO=ON after scripts/fetch_openvino_sdk.sh); use "
          "onnxruntime-cpu");
    }
    return std::string(name);
  }
  if (name == "auto") {
    const std::vector<std::string> available = onnxruntime_available_providers();
    const auto& fp32_only = choice.fp32_files_only;
    std::string tried;
    for (const std::string& candidate : choice.auto_order) {
      if (!fp32_files && std::find(fp32_only.begin(), fp32_only.end(), candidate) != fp32_only.end()) continue;
      tried += (tried.empty() ? "" : ", ") + candidate;
      // tensorrt never: it needs engines built on this machine (the manifest's record cannot name it).
      const bool usable = candidate == "openvino-cpu" ? built_with_openvino()
                          : candidate != "tensorrt" && candidate != "auto" && provider_available(available, candidate);
      if (usable) return candidate;
    }
    fail_backend("no backend of the manifest's auto order (" + tried + ") can run here");
  }
  require_onnxruntime_backend(name);
  return std::string(name);
}

std::unique_ptr<Runner> make_runner(const std::filesystem::path& graph, const GraphSpec& spec,
                                    std::string_view backend, const RunnerOptions& options) {
  if (!onnxruntime_providers(backend).empty()) {
    return std::make_unique<OnnxRuntimeRunner>(graph, spec, std::string(backend), options);
  }
  if (backend == "openvino-cpu") {
#ifdef FROZENSEG_HAVE_OPENVINO
    return std::make_unique<OpenVinoRunner>(graph, spec, options);
#else
    resolve_backend(backend);  // throws the "not built with OpenVINO" error
#endif
  }
  if (backend == "tensorrt") {
#ifdef FROZENSEG_HAVE_TENSORRT
    return std::make_unique<tensorrt::TensorRTRunner>(graph, spec, options);
#else
    resolve_backend(backend);  // throws the "not built with TensorRT" error
#endif
  }
  fail_backend("backend '" + std::string(backend) + "' has no runner here" +
               (backend == "auto" ? std::string(" (resolve it first with resolve_backend)") : std::string()));
}

}  // namespace frozenseg
