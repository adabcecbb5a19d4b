// The TensorRT backend's artifacts, without TensorRT: engines found through index.json, sidecars
// read and checked, refusals and rebuild commands in the Python runtime's words, and profile
// ranges and feed-shape checks like profiles.py. Expected values: tests/data/tensorrt/cases.json,
// written by make_tensorrt_cases.py with the Python runtime's own functions and files.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "runner/tensorrt/engine_index.hpp"
#include "runner/tensorrt/engine_metadata.hpp"
#include "runner/tensorrt/profiles.hpp"
#include "runner/tensorrt/schedule.hpp"

namespace fs = std::filesystem;
namespace trt = frozenseg::tensorrt;
using frozenseg::Error;
using nlohmann::json;

namespace {

const fs::path kCases = fs::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data/tensorrt";

const json& cases() {
  static const json data = [] {
    std::ifstream in(kCases / "cases.json");
    return json::parse(in);
  }();
  return data;
}

std::string substitute(std::string text, const std::string& artifacts) {
  for (auto at = text.find("{ARTIFACTS}"); at != std::string::npos; at = text.find("{ARTIFACTS}", at))
    text.replace(at, 11, artifacts);
  return text;
}

frozenseg::GraphSpec clip_text_spec(const std::string& precision) {
  frozenseg::GraphSpec spec;
  spec.name = "clip_text";
  spec.file = "clip_text.onnx";
  spec.sha256 = cases()["onnx_sha256"].get<std::string>();
  spec.precision = precision;
  return spec;
}

// Python's error class -> the status the C ABI reports (every one is an ArtifactError).
fs_status status_of(const std::string& python_error) {
  if (python_error == "ProfileShapeError") return FS_INVALID_INPUT;
  return FS_ARTIFACT_ERROR;
}

}  // namespace

TEST(TensorRTArtifacts, LocateMatchesPythonOnEveryRecordedCase) {
  ASSERT_GE(cases()["locate"].size(), 16u);
  for (const json& c : cases()["locate"]) {
    const fs::path artifacts = kCases / c["case"].get<std::string>();
    const auto spec = clip_text_spec(c["precision"].get<std::string>());
    SCOPED_TRACE(c["case"].get<std::string>() + " at " + spec.precision);
    if (c.contains("value")) {
      const trt::EngineRecord record = trt::locate_engine(spec, artifacts);
      const json& want = c["value"];
      EXPECT_EQ(record.path, artifacts / "engines" / want["engine"].get<std::string>());
      EXPECT_EQ(record.metadata.graph, want["graph"]);
      EXPECT_EQ(record.metadata.precision, want["precision"]);
      EXPECT_EQ(record.metadata.tensorrt_version, want["tensorrt_version"]);
      EXPECT_EQ(record.rebuild_command(), substitute(want["rebuild"], artifacts.string()));
      EXPECT_EQ(record.metadata.profiles.at("tokens").max, (frozenseg::Shape{256, 77}));
      continue;
    }
    const std::string message = substitute(c["message"], artifacts.string());
    try {
      trt::locate_engine(spec, artifacts);
      ADD_FAILURE() << "expected: " << message;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), status_of(c["error"]));
      if (c["case"] == "bad_index") {  // the JSON parser's own words differ between languages
        const std::string head = message.substr(0, message.find(".json: ") + 7);
        const std::string tail = "; delete it and run frozenseg-deploy build --force";
        EXPECT_TRUE(std::string(e.what()).starts_with(head)) << e.what();
        EXPECT_TRUE(std::string(e.what()).ends_with(tail)) << e.what();
      } else {
        EXPECT_EQ(e.what(), message);
      }
    }
  }
}

TEST(TensorRTArtifacts, CompatibilityRefusalsListEveryDifferenceLikePython) {
  const trt::EngineRecord record = trt::locate_engine(clip_text_spec("fp32"), kCases / "recorded");
  const fs::path artifacts = "/data/my artifacts";
  for (const json& c : cases()["compatibility"]) {
    SCOPED_TRACE(c["target"].dump());
    trt::EngineTarget target;
    for (const auto& [key, value] : c["target"].items()) {
      if (key == "tensorrt_version") target.tensorrt_version = value.get<std::string>();
      if (key == "gpu_name") target.gpu_name = value.get<std::string>();
      if (key == "compute_capability") target.compute_capability = value.get<std::string>();
      if (key == "onnx_sha256") target.onnx_sha256 = value.get<std::string>();
      if (key == "sm_count") target.sm_count = value.get<std::int64_t>();
      if (key == "gpu_memory_bytes") target.gpu_memory_bytes = value.get<std::int64_t>();
    }
    if (c.contains("value")) {
      EXPECT_NO_THROW(trt::check_engine_compatible(record.metadata, target, artifacts));
      continue;
    }
    try {
      trt::check_engine_compatible(record.metadata, target, artifacts);
      ADD_FAILURE() << "no refusal";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
      EXPECT_EQ(e.what(), substitute(c["message"], artifacts.string()));
    }
  }
}

