// tensorrt::read_engine_metadata: an engine's JSON sidecar, written from the input, then checked
// against a running machine (check_engine_compatible: version strings, memory sizes, profiles)
// as the loader does before deserializing an engine.
#include "fuzz_support.hpp"
#include "runner/tensorrt/engine_metadata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace trt = frozenseg::tensorrt;
  const auto path = frozenseg::fuzz::scratch_dir() / "engine.json";
  frozenseg::fuzz::write_file(path, data, size);
  return frozenseg::fuzz::run([&] {
    const trt::EngineMetadata meta = trt::read_engine_metadata(path);
    trt::EngineTarget target;
    target.tensorrt_version = "10.3.0.26";
    target.gpu_name = "NVIDIA H100 80GB HBM3";
    target.compute_capability = "9.0";
    target.onnx_sha256 = std::string(64, '0');
    target.sm_count = 132;
    target.gpu_memory_bytes = 85'000'000'000;
    (void)trt::tensorrt_version_problem(meta.tensorrt_version);
    trt::check_engine_compatible(meta, target, frozenseg::fuzz::scratch_dir());
  });
}
