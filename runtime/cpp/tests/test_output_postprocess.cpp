// output/postprocess against the Python runtime (fixtures of make_postprocess_cases.py): class
// scores, panoptic maps and segments, instances bit for bit; semantic scores within 1e-5 and
// labels equal (outside the pixels the fixture lists as ties within float32 rounding).
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "output/numpy_math.hpp"
#include "output/postprocess.hpp"
#include "output/result.hpp"
#include "output_fixtures.hpp"

namespace out = frozenseg::output;
using fs_test::CaseInputs;

namespace {

std::string name_of(const nlohmann::json& c) { return c.at("name").get<std::string>(); }

// The fixtures come from numpy on x86 (its own SIMD exp/log). Where numpy would call libm
// instead (aarch64), its floats differ in the last bits, and bit-identity with the fixtures cannot
// hold: there a score is judged on the float32 floor of exp(log ...) instead. A score is
// exp(a) with a = a sum of logs; one rounding of a (|a| = |ln score|) moves exp(a) by
// |ln score| * 2^-24 relatively, and exp and log themselves by an ulp or so each, so the two
// answers may differ by 2 * 2^-23 * (1 + |ln score|) relatively: 8 ulps at a score of 0.007
// (seen under qemu-aarch64: up to 6 ulps; classes, masks and panoptic maps stay bit-identical).
bool floats_bit_exact() { return frozenseg::output::npmath::uses_numpy_simd_algorithm(); }

void expect_float(float got, float want, const std::string& where) {
  if (floats_bit_exact()) {
    EXPECT_EQ(got, want) << where;
  } else {
    const double bound = 2.0 * std::ldexp(1.0, -23) * (1.0 + std::abs(std::log(std::abs(double(want)) + 1e-300))) *
                         std::abs(double(want));
    EXPECT_NEAR(got, want, bound) << where << " (libm's exp/log against numpy's x86 SIMD ones)";
  }
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& c : fs_test::cases()) names.push_back(name_of(c));
  return names;
}

class OutputPerCase : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { in = fs_test::load_case(c()); }
  const nlohmann::json& c() const { return fs_test::find_case(GetParam()); }
  CaseInputs in;
};

}  // namespace

TEST_P(OutputPerCase, OfficialClassScoresBitForBit) {
  const std::vector<float> got = out::official_class_scores(in.probs_view(), c().at("log_eps"));
  if (floats_bit_exact()) {
    EXPECT_EQ(fs_test::sha256_of(got), c().at("class_scores_sha256"));
  }
  if (c().contains("class_scores")) {
    const auto& want = c().at("class_scores");
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      expect_float(got[i], want[i].get<float>(), "score " + std::to_string(i));
  }
}

TEST_P(OutputPerCase, SemanticScoresAndLabels) {
  const out::SemanticOutput got =
      out::semantic_inference(in.probs_view(), in.masks_view(), in.geometry, c().at("log_eps"));
  const std::size_t plane = static_cast<std::size_t>(in.geometry.output.height) * in.geometry.output.width;
  ASSERT_EQ(got.classes, in.columns - 1);
  ASSERT_EQ(got.labels.size(), plane);
  ASSERT_EQ(got.scores.size(), plane * got.classes);
  if (c().contains("semantic_sample")) {
    const int step = c().at("semantic_sample_step");
    const auto& want = c().at("semantic_sample");
    for (std::size_t i = 0; i < want.size(); ++i) {
      const float w = want[i].get<float>();
      EXPECT_NEAR(got.scores[i * step], w, 1e-5 * std::max(1.0f, std::abs(w))) << "score " << i * step;
    }
  } else {
    const std::vector<float> want = fs_test::read_npy_f32(name_of(c()) + "_semantic.npy");
    ASSERT_EQ(want.size(), got.scores.size());
    float worst = 0.0f;
    for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got.scores[i] - want[i]));
    EXPECT_LE(worst, 1e-5f);
  }
  std::vector<std::int32_t> labels = got.labels;
  for (const auto& i : c().at("semantic_ambiguous")) labels[i.get<std::size_t>()] = -1;
  EXPECT_EQ(fs_test::sha256_of(labels), c().at("semantic_labels_sha256"));
  std::vector<long> counts(got.classes, 0);
  for (auto l : got.labels) ++counts[l];
  const auto want_counts = c().at("semantic_label_counts").get<std::vector<long>>();
  long moved = 0;
  for (int k = 0; k < got.classes; ++k) moved += std::abs(counts[k] - want_counts[k]);
  EXPECT_LE(moved, 2 * static_cast<long>(c().at("semantic_ambiguous").size()));
}