TEST(TensorRTArtifacts, SidecarRecordsTheModuleAndTheRecipe) {
  const trt::EngineRecord record = trt::locate_engine(clip_text_spec("fp32"), kCases / "recorded");
  EXPECT_EQ(record.metadata.sm_count, 132);
  EXPECT_EQ(record.metadata.build_recipe, trt::kBuildRecipe);
  EXPECT_FALSE(record.metadata.tf32);
  const auto old = trt::read_engine_metadata(kCases / "recipe_one" / "engines" / "clip_text.fp32.engine.json");
  EXPECT_EQ(old.build_recipe, 1);
  EXPECT_TRUE(old.tf32);  // recipe 1 left TensorRT's default on
  EXPECT_EQ(old.sm_count, 0);
}

// Found by CI's fuzz (regressions/engine_metadata/integer_as_huge_float): a number where an integer
// belongs, beyond the integer's range, was cast (undefined behaviour); now every integer field takes
// JSON integers in range only, and anything else is the sidecar's "malformed" error.
TEST(TensorRTArtifacts, IntegersOutOfRangeOrNotIntegersAreMalformed) {
  const fs::path source = kCases / "recipe_one" / "engines" / "clip_text.fp32.engine.json";
  const json good = json::parse(std::ifstream(source));
  const fs::path dir = fs::temp_directory_path() / ("fs_metadata_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::pair<const char*, json> bad[] = {{"workspace_bytes", json::parse("18446744073709551616")},
                                              {"workspace_bytes", 1.5},
                                              {"sm_count", json::parse("9223372036854775808")},
                                              {"engine_bytes", "12"}};
  for (const auto& [key, value] : bad) {
    json data = good;
    data[key] = value;
    std::ofstream(dir / "clip_text.fp32.engine.json") << data.dump();
    try {
      trt::read_engine_metadata(dir / "clip_text.fp32.engine.json");
      ADD_FAILURE() << key << " = " << value.dump() << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
      EXPECT_NE(std::string(e.what()).find("is malformed"), std::string::npos) << e.what();
    }
  }
  json ranged = good;
  ranged["profiles"].begin().value()["max"][0] = json::parse("1e19");
  std::ofstream(dir / "clip_text.fp32.engine.json") << ranged.dump();
  EXPECT_THROW(trt::read_engine_metadata(dir / "clip_text.fp32.engine.json"), Error);
  fs::remove_all(dir);
}

TEST(TensorRTArtifacts, MemoryToleranceSeparatesModulesNotCarveOuts) {
  EXPECT_TRUE(trt::memory_matches(std::int64_t{16} << 30, std::int64_t{15} << 30));
  EXPECT_FALSE(trt::memory_matches(std::int64_t{16} << 30, std::int64_t{8} << 30));
  EXPECT_TRUE(trt::memory_matches(0, std::int64_t{8} << 30));
}

TEST(TensorRTArtifacts, TensorRTBelow10_1IsRefusedLikePython) {
  ASSERT_GE(cases()["version_problems"].size(), 6u);
  for (const json& c : cases()["version_problems"]) {
    SCOPED_TRACE(c["version"].get<std::string>());
    const std::string want = c["problem"].is_null() ? "" : c["problem"].get<std::string>();
    EXPECT_EQ(trt::tensorrt_version_problem(c["version"]), want);
  }
}

TEST(TensorRTArtifacts, VersionMatchesOnTheComponentsTheSidecarGives) {
  EXPECT_TRUE(trt::tensorrt_version_matches("10.3.0.26", "10.3.0.26"));
  EXPECT_TRUE(trt::tensorrt_version_matches("10.3.0", "10.3.0.26"));  // a pip wheel's __version__
  EXPECT_FALSE(trt::tensorrt_version_matches("10.3.0.26", "10.3.0.30"));
  EXPECT_FALSE(trt::tensorrt_version_matches("10.3.0", "10.3.1.2"));
  EXPECT_FALSE(trt::tensorrt_version_matches("10.3", "10.3.0.26"));  // too vague to trust
  EXPECT_FALSE(trt::tensorrt_version_matches("10.30.0", "10.3.0.0"));
  EXPECT_FALSE(trt::tensorrt_version_matches("", "10.3.0.26"));
}

