// Bad input through the C ABI: every call returns the right status and message, nothing throws,
// and the C++ wrapper turns the same failures into exceptions. Calls that need exported artifacts
// read them from FS_TEST_ARTIFACTS (the Python suite's tiny export) and skip without it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "frozenseg/frozenseg.h"
#include "frozenseg/frozenseg.hpp"

namespace fs = std::filesystem;

namespace {

bool says(const std::string& fragment) {
  return std::string(fs_last_error()).find(fragment) != std::string::npos;
}

const char* artifacts() { return std::getenv("FS_TEST_ARTIFACTS"); }

fs_segmenter_t open_tiny(int encoder_schedule = FS_ENCODERS_AUTO) {
  fs_segmenter_options o = fs_segmenter_options_default();
  o.backend = "onnxruntime-cpu";
  o.cache_dir = "";
  o.threads = 1;
  o.encoder_schedule = encoder_schedule;
  fs_segmenter_t seg = nullptr;
  EXPECT_EQ(fs_segmenter_create(artifacts(), &o, &seg), FS_OK) << fs_last_error();
  return seg;
}

// The semantic labels of one image through the C ABI (empty when fs_segment fails).
std::vector<int32_t> semantic_labels(fs_segmenter_t seg, const fs_image& image) {
  fs_result_t result = nullptr;
  std::vector<int32_t> labels;
  if (fs_segment(seg, &image, FS_TASK_SEMANTIC, &result) != FS_OK) return labels;
  const int32_t* data = fs_result_semantic_labels(result);
  labels.assign(data, data + static_cast<std::size_t>(image.height) * image.width);
  fs_result_release(result);
  return labels;
}

}  // namespace

TEST(CApi, VersionMatchesTheHeader) {
  const std::string expected = std::to_string(FROZENSEG_VERSION_MAJOR) + "." +
                               std::to_string(FROZENSEG_VERSION_MINOR) + "." +
                               std::to_string(FROZENSEG_VERSION_PATCH);
  EXPECT_EQ(std::string(fs_version()), expected);
}

TEST(CApi, NullPointersAreInvalidArguments) {
  fs_segmenter_t seg = nullptr;
  EXPECT_EQ(fs_segmenter_create(nullptr, nullptr, &seg), FS_INVALID_ARGUMENT);
  EXPECT_TRUE(says("must not be NULL"));
  EXPECT_EQ(fs_segmenter_create("x", nullptr, nullptr), FS_INVALID_ARGUMENT);
  EXPECT_EQ(fs_segmenter_set_vocabulary_text(nullptr, "cat"), FS_INVALID_ARGUMENT);
  fs_result_t result = nullptr;
  EXPECT_EQ(fs_segment(nullptr, nullptr, FS_TASK_SEMANTIC, &result), FS_INVALID_ARGUMENT);
  EXPECT_EQ(fs_segment_file(nullptr, "a.png", FS_TASK_SEMANTIC, &result), FS_INVALID_ARGUMENT);
  int32_t h = 0, w = 0;
  EXPECT_EQ(fs_result_size(nullptr, &h, &w), FS_INVALID_ARGUMENT);
  EXPECT_EQ(fs_result_semantic_labels(nullptr), nullptr);
  EXPECT_EQ(fs_segmenter_num_classes(nullptr), 0u);
  EXPECT_EQ(fs_result_num_timings(nullptr), 0u);
  const char* stage = nullptr;
  double seconds = 0.0;
  EXPECT_EQ(fs_result_timing(nullptr, 0, &stage, &seconds), FS_INVALID_ARGUMENT);
  EXPECT_TRUE(says("must not be NULL"));
  fs_segmenter_destroy(nullptr);  // allowed
  fs_result_release(nullptr);
}

TEST(CApi, UnknownEncoderScheduleIsAnInvalidArgument) {
  fs_segmenter_options o = fs_segmenter_options_default();
  EXPECT_EQ(o.encoder_schedule, FS_ENCODERS_AUTO);
  o.encoder_schedule = 7;
  fs_segmenter_t seg = nullptr;
  EXPECT_EQ(fs_segmenter_create("/nonexistent/artifacts", &o, &seg), FS_INVALID_ARGUMENT);
  EXPECT_TRUE(says("encoder_schedule must be"));
}

