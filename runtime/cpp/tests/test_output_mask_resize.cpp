// output/mask_resize: taps as runtime/image/ops.py computes them, masks_to_output bit for bit as
// the Python runtime's (fixtures from make_postprocess_cases.py), rows in any order.
#include <bit>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "output/mask_resize.hpp"
#include "output/postprocess.hpp"
#include "output_fixtures.hpp"

namespace out = frozenseg::output;

TEST(OutputAxisTaps, MatchOpsSourceTaps) {
  struct Tap { int in, out, dst, i0, i1; float lam1; };
  // ops._source_taps(in, out) at dst, from Python.
  const Tap taps[] = {{16, 64, 0, 0, 1, 0.0f},          {16, 64, 2, 0, 1, 0x1p-3f},
                      {16, 64, 33, 7, 8, 0x1.cp-1f},     {16, 64, 63, 15, 15, 0x1.8p-2f},
                      {60, 40, 0, 0, 1, 0x1p-2f},        {60, 40, 17, 25, 26, 0x1.8p-1f},
                      {1000, 333, 0, 1, 2, 0x1.89ap-10f}, {1000, 333, 100, 301, 302, 0x1.351p-2f},
                      {1000, 333, 332, 997, 998, 0x1.ff4p-1f}, {89, 57, 5, 8, 9, 0x1.674cp-4f},
                      {89, 57, 56, 87, 88, 0x1.7048p-1f}};
  for (const Tap& t : taps) {
    const out::AxisTaps a(t.in, t.out);
    EXPECT_FALSE(a.identity);
    EXPECT_EQ(a.i0[t.dst], t.i0) << t.in << "->" << t.out << " @" << t.dst;
    EXPECT_EQ(a.i1[t.dst], t.i1) << t.in << "->" << t.out << " @" << t.dst;
    EXPECT_EQ(a.lam1[t.dst], t.lam1) << t.in << "->" << t.out << " @" << t.dst;
    EXPECT_EQ(a.lam0[t.dst], 1.0f - t.lam1);
  }
  EXPECT_TRUE(out::AxisTaps(7, 7).identity);
}

TEST(OutputMasksToOutput, BitForBitAsPython) {
  for (const auto& c : fs_test::cases()) {
    const fs_test::CaseInputs in = fs_test::load_case(c);
    const out::FloatBuffer got = out::masks_to_output(in.masks_view(), in.geometry);
    const out::Size2 o = in.geometry.output;
    ASSERT_EQ(got.size(), static_cast<std::size_t>(in.queries) * o.height * o.width);
    if (c.at("name") != "large") {
      const std::vector<float> mask0 = fs_test::read_npy_f32(c.at("name").get<std::string>() + "_mask0.npy");
      ASSERT_EQ(mask0.size(), static_cast<std::size_t>(o.height) * o.width);
      for (std::size_t i = 0; i < mask0.size(); ++i)
        ASSERT_EQ(std::bit_cast<std::uint32_t>(got[i]), std::bit_cast<std::uint32_t>(mask0[i]))
            << c.at("name") << " pixel " << i << ": " << got[i] << " vs " << mask0[i];
    }
    EXPECT_EQ(fs_test::sha256_of(got), c.at("masks_to_output_sha256")) << c.at("name");
  }
}

TEST(OutputMasksToOutput, SameWithAnyThreadCount) {
  const fs_test::CaseInputs in = fs_test::load_case(fs_test::find_case("resized"));
  const auto one = out::masks_to_output(in.masks_view(), in.geometry, {.threads = 1});
  const auto five = out::masks_to_output(in.masks_view(), in.geometry, {.threads = 5});
  EXPECT_EQ(one, five);
}

TEST(OutputMaskRowStream, RowsInAnyOrderEqualTheSweep) {
  const fs_test::CaseInputs in = fs_test::load_case(fs_test::find_case("resized"));
  const out::MaskResizePlan plan(in.mask_size, in.geometry);
  out::MaskRowStream sweep(plan), jumpy(plan);
  const std::size_t per_mask = static_cast<std::size_t>(in.mask_size.height) * in.mask_size.width;
  const int h = plan.output_size().height, w = plan.output_size().width;
  for (int q = 0; q < 3; ++q) {
    std::vector<float> all(static_cast<std::size_t>(h) * w);
    sweep.reset(in.masks.data() + q * per_mask);
    sweep.write_all(all.data());
    jumpy.reset(in.masks.data() + q * per_mask);
    for (int y : {h - 1, 0, 17, 3, 3, 29, 28, 1, h - 2}) {
      const float* row = jumpy.row(y);
      for (int x = 0; x < w; ++x)
        ASSERT_EQ(row[x], all[static_cast<std::size_t>(y) * w + x]) << "q" << q << " y" << y;
    }
  }
}

TEST(OutputMaskRowStream, IdentityGeometryCopiesTheMask) {
  const std::vector<float> mask = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 7.0f};
  const out::MaskResizePlan plan({2, 3}, out::MaskGeometry::identity({2, 3}));
  out::MaskRowStream s(plan);
  s.reset(mask.data());
  std::vector<float> got(6);
  s.write_all(got.data());
  EXPECT_EQ(got, mask);
}

TEST(OutputMaskResizePlan, ImageLargerThanPaddedIsCroppedToWhatExists) {
  // numpy slicing x[:, :img_h, :img_w] stops at the padded size; so does the plan.
  const out::MaskResizePlan plan({4, 4}, {{8, 8}, {10, 6}, {5, 5}});
  EXPECT_EQ(plan.crop_size(), (out::Size2{8, 6}));
}

TEST(OutputMaskResizePlan, RejectsEmptySizes) {
  try {
    out::MaskResizePlan({0, 4}, out::MaskGeometry::identity({4, 4}));
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("positive mask size, got 0x4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(out::MaskResizePlan({4, 4}, {{4, 4}, {4, 4}, {0, 3}}), frozenseg::Error);
}
