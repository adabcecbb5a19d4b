// Post-processing at the full preset's sizes (convnext_large_vit_b: 250 queries; 150 classes;
// mask logits 128x128 at stride 4 of a 512x512 padded input; output 512x512), each task from the
// decoder's raw outputs (the masks' resize included, as the Segmenter runs it). Inputs are
// make_postprocess_cases.py's hashed_inputs at that size; bench_postprocess.py times numpy's
// versions on the same inputs and runs this binary for the ratio.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "../tests/output_fixtures.hpp"
#include "output/postprocess.hpp"

namespace out = frozenseg::output;

namespace {

constexpr int kQueries = 250, kClasses = 150, kMask = 128, kImage = 512;

const fs_test::CaseInputs& inputs() {
  static const fs_test::CaseInputs in = [] {
    fs_test::CaseInputs c;
    c.queries = kQueries;
    c.columns = kClasses + 1;
    c.mask_size = {kMask, kMask};
    c.geometry = {{kImage, kImage}, {kImage, kImage}, {kImage, kImage}};
    for (int i = 0; i < kClasses; ++i) c.isthing.push_back(i < 3 || (i >= 6 && i % 2 == 0));
    fs_test::hashed_inputs(c);
    return c;
  }();
  return in;
}

out::PostprocessOptions threads(const benchmark::State& state) {
  return {.threads = static_cast<int>(state.range(0))};
}

void BM_MasksToOutput(benchmark::State& state) {
  const auto& in = inputs();
  for (auto _ : state)
    benchmark::DoNotOptimize(out::masks_to_output(in.masks_view(), in.geometry, threads(state)));
}

void BM_Semantic(benchmark::State& state) {
  const auto& in = inputs();
  for (auto _ : state)
    benchmark::DoNotOptimize(out::semantic_inference(in.probs_view(), in.masks_view(), in.geometry,
                                                     1e-8, threads(state)));
}

void BM_SemanticLabelsOnly(benchmark::State& state) {
  const auto& in = inputs();
  for (auto _ : state)
    benchmark::DoNotOptimize(out::semantic_inference(in.probs_view(), in.masks_view(), in.geometry,
                                                     1e-8, threads(state), false));
}

void BM_Panoptic(benchmark::State& state) {
  const auto& in = inputs();
  for (auto _ : state)
    benchmark::DoNotOptimize(out::panoptic_inference(in.probs_view(), in.masks_view(), in.geometry,
                                                     in.isthing, 0.0, 0.8, 1e-8, threads(state)));
}

void BM_Instance(benchmark::State& state) {
  const auto& in = inputs();
  for (auto _ : state)
    benchmark::DoNotOptimize(out::instance_inference(in.probs_view(), in.masks_view(), in.geometry,
                                                     in.isthing, 100, true, 1e-8, 1e-6,
                                                     threads(state)));
}

}  // namespace

BENCHMARK(BM_MasksToOutput)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_Semantic)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_SemanticLabelsOnly)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_Panoptic)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_Instance)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

BENCHMARK_MAIN();