TEST(CApi, MissingArtifactsAreArtifactErrors) {
  fs_segmenter_t seg = nullptr;
  EXPECT_EQ(fs_segmenter_create("/nonexistent/artifacts", nullptr, &seg), FS_ARTIFACT_ERROR);
  EXPECT_TRUE(says("export artifacts first"));
  EXPECT_EQ(seg, nullptr);
}

TEST(CApi, WrongManifestSchemaIsAnArtifactError) {
  const fs::path dir = fs::temp_directory_path() / "fs_capi_schema";
  fs::create_directories(dir);
  std::ofstream(dir / "manifest.json") << R"({"schema_version": 7})";
  fs_segmenter_t seg = nullptr;
  EXPECT_EQ(fs_segmenter_create(dir.c_str(), nullptr, &seg), FS_ARTIFACT_ERROR);
  EXPECT_TRUE(says("schema_version 7 is not supported"));
  std::ofstream(dir / "manifest.json") << "{not json";
  EXPECT_EQ(fs_segmenter_create(dir.c_str(), nullptr, &seg), FS_ARTIFACT_ERROR);
  EXPECT_TRUE(says("cannot read"));
  fs::remove_all(dir);
}

TEST(CApi, UnknownBackendIsABackendError) {
  if (!artifacts()) GTEST_SKIP() << "set FS_TEST_ARTIFACTS to an exported tiny artifacts folder";
  fs_segmenter_options o = fs_segmenter_options_default();
  o.backend = "openvino";
  fs_segmenter_t seg = nullptr;
  EXPECT_EQ(fs_segmenter_create(artifacts(), &o, &seg), FS_BACKEND_ERROR);
  EXPECT_TRUE(says("openvino"));
}

TEST(CApi, BadVocabulariesAndImagesAreInputErrors) {
  if (!artifacts()) GTEST_SKIP() << "set FS_TEST_ARTIFACTS to an exported tiny artifacts folder";
  fs_segmenter_t seg = open_tiny();
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(fs_segmenter_set_vocabulary_text(seg, ""), FS_INVALID_INPUT);
  EXPECT_EQ(fs_segmenter_set_vocabulary_text(seg, "cat,cat"), FS_INVALID_INPUT);
  EXPECT_TRUE(says("duplicate"));
  EXPECT_EQ(fs_segmenter_set_vocabulary(seg, nullptr, 0), FS_INVALID_INPUT);
  EXPECT_EQ(fs_segmenter_num_classes(seg), 0u);  // nothing was set

  fs_result_t result = nullptr;
  const uint8_t pixel[3] = {1, 2, 3};
  fs_image image{pixel, 1, 1, 3, FS_PIXEL_RGB};
  EXPECT_EQ(fs_segment(seg, &image, FS_TASK_SEMANTIC, &result), FS_INVALID_ARGUMENT);
  EXPECT_TRUE(says("set_vocabulary"));

  const char* names[] = {"person", "people"};
  const char* sky[] = {"sky"};
  const fs_class classes[] = {{names, 2, 1}, {sky, 1, 0}};
  ASSERT_EQ(fs_segmenter_set_vocabulary(seg, classes, 2), FS_OK) << fs_last_error();
  EXPECT_EQ(fs_segmenter_num_classes(seg), 2u);

  fs_image zero{pixel, 0, 5, 15, FS_PIXEL_RGB};
  EXPECT_EQ(fs_segment(seg, &zero, FS_TASK_SEMANTIC, &result), FS_INVALID_ARGUMENT);
  fs_image null_data{nullptr, 4, 4, 12, FS_PIXEL_RGB};
  EXPECT_EQ(fs_segment(seg, &null_data, FS_TASK_SEMANTIC, &result), FS_INVALID_ARGUMENT);
  fs_image unknown_format{pixel, 1, 1, 3, static_cast<fs_pixel_format>(42)};
  EXPECT_EQ(fs_segment(seg, &unknown_format, FS_TASK_SEMANTIC, &result), FS_INVALID_ARGUMENT);
  EXPECT_TRUE(says("unknown pixel format 42"));
  fs_image huge{pixel, 100000, 100000, 300000, FS_PIXEL_RGB};
  EXPECT_EQ(fs_segment(seg, &huge, FS_TASK_SEMANTIC, &result), FS_INVALID_INPUT);
  EXPECT_TRUE(says("at most"));
  EXPECT_EQ(fs_segment(seg, &image, static_cast<fs_task>(9), &result), FS_INVALID_ARGUMENT);
  EXPECT_EQ(fs_segment_file(seg, "/nonexistent.png", FS_TASK_SEMANTIC, &result), FS_INVALID_INPUT);
  EXPECT_EQ(result, nullptr);

  std::vector<uint8_t> gray(64 * 48, 128);
  fs_image ok{gray.data(), 48, 64, 64, FS_PIXEL_GRAY};
  ASSERT_EQ(fs_segment(seg, &ok, FS_TASK_PANOPTIC, &result), FS_OK) << fs_last_error();
  int32_t h = 0, w = 0;
  ASSERT_EQ(fs_result_size(result, &h, &w), FS_OK);
  EXPECT_EQ(h, 48);
  EXPECT_EQ(w, 64);
  EXPECT_EQ(fs_result_semantic_labels(result), nullptr);  // another task's view
  EXPECT_NE(fs_result_panoptic(result, nullptr, nullptr), nullptr);
  EXPECT_STREQ(fs_result_class_name(result, 1), "sky");
  EXPECT_EQ(fs_result_class_name(result, 2), nullptr);
  fs_result_release(result);
  fs_segmenter_destroy(seg);
}

