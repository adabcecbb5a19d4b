// tensorrt::read_index: ARTIFACTS/engines/index.json, written from the input, and each entry
// found again through find_engine.
#include "fuzz_support.hpp"
#include "runner/tensorrt/engine_index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace trt = frozenseg::tensorrt;
  const auto artifacts = frozenseg::fuzz::scratch_dir() / "artifacts";
  frozenseg::fuzz::write_file(artifacts / trt::kEnginesDir / trt::kIndexName, data, size);
  return frozenseg::fuzz::run([&] {
    for (const auto& entry : trt::read_index(artifacts / trt::kEnginesDir)) {
      const auto& [graph, precision] = entry.first;
      frozenseg::fuzz::run([&, &graph = graph, &precision = precision] {
        (void)trt::find_engine(artifacts, graph, precision);
      });
    }
  });
}
