# runner: one graph on one backend. ONNX Runtime always; native TensorRT when FROZENSEG_HAVE_TENSORRT;
# OpenVINO when FROZENSEG_HAVE_OPENVINO.
find_package(OnnxRuntime REQUIRED)
find_package(nlohmann_json REQUIRED)

frozenseg_area(runner JSON DEPS frozenseg_common)
# PRIVATE: ONNX Runtime's headers stay inside the runner area; static linking still passes the library on.
target_link_libraries(frozenseg_runner PRIVATE onnxruntime::onnxruntime nlohmann_json::nlohmann_json)

# TensorRT's artifacts (engine index, metadata sidecars, profiles) need no TensorRT: always built
# and tested, so a stale or foreign engine is refused with the same words on every build.
set(FS_TENSORRT_PORTABLE_SOURCES
    ${FS_ROOT}/src/runner/tensorrt/profiles.cpp
    ${FS_ROOT}/src/runner/tensorrt/engine_metadata.cpp
    ${FS_ROOT}/src/runner/tensorrt/engine_index.cpp)
# What runs an engine: CUDA and TensorRT's runtime API (scripts/compile_tensorrt_engine.sh
# compiles these against TensorRT's public headers where no TensorRT is installed).
set(FS_TENSORRT_RUNTIME_SOURCES
    ${FS_ROOT}/src/runner/tensorrt/cuda_runtime.cpp
    ${FS_ROOT}/src/runner/tensorrt/loader.cpp
    ${FS_ROOT}/src/runner/tensorrt/arena.cpp
    ${FS_ROOT}/src/runner/tensorrt/runner.cpp)
target_sources(frozenseg_runner PRIVATE ${FS_TENSORRT_PORTABLE_SOURCES})
if(FROZENSEG_HAVE_TENSORRT)
  target_sources(frozenseg_runner PRIVATE ${FS_TENSORRT_RUNTIME_SOURCES})
  target_link_libraries(frozenseg_runner PRIVATE TensorRT::nvinfer CUDA::cudart)
  target_compile_definitions(frozenseg_runner PUBLIC FROZENSEG_HAVE_TENSORRT=1)
endif()

if(FROZENSEG_HAVE_OPENVINO)
  target_sources(frozenseg_runner PRIVATE ${FS_ROOT}/src/runner/openvino/openvino_runner.cpp)
  # PRIVATE as ONNX Runtime: OpenVINO's headers stay inside the runner area.
  target_link_libraries(frozenseg_runner PRIVATE openvino::runtime)
  target_compile_definitions(frozenseg_runner PUBLIC FROZENSEG_HAVE_OPENVINO=1)
  frozenseg_test(test_runner_openvino LIBS frozenseg_runner)
endif()

frozenseg_test(test_runner_tensor LIBS frozenseg_runner)
frozenseg_test(test_runner_check_feed LIBS frozenseg_runner)
frozenseg_test(test_runner_onnxruntime LIBS frozenseg_runner)
frozenseg_test(test_runner_tensorrt_artifacts SANITIZED LIBS frozenseg_runner nlohmann_json::nlohmann_json)