// fs_segment_resized: the manifest's own rule gives fs_segment's answer; "none" (0, 0) and other
// rules segment at the image's size; a rule that is no rule is refused with a message.
TEST(CApi, SegmentResizedTakesItsOwnRule) {
  if (!artifacts()) GTEST_SKIP() << "set FS_TEST_ARTIFACTS to an exported tiny artifacts folder";
  fs_segmenter_t seg = open_tiny();
  ASSERT_NE(seg, nullptr);
  ASSERT_EQ(fs_segmenter_set_vocabulary_text(seg, "sky,tree,grass,person"), FS_OK) << fs_last_error();
  std::vector<uint8_t> rgb(48 * 64 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 7) % 251);
  const fs_image image{rgb.data(), 48, 64, 64 * 3, FS_PIXEL_RGB};
  const auto labels = [&](fs_result_t result) {
    const int32_t* data = fs_result_semantic_labels(result);
    return std::vector<int32_t>(data, data + 48 * 64);
  };
  fs_result_t plain = nullptr, same = nullptr;
  ASSERT_EQ(fs_segment(seg, &image, FS_TASK_SEMANTIC, &plain), FS_OK) << fs_last_error();
  std::ifstream manifest(std::filesystem::path(artifacts()) / "manifest.json");
  const auto rule = nlohmann::json::parse(manifest)["constants"]["preprocessing"];
  const int short_edge = rule["resize_short"], max_size = rule["resize_max"];
  ASSERT_EQ(fs_segment_resized(seg, &image, FS_TASK_SEMANTIC, short_edge, max_size, &same), FS_OK)
      << fs_last_error();
  EXPECT_EQ(labels(plain), labels(same));  // the manifest's own rule, written out
  fs_result_release(plain);
  fs_result_release(same);
  for (const auto& [short_edge, max_size] : {std::pair{0, 0}, std::pair{32, 64}}) {
    fs_result_t result = nullptr;
    ASSERT_EQ(fs_segment_resized(seg, &image, FS_TASK_SEMANTIC, short_edge, max_size, &result), FS_OK)
        << fs_last_error();
    int32_t h = 0, w = 0;
    ASSERT_EQ(fs_result_size(result, &h, &w), FS_OK);
    EXPECT_EQ(h, 48);
    EXPECT_EQ(w, 64);
    fs_result_release(result);
  }
  for (const auto& [short_edge, max_size] : {std::pair{0, 5}, std::pair{-1, 4}, std::pair{10, 5}}) {
    fs_result_t result = reinterpret_cast<fs_result_t>(&rgb);
    EXPECT_EQ(fs_segment_resized(seg, &image, FS_TASK_SEMANTIC, short_edge, max_size, &result), FS_INVALID_ARGUMENT);
    EXPECT_TRUE(says("resize needs 0 < short_edge <= max_size (or both 0: no resize), got " +
                     std::to_string(short_edge) + "," + std::to_string(max_size)))
        << fs_last_error();
    EXPECT_EQ(result, nullptr);
  }
  fs_segmenter_destroy(seg);
}