TEST(TensorRTArtifacts, RebuildCommandIsShlexJoin) {
  for (const json& c : cases()["rebuild_commands"]) {
    const auto graphs = c["graphs"].is_null() ? std::vector<std::string>{} : c["graphs"].get<std::vector<std::string>>();
    EXPECT_EQ(trt::rebuild_command(c["artifacts"].get<std::string>(), c["precision"], graphs, c["force"]),
              c["command"].get<std::string>());
  }
}

TEST(TensorRTArtifacts, DimRangesRoundToTheirMultipleLikePython) {
  for (const json& c : cases()["profiles"]["dim_ranges"]) {
    SCOPED_TRACE(c["entry"].dump());
    frozenseg::DimRange entry{c["entry"]["min"], c["entry"]["opt"], c["entry"]["max"], std::nullopt};
    if (c["entry"].contains("multiple")) entry.multiple = c["entry"]["multiple"].get<std::int64_t>();
    const std::map<std::string, frozenseg::DimRange, std::less<>> dims = {{"side", entry}};
    if (c.contains("value")) {
      const auto r = trt::dim_range("side", dims);
      EXPECT_EQ((std::vector<std::int64_t>{r.min, r.opt, r.max, r.multiple.value()}),
                c["value"].get<std::vector<std::int64_t>>());
      continue;
    }
    try {
      trt::dim_range("side", dims);
      ADD_FAILURE() << "no refusal";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
      EXPECT_EQ(e.what(), c["message"].get<std::string>());
    }
  }
  EXPECT_THROW(trt::dim_range("absent", {}), Error);
}

TEST(TensorRTArtifacts, FeedShapesAreCheckedAgainstTheProfileLikePython) {
  frozenseg::GraphSpec spec;
  spec.name = "image";
  spec.inputs = {{"image", frozenseg::DType::float32, {std::int64_t{1}, std::int64_t{3}, std::string("h"), std::string("w")}}};
  spec.dims = {{"h", {64, 512, 1024, 32}}, {"w", {64, 512, 1024, 32}}};
  const trt::ShapeRange range = trt::profile_from_spec(spec).at("image");
  const json& want = cases()["profiles"]["image_range"];
  EXPECT_EQ(range.min, want["min"].get<frozenseg::Shape>());
  EXPECT_EQ(range.opt, want["opt"].get<frozenseg::Shape>());
  EXPECT_EQ(range.max, want["max"].get<frozenseg::Shape>());
  EXPECT_EQ(range.multiple, want["multiple"].get<frozenseg::Shape>());
  for (const json& c : cases()["profiles"]["checks"]) {
    const auto shape = c["shape"].get<frozenseg::Shape>();
    SCOPED_TRACE(frozenseg::format_shape(shape));
    if (c.contains("value")) {
      EXPECT_NO_THROW(trt::check_shape("image", shape, range));
      continue;
    }
    try {
      trt::check_shape("image", shape, range);
      ADD_FAILURE() << "no refusal";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), FS_INVALID_INPUT);
      EXPECT_EQ(e.what(), c["message"].get<std::string>());
    }
  }
}

TEST(TensorRTArtifacts, ArtifactsRootStripsTheManifestsRelativePath) {
  auto spec = clip_text_spec("fp32");
  EXPECT_EQ(trt::artifacts_root("/a/b/clip_text.onnx", spec), fs::path("/a/b"));
  spec.file = "int8/clip_text.onnx";
  EXPECT_EQ(trt::artifacts_root("/a/b/int8/clip_text.onnx", spec), fs::path("/a/b"));
}

// -- the engine's GPU-free decisions (schedule.hpp), as tests/runtime/test_trt_schedule.py --------
namespace {

trt::ShapeKey image_key(std::int64_t height) { return {{"image", frozenseg::Shape{1, 3, height, 320}}}; }

}  // namespace