TEST_P(OutputPerCase, SemanticLabelsWithoutScoresAreTheSame) {
  const auto with = out::semantic_inference(in.probs_view(), in.masks_view(), in.geometry, 1e-8);
  const auto without = out::semantic_inference(in.probs_view(), in.masks_view(), in.geometry, 1e-8,
                                               {}, /*keep_scores=*/false);
  EXPECT_TRUE(without.scores.empty());
  EXPECT_EQ(with.labels, without.labels);
}

TEST_P(OutputPerCase, PanopticBitForBit) {
  for (const auto& p : c().at("panoptic")) {
    const out::PanopticOutput got = out::panoptic_inference(
        in.probs_view(), in.masks_view(), in.geometry, in.isthing, p.at("object_mask_threshold"),
        p.at("overlap_threshold"), c().at("log_eps"));
    const std::string where = name_of(c()) + " thresholds " + p.at("object_mask_threshold").dump() +
                              "/" + p.at("overlap_threshold").dump();
    EXPECT_EQ(fs_test::sha256_of(got.panoptic_seg), p.at("seg_sha256")) << where;
    const auto& want = p.at("segments");
    ASSERT_EQ(got.segments.size(), want.size()) << where;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got.segments[i].id, want[i].at("id")) << where;
      EXPECT_EQ(got.segments[i].category_id, want[i].at("category_id")) << where;
      EXPECT_EQ(got.segments[i].isthing, want[i].at("isthing")) << where;
      expect_float(got.segments[i].score, want[i].at("score").get<float>(), where);
    }
    std::vector<long> counts(want.size() + 1, 0);
    for (auto id : got.panoptic_seg) ++counts.at(id);
    EXPECT_EQ(counts, p.at("seg_counts").get<std::vector<long>>()) << where;
  }
}

TEST_P(OutputPerCase, InstancesBitForBit) {
  for (const auto& w : c().at("instance")) {
    const out::InstanceOutput got = out::instance_inference(
        in.probs_view(), in.masks_view(), in.geometry, in.isthing, w.at("topk"),
        w.at("things_only"), c().at("log_eps"), c().at("score_eps"));
    const auto want_scores = w.at("scores").get<std::vector<float>>();
    const auto want_classes = w.at("classes").get<std::vector<std::int64_t>>();
    ASSERT_EQ(got.scores.size(), want_scores.size()) << name_of(c());
    for (std::size_t i = 0; i < want_scores.size(); ++i)
      expect_float(got.scores[i], want_scores[i], name_of(c()) + " instance " + std::to_string(i));
    EXPECT_EQ(got.classes, want_classes) << name_of(c());
    EXPECT_EQ(fs_test::sha256_of(got.masks), w.at("masks_sha256")) << name_of(c());
  }
}

TEST_P(OutputPerCase, ResultsDoNotDependOnThreads) {
  const out::PostprocessOptions one{.threads = 1}, three{.threads = 3};
  const auto s1 = out::semantic_inference(in.probs_view(), in.masks_view(), in.geometry, 1e-8, one);
  const auto s3 = out::semantic_inference(in.probs_view(), in.masks_view(), in.geometry, 1e-8, three);
  EXPECT_EQ(s1.scores, s3.scores);
  EXPECT_EQ(s1.labels, s3.labels);
  const auto p1 = out::panoptic_inference(in.probs_view(), in.masks_view(), in.geometry, in.isthing, 0.0, 0.8, 1e-8, one);
  const auto p3 = out::panoptic_inference(in.probs_view(), in.masks_view(), in.geometry, in.isthing, 0.0, 0.8, 1e-8, three);
  EXPECT_EQ(p1.panoptic_seg, p3.panoptic_seg);
  EXPECT_EQ(p1.segments, p3.segments);
  const auto i1 = out::instance_inference(in.probs_view(), in.masks_view(), in.geometry, in.isthing, 100, true, 1e-8, 1e-6, one);
  const auto i3 = out::instance_inference(in.probs_view(), in.masks_view(), in.geometry, in.isthing, 100, true, 1e-8, 1e-6, three);
  EXPECT_EQ(i1.masks, i3.masks);
  EXPECT_EQ(i1.scores, i3.scores);
}

