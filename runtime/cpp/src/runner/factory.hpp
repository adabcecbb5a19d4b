// Backend name -> runner (runtime/backends/factory.py): BACKENDS, resolve_backend, make_runner.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "runner/runner.hpp"

namespace frozenseg {

// The backend names, as the Python CLI's --backend choices.
inline constexpr std::array<std::string_view, 5> kBackends = {
    "auto", "onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt", "tensorrt"};

// Whether this library was built with the native TensorRT backend (FROZENSEG_HAVE_TENSORRT).
bool built_with_tensorrt() noexcept;

// "auto" -> the fastest usable backend (onnxruntime-trt, then onnxruntime-cuda, then
// onnxruntime-cpu; never tensorrt, which needs engines built on this machine); any other name is
// checked to be usable here. Throws frozenseg::Error(FS_BACKEND_ERROR) for an unknown name or a
// backend this build or this machine cannot run, naming what is missing.
std::string resolve_backend(std::string_view name);

// The runner of one graph on a resolved backend name (resolve_backend's result). options:
// threads and memory_arena apply to ONNX Runtime; cuda_graph, share_activations and device to
// tensorrt, whose engines are found in the graph's artifacts folder (engines/index.json).
std::unique_ptr<Runner> make_runner(const std::filesystem::path& graph, const GraphSpec& spec,
                                    std::string_view backend, const RunnerOptions& options = {});

}  // namespace frozenseg
