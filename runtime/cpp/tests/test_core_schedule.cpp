// The image-encoder plan: runtime/schedule.py's rule, applied to the names and numbers of the
// manifest's runtime.encoder_schedule (the tiny export's, then a changed one).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "common/file.hpp"
#include "core/manifest.hpp"
#include "core/schedule.hpp"

namespace fs = std::filesystem;
using frozenseg::EncoderScheduleRule;
using frozenseg::core::plan_encoders;

namespace {

EncoderScheduleRule tiny_rule() {
  const auto data = nlohmann::json::parse(
      frozenseg::read_file_text(fs::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data/manifest_tiny.json"));
  return frozenseg::validate_manifest(data, ".").facts.encoder_schedule;
}

}  // namespace

TEST(EncoderSchedule, AutoRunsOneAfterTheOtherOnlyOnASmallCpu) {
  const auto rule = tiny_rule();
  for (int cores : {1, 2, 7}) {
    const auto plan = plan_encoders(rule, "auto", "onnxruntime-cpu", std::nullopt, cores);
    EXPECT_EQ(plan.schedule, "sequential") << cores;
    EXPECT_FALSE(plan.image_threads.has_value());
  }
  for (int cores : {8, 64}) {  // many cores: at once, each encoder with half of them
    const auto plan = plan_encoders(rule, "auto", "onnxruntime-cpu", std::nullopt, cores);
    EXPECT_EQ(plan.schedule, "concurrent");
    EXPECT_EQ(plan.image_threads, cores / 2);
  }
  for (const char* gpu : {"onnxruntime-cuda", "tensorrt"}) {
    const auto plan = plan_encoders(rule, "auto", gpu, std::nullopt, 1);
    EXPECT_EQ(plan.schedule, "concurrent");
    EXPECT_FALSE(plan.image_threads.has_value());
  }
}

TEST(EncoderSchedule, ExplicitSchedulesAndThreadsAreKept) {
  const auto rule = tiny_rule();
  auto plan = plan_encoders(rule, "concurrent", "onnxruntime-cpu", std::nullopt, 1);
  EXPECT_EQ(plan.schedule, "concurrent");
  EXPECT_EQ(plan.image_threads, 1);  // half of one core, at least one
  plan = plan_encoders(rule, "concurrent", "onnxruntime-cpu", 3, 64);
  EXPECT_EQ(plan.image_threads, 3);
  plan = plan_encoders(rule, "sequential", "tensorrt", 3, 64);
  EXPECT_EQ(plan.schedule, "sequential");
  EXPECT_EQ(plan.image_threads, 3);
  EXPECT_GE(frozenseg::core::usable_cores(), 1);
}

TEST(EncoderSchedule, UnknownScheduleIsRefusedWithTheRulesNames) {
  try {
    plan_encoders(tiny_rule(), "parallel", "onnxruntime-cpu", std::nullopt, 2);
    FAIL();
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_STREQ(e.what(), "encoder schedule 'parallel' is not one of auto, concurrent, sequential");
  }
}

TEST(EncoderSchedule, TheNumbersAreTheManifests) {
  auto rule = tiny_rule();
  rule.many_cores = 4;
  EXPECT_EQ(plan_encoders(rule, "auto", "onnxruntime-cpu", std::nullopt, 4).schedule, "concurrent");
  rule.cpu_backends = {"onnxruntime-other"};
  EXPECT_EQ(plan_encoders(rule, "auto", "onnxruntime-cpu", std::nullopt, 1).schedule, "concurrent");
}

TEST(EncoderSchedule, OpenVinoSharesTheCpuAsOnnxRuntimeDoes) {
  // The manifest's cpu_backends (runtime/schedule.py CPU_BACKENDS) name openvino-cpu too.
  const auto rule = tiny_rule();
  ASSERT_NE(std::find(rule.cpu_backends.begin(), rule.cpu_backends.end(), "openvino-cpu"), rule.cpu_backends.end());
  EXPECT_EQ(plan_encoders(rule, "auto", "openvino-cpu", std::nullopt, 2).schedule, "sequential");
  const auto plan = plan_encoders(rule, "concurrent", "openvino-cpu", std::nullopt, 8);
  EXPECT_EQ(plan.image_threads, 4);
}