// Per-stage seconds as the Python runtime's SegmentationResult.timings: the same keys in the order
// its dict holds them (encoders as they are recorded: the calling thread's SAM first when the two
// run at once), each finite and >= 0, and bad arguments refused with a message.
TEST(CApi, ResultTimingsNameEveryStageInPythonsOrder) {
  if (!artifacts()) GTEST_SKIP() << "set FS_TEST_ARTIFACTS to an exported tiny artifacts folder";
  std::vector<uint8_t> gray(64 * 48, 128);
  const fs_image image{gray.data(), 48, 64, 64, FS_PIXEL_GRAY};
  const std::pair<int, std::vector<std::string>> schedules[] = {
      {FS_ENCODERS_SEQUENTIAL, {"preprocess", "clip_image", "sam_image", "decoder", "graphs", "postprocess"}},
      {FS_ENCODERS_CONCURRENT, {"preprocess", "sam_image", "clip_image", "decoder", "graphs", "postprocess"}}};
  for (const auto& [schedule, expected] : schedules) {
    SCOPED_TRACE("encoder_schedule " + std::to_string(schedule));
    fs_segmenter_t seg = open_tiny(schedule);
    ASSERT_NE(seg, nullptr);
    ASSERT_EQ(fs_segmenter_set_vocabulary_text(seg, "sky,tree,grass,person"), FS_OK) << fs_last_error();
    fs_result_t result = nullptr;
    ASSERT_EQ(fs_segment(seg, &image, FS_TASK_SEMANTIC, &result), FS_OK) << fs_last_error();
    ASSERT_EQ(fs_result_num_timings(result), expected.size());
    std::vector<std::string> names;
    std::vector<double> seconds;
    for (size_t i = 0; i < fs_result_num_timings(result); ++i) {
      const char* stage = nullptr;
      double s = -1.0;
      ASSERT_EQ(fs_result_timing(result, i, &stage, &s), FS_OK) << fs_last_error();
      EXPECT_STREQ(fs_last_error(), "");
      ASSERT_NE(stage, nullptr);
      names.emplace_back(stage);
      seconds.push_back(s);
      EXPECT_TRUE(std::isfinite(s) && s >= 0.0) << stage << ": " << s;
    }
    EXPECT_EQ(names, expected);
    EXPECT_GE(seconds[4], seconds[3]);  // graphs spans the decoder

    const char* stage = "untouched";
    double s = -1.0;
    EXPECT_EQ(fs_result_timing(result, expected.size(), &stage, &s), FS_INVALID_ARGUMENT);
    EXPECT_TRUE(says("timing index must be below fs_result_num_timings (6), got 6")) << fs_last_error();
    EXPECT_STREQ(stage, "untouched");
    EXPECT_EQ(s, -1.0);
    EXPECT_EQ(fs_result_timing(result, static_cast<size_t>(-1), &stage, &s), FS_INVALID_ARGUMENT);
    EXPECT_EQ(fs_result_timing(result, 0, nullptr, &s), FS_INVALID_ARGUMENT);
    EXPECT_TRUE(says("must not be NULL"));
    EXPECT_EQ(fs_result_timing(result, 0, &stage, nullptr), FS_INVALID_ARGUMENT);
    EXPECT_TRUE(says("must not be NULL"));
    fs_result_release(result);
    fs_segmenter_destroy(seg);
  }

  // The wrapper copies the same list.
  frozenseg::Segmenter wrapped(artifacts(), [] {
    fs_segmenter_options o = fs_segmenter_options_default();
    o.backend = "onnxruntime-cpu";
    o.cache_dir = "";
    o.threads = 1;
    o.encoder_schedule = FS_ENCODERS_SEQUENTIAL;
    return o;
  }());
  wrapped.set_vocabulary("sky,tree,grass,person");
  frozenseg::Result result = wrapped.segment(image, FS_TASK_SEMANTIC);
  const auto timings = result.timings();
  std::vector<std::string> names;
  for (const auto& [stage, seconds] : timings) {
    names.push_back(stage);
    EXPECT_TRUE(std::isfinite(seconds) && seconds >= 0.0) << stage << ": " << seconds;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"preprocess", "clip_image", "sam_image", "decoder", "graphs",
                                             "postprocess"}));
  const frozenseg::Result moved = std::move(result);
  EXPECT_EQ(moved.timings().size(), 6u);
  EXPECT_TRUE(result.timings().empty());  // NOLINT(bugprone-use-after-move): a moved-from Result is empty
}