INSTANTIATE_TEST_SUITE_P(Python, OutputPerCase, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

TEST(OutputSegmentationResult, FillsTheTasksArrays) {
  const CaseInputs in = fs_test::load_case(fs_test::find_case("resized"));
  const out::DecoderOutputs raw{in.probs_view(), in.masks_view()};
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
  const auto k = fs_test::official_constants();
  const auto sem = out::segmentation_result(raw, in.geometry, names, in.isthing, out::Task::semantic, k);
  EXPECT_EQ(sem.semantic_labels.size(), 40u * 57u);
  EXPECT_EQ(sem.semantic_scores.size(), 6u * 40u * 57u);
  EXPECT_TRUE(sem.panoptic_seg.empty());
  EXPECT_EQ(sem.image_size, (out::Size2{40, 57}));
  const auto pan = out::segmentation_result(raw, in.geometry, names, in.isthing, out::Task::panoptic, k);
  EXPECT_EQ(pan.segments_info.size(), 5u);
  const auto ins = out::segmentation_result(raw, in.geometry, names, in.isthing, out::Task::instance, k);
  EXPECT_EQ(ins.instance_count(), 36u);
  EXPECT_EQ(ins.instance_masks.size(), 36u * 40u * 57u);
  EXPECT_EQ(ins.class_names, names);
}

TEST(OutputSegmentationResult, NoQueriesGiveEmptyResults) {
  const float nothing = 0.0f;
  const out::ClassProbsView probs{&nothing, 0, 4};
  const out::MaskLogitsView masks{&nothing, 0, {3, 5}};
  const auto geometry = out::MaskGeometry::identity({3, 5});
  const auto sem = out::semantic_inference(probs, masks, geometry, 1e-8);
  EXPECT_EQ(sem.labels, std::vector<std::int32_t>(15, 0));
  EXPECT_EQ(sem.scores, out::FloatBuffer(45, 0.0f));
  const auto pan = out::panoptic_inference(probs, masks, geometry, {true, false, true}, 0.0, 0.8, 1e-8);
  EXPECT_EQ(pan.panoptic_seg, std::vector<std::int32_t>(15, 0));
  EXPECT_TRUE(pan.segments.empty());
  EXPECT_EQ(out::instance_inference(probs, masks, geometry, {true, false, true}, 100, true, 1e-8, 1e-6).count(), 0u);
}

TEST(OutputPostprocess, MismatchedInputsAreRejectedWithPythonsMessage) {
  const std::vector<float> probs(3 * 4, 0.25f), masks(2 * 4 * 4, 0.0f);
  try {
    out::semantic_inference({probs.data(), 3, 4}, {masks.data(), 2, {4, 4}},
                            out::MaskGeometry::identity({4, 4}), 1e-8);
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "expected class_probs (Q, C+1) and masks (Q, H, W) with the same Q, "
                           "got (3, 4) and (2, 4, 4)");
  }
  try {
    out::panoptic_inference({probs.data(), 2, 4}, {masks.data(), 2, {4, 4}},
                            out::MaskGeometry::identity({4, 4}), {true, false}, 0.0, 0.8, 1e-8);
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_STREQ(e.what(), "expected 3 isthing flags, got 2");
  }
}

TEST(OutputPostprocess, TasksAndConstants) {
  EXPECT_EQ(out::parse_task("panoptic"), out::Task::panoptic);
  EXPECT_EQ(out::task_name(out::Task::instance), "instance");
  try {
    out::parse_task("depth");
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_STREQ(e.what(), "task must be one of ('semantic', 'panoptic', 'instance'), got 'depth'");
  }
  const auto k = out::InferenceConstants::from_record(nlohmann::json::parse(
      R"({"object_mask_threshold": 0.25, "overlap_threshold": 0.7, "instance_topk": 50,
          "log_eps": 1e-7, "instance_score_eps": 1e-5})"));
  EXPECT_EQ(k.object_mask_threshold, 0.25);
  EXPECT_EQ(k.overlap_threshold, 0.7);
  EXPECT_EQ(k.instance_topk, 50);
  EXPECT_EQ(k.log_eps, 1e-7);
  EXPECT_EQ(k.instance_score_eps, 1e-5);
  try {
    out::InferenceConstants::from_record(nlohmann::json::parse(R"({"log_eps": 1e-8})"));
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
    EXPECT_NE(std::string(e.what()).find("'object_mask_threshold'"), std::string::npos);
  }
}

TEST(OutputPostprocess, TopKOrderIsScoreThenIndex) {
  // Two queries with identical class scores: ties keep (query, class) order.
  const std::vector<float> probs = {0.5f, 0.3f, 0.2f, 0.5f, 0.3f, 0.2f};
  const std::vector<float> masks(2 * 2 * 2, 1.0f);
  const auto got = out::instance_inference({probs.data(), 2, 3}, {masks.data(), 2, {2, 2}},
                                           out::MaskGeometry::identity({2, 2}), {true, true}, 3,
                                           false, 1e-8, 1e-6);
  EXPECT_EQ(got.classes, (std::vector<std::int64_t>{0, 0, 1}));
  ASSERT_EQ(got.count(), 3u);
  EXPECT_EQ(got.scores[0], got.scores[1]);
  EXPECT_GT(got.scores[1], got.scores[2]);
}
