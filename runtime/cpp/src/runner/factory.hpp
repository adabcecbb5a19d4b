// Backend name -> runner (runtime/backends/factory.py): BACKENDS, resolve_backend, make_runner.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runner/runner.hpp"

namespace frozenseg {

// The backend names, as the Python CLI's --backend choices (BACKENDS, in its order).
inline constexpr std::array<std::string_view, 6> kBackends = {
    "auto", "onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt", "tensorrt", "openvino-cpu"};

// Whether this library was built with the native TensorRT backend (FROZENSEG_HAVE_TENSORRT).
bool built_with_tensorrt() noexcept;
// Whether this library was built with the OpenVINO backend (FROZENSEG_HAVE_OPENVINO).
bool built_with_openvino() noexcept;

// The names of kBackends this build has: "auto", ONNX Runtime's three (whether this machine has
// their execution providers is resolve_backend's answer), tensorrt and openvino-cpu when built in.
std::vector<std::string_view> built_backends();

// What "auto" picks, from the manifest's runtime.backend_choice (written from Python's AUTO_ORDER and
// FP32_FILES_ONLY in backends/factory.py): the first usable backend of auto_order, leaving out those of
// fp32_files_only when a graph is an FP16/INT8 file (quantize's files stay where they were calibrated).
struct BackendChoice {
  std::vector<std::string> auto_order;
  std::vector<std::string> fp32_files_only;
};

// The rule of a manifest written before it was recorded (stop 31): its exporter's order then, kept
// as that history, not as this library's opinion.
const BackendChoice& unrecorded_backend_choice();

// "auto" -> the first usable backend of choice.auto_order (ONNX Runtime's GPU backends need their
// execution providers, openvino-cpu a build with it; never tensorrt, which needs engines built on
// this machine). The default choice is the unrecorded one: pass the manifest's. Any other name is checked to be
// usable here. Throws frozenseg::Error(FS_BACKEND_ERROR) for an unknown name or a backend this build or
// this machine cannot run, naming what is missing.
std::string resolve_backend(std::string_view name, bool fp32_files = true,
                            const BackendChoice& choice = unrecorded_backend_choice());

// The runner of one graph on a resolved backend name (resolve_backend's result). options:
// threads and memory_arena apply to ONNX Runtime; threads and openvino_cache to openvino-cpu;
// cuda_graph, share_activations and device to tensorrt, whose engines are found in the graph's
// artifacts folder (engines/index.json).
std::unique_ptr<Runner> make_runner(const std::filesystem::path& graph, const GraphSpec& spec,
                                    std::string_view backend, const RunnerOptions& options = {});

}  // namespace frozenseg