TEST(CApi, CorruptGraphIsAnArtifactError) {
  if (!artifacts()) GTEST_SKIP() << "set FS_TEST_ARTIFACTS to an exported tiny artifacts folder";
  const fs::path copy = fs::temp_directory_path() / "fs_capi_corrupt";
  fs::remove_all(copy);
  fs::copy(artifacts(), copy, fs::copy_options::recursive);
  std::ofstream(copy / "sam_image.onnx", std::ios::binary | std::ios::trunc) << "garbage";
  fs_segmenter_t seg = nullptr;
  EXPECT_EQ(fs_segmenter_create(copy.c_str(), nullptr, &seg), FS_ARTIFACT_ERROR);
  EXPECT_TRUE(says("does not match the sha256"));
  fs_segmenter_options o = fs_segmenter_options_default();
  o.verify = 0;  // skipped check: the engine still refuses the file
  o.backend = "onnxruntime-cpu";
  EXPECT_EQ(fs_segmenter_create(copy.c_str(), &o, &seg), FS_ARTIFACT_ERROR) << fs_last_error();
  fs::remove(copy / "decoder.onnx");
  EXPECT_EQ(fs_segmenter_create(copy.c_str(), nullptr, &seg), FS_ARTIFACT_ERROR);
  EXPECT_TRUE(says("decoder.onnx is missing"));
  fs::remove_all(copy);
}

TEST(CppWrapper, FailuresBecomeExceptionsWithTheStatus) {
  try {
    frozenseg::Segmenter seg("/nonexistent/artifacts");
    FAIL();
  } catch (const frozenseg::ApiError& e) {
    EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
    EXPECT_NE(std::string(e.what()).find("export artifacts first"), std::string::npos);
  }
}