TEST(ContextSchedule, AGraphReplaysOnlyOnTheContextSetToItsShapes) {
  trt::ContextSchedule schedule(true);
  const trt::Stamp stamp{0, 0};
  auto first = schedule.choose(image_key(320));
  EXPECT_TRUE(first.new_context && first.set_shapes);
  EXPECT_EQ(schedule.action(first.slot, stamp), trt::Action::kCapture);
  schedule.captured(first.slot, stamp);
  auto other = schedule.choose(image_key(384));
  EXPECT_EQ(other.slot, 1u);
  EXPECT_TRUE(other.new_context && other.set_shapes);
  schedule.captured(other.slot, stamp);
  auto again = schedule.choose(image_key(320));
  EXPECT_EQ(again.slot, 0u);
  EXPECT_FALSE(again.new_context || again.set_shapes || again.drop_graph);
  EXPECT_EQ(schedule.action(0, stamp), trt::Action::kReplay);
  EXPECT_EQ(schedule.action(0, {1, 0}), trt::Action::kCapture);  // the arena grew
  EXPECT_EQ(schedule.action(0, {0, 1}), trt::Action::kCapture);  // an I/O buffer moved
}

TEST(ContextSchedule, LeastRecentlyUsedIsReSetAndItsGraphDropped) {
  trt::ContextSchedule schedule(true, 2);
  for (std::int64_t h : {320, 384}) schedule.captured(schedule.choose(image_key(h)).slot, {0, 0});
  schedule.choose(image_key(320));
  const auto choice = schedule.choose(image_key(640));
  EXPECT_EQ(choice.slot, 1u);
  EXPECT_TRUE(!choice.new_context && choice.set_shapes && choice.drop_graph);
  EXPECT_EQ(schedule.contexts(), 2u);
  EXPECT_EQ(schedule.key_of(1), image_key(640));
}

TEST(ContextSchedule, FailedCaptureTurnsGraphsOffAndNamesTheGraphsToFree) {
  trt::ContextSchedule schedule(true);
  schedule.captured(schedule.choose(image_key(320)).slot, {0, 0});
  schedule.choose(image_key(384));
  EXPECT_EQ(schedule.capture_failed(), (std::vector<std::size_t>{0}));
  EXPECT_EQ(schedule.action(0, {0, 0}), trt::Action::kEnqueue);
  const auto choice = schedule.choose(image_key(640));
  EXPECT_TRUE(!choice.new_context && choice.set_shapes && !choice.drop_graph);
  EXPECT_EQ(schedule.contexts(), 2u);
}

TEST(ContextSchedule, WithoutGraphsOneContextServesEveryShape) {
  trt::ContextSchedule schedule(false);
  EXPECT_TRUE(schedule.choose(image_key(320)).new_context);
  for (std::int64_t h : {384, 640, 320}) {
    const auto choice = schedule.choose(image_key(h));
    EXPECT_EQ(choice.slot, 0u);
    EXPECT_TRUE(!choice.new_context && choice.set_shapes);
  }
  EXPECT_FALSE(schedule.choose(image_key(320)).set_shapes);
}

TEST(ContextSchedule, ACallThatFailedPartWayIsNeverReplayed) {
  trt::ContextSchedule schedule(true);
  schedule.captured(schedule.choose(image_key(320)).slot, {0, 0});
  schedule.choose(image_key(384));
  EXPECT_FALSE(schedule.abandon(1, true));
  EXPECT_EQ(schedule.contexts(), 1u);
  EXPECT_TRUE(schedule.abandon(0, false));
  const auto choice = schedule.choose(image_key(320));
  EXPECT_TRUE(choice.set_shapes && !choice.drop_graph);
  EXPECT_EQ(schedule.action(choice.slot, {0, 0}), trt::Action::kCapture);
}

TEST(ContextSchedule, BuffersGrowForWhatIsUsedNotTheProfileMax) {
  const std::size_t limit = std::size_t{2048} * 128 * 768 * 4;  // decoder text_embeddings: 768 MiB
  EXPECT_EQ(limit, std::size_t{768} << 20);
  const std::size_t small = std::size_t{10} * 2 * 768 * 4;
  EXPECT_EQ(trt::next_capacity(small, 0, limit), small);
  EXPECT_EQ(trt::next_capacity(small / 2, small, limit), small);
  EXPECT_EQ(trt::next_capacity(small + 4, small, limit), small + small / 2);
  EXPECT_EQ(trt::next_capacity(limit * 3 / 4 + 4, limit * 3 / 4, limit), limit);
  EXPECT_EQ(trt::next_capacity(limit + 8, limit, limit), limit + 8);
}