// One segmenter shared by threads (the documented contract): segments from several threads while
// another replaces the vocabulary give the answer of a lone call, and the C++ wrapper's spans see
// the same labels. Under the sanitizer build this also runs with ASan/UBSan watching.
TEST(CApi, OneSegmenterServesManyThreads) {
  if (!artifacts()) GTEST_SKIP() << "set FS_TEST_ARTIFACTS to an exported tiny artifacts folder";
  fs_segmenter_t seg = open_tiny();
  ASSERT_NE(seg, nullptr);
  ASSERT_EQ(fs_segmenter_set_vocabulary_text(seg, "sky,tree,grass,person"), FS_OK) << fs_last_error();
  const int height = 48, width = 64;
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(height) * width * 3);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * 37) % 251);
  const fs_image image{pixels.data(), height, width, width * 3, FS_PIXEL_RGB};
  auto labels_of = [&](fs_segmenter_t s) { return semantic_labels(s, image); };
  const std::vector<int32_t> alone = labels_of(seg);
  ASSERT_EQ(alone.size(), static_cast<std::size_t>(height * width)) << fs_last_error();

  std::vector<std::vector<int32_t>> seen(3);
  std::vector<std::thread> threads;
  for (auto& out : seen) threads.emplace_back([&, target = &out] { *target = labels_of(seg); });
  threads.emplace_back([&] {  // the same classes again: the answer must not change
    for (int i = 0; i < 2; ++i) EXPECT_EQ(fs_segmenter_set_vocabulary_text(seg, "sky,tree,grass,person"), FS_OK);
  });
  for (auto& t : threads) t.join();
  for (const auto& labels : seen) EXPECT_EQ(labels, alone);
  fs_segmenter_destroy(seg);

  frozenseg::Segmenter wrapped(artifacts(), [] {
    fs_segmenter_options o = fs_segmenter_options_default();
    o.backend = "onnxruntime-cpu";
    o.cache_dir = "";
    return o;
  }());
  wrapped.set_vocabulary("sky,tree,grass,person");
  const frozenseg::Result result = wrapped.segment(image, FS_TASK_SEMANTIC);
  const auto spans = result.semantic_labels();
  EXPECT_EQ(std::vector<int32_t>(spans.begin(), spans.end()), alone);
}

// openvino-cpu through the C ABI (in the sanitizer build too): the backend this build reports,
// the answers of ONNX Runtime's on nearly every pixel (two float32 libraries: a label on a near tie
// may differ), a shape compiled once whichever of three threads asks first, and nothing leaked.
TEST(CApi, OpenVinoServesTheAnswersOfOnnxRuntime) {
  if (!artifacts()) GTEST_SKIP() << "set FS_TEST_ARTIFACTS to an exported tiny artifacts folder";
  if ((std::string(",") + fs_backends() + ",").find(",openvino-cpu,") == std::string::npos) {
    GTEST_SKIP() << "this library was built without OpenVINO (fs_backends: " << fs_backends() << ")";
  }
  fs_segmenter_options o = fs_segmenter_options_default();
  o.backend = "openvino-cpu";
  o.cache_dir = "";
  o.threads = 1;
  fs_segmenter_t openvino = nullptr;
  ASSERT_EQ(fs_segmenter_create(artifacts(), &o, &openvino), FS_OK) << fs_last_error();
  EXPECT_STREQ(fs_segmenter_backend(openvino), "openvino-cpu");
  fs_segmenter_t onnxruntime = open_tiny();
  ASSERT_NE(onnxruntime, nullptr);
  for (fs_segmenter_t seg : {openvino, onnxruntime}) {
    ASSERT_EQ(fs_segmenter_set_vocabulary_text(seg, "sky,tree,grass,person"), FS_OK) << fs_last_error();
  }
  const int height = 48, width = 64;
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(height) * width * 3);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * 37) % 251);
  const fs_image image{pixels.data(), height, width, width * 3, FS_PIXEL_RGB};
  auto labels_of = [&](fs_segmenter_t s) { return semantic_labels(s, image); };
  std::vector<std::vector<int32_t>> seen(3);
  std::vector<std::thread> threads;
  for (auto& out : seen) threads.emplace_back([&, target = &out] { *target = labels_of(openvino); });
  for (auto& t : threads) t.join();
  const std::vector<int32_t> reference = labels_of(onnxruntime);
  ASSERT_EQ(reference.size(), static_cast<std::size_t>(height * width)) << fs_last_error();
  for (const auto& labels : seen) {
    ASSERT_EQ(labels.size(), reference.size()) << fs_last_error();
    EXPECT_EQ(labels, seen[0]);  // one compiled model, one answer
    std::size_t same = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) same += labels[i] == reference[i];
    EXPECT_GE(static_cast<double>(same) / labels.size(), 0.99);
  }
  fs_segmenter_destroy(openvino);
  fs_segmenter_destroy(onnxruntime);
}
