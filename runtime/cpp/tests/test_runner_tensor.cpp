// Tensor: dtype names as the manifest spells them, sizes, typed access, float16 conversion.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "runner/graph_spec.hpp"
#include "runner/tensor.hpp"

using frozenseg::DType;
using frozenseg::Float16;
using frozenseg::Tensor;

TEST(DTypeNames, RoundTripTheManifestSpelling) {
  for (const auto name : {"float32", "float16", "int64", "int32", "bool"}) {
    const auto dtype = frozenseg::dtype_from_name(name);
    ASSERT_TRUE(dtype.has_value()) << name;
    EXPECT_EQ(frozenseg::dtype_name(*dtype), name);
  }
  EXPECT_FALSE(frozenseg::dtype_from_name("float64").has_value());
  EXPECT_FALSE(frozenseg::dtype_from_name("boolean").has_value());
  EXPECT_EQ(frozenseg::dtype_size(DType::float16), 2u);
  EXPECT_EQ(frozenseg::dtype_size(DType::int64), 8u);
  EXPECT_EQ(frozenseg::dtype_size(DType::boolean), 1u);
}

TEST(TensorStorage, ZeroFilledWithRowMajorSize) {
  const Tensor t(DType::int64, {2, 3, 4});
  EXPECT_EQ(t.rank(), 3u);
  EXPECT_EQ(t.size(), 24u);
  EXPECT_EQ(t.bytes().size(), 24u * 8u);
  for (const auto v : t.data<std::int64_t>()) EXPECT_EQ(v, 0);
  const Tensor empty(DType::float32, {0, 5});
  EXPECT_EQ(empty.size(), 0u);
  const Tensor scalar(DType::float32, {});
  EXPECT_EQ(scalar.size(), 1u);
}

TEST(TensorStorage, FromValuesAndTypedAccess) {
  Tensor t = Tensor::from_values<float>({2, 2}, {1.f, 2.f, 3.f, 4.f});
  EXPECT_EQ(t.data<float>()[3], 4.f);
  t.data<float>()[0] = -1.f;
  EXPECT_EQ(std::as_const(t).data<float>()[0], -1.f);
  const Tensor flags = Tensor::from_values<bool>({3}, {true, false, true});
  EXPECT_EQ(flags.bytes()[0], std::byte{1});
  EXPECT_EQ(flags.bytes()[1], std::byte{0});
}

TEST(TensorStorage, MismatchesAreArgumentErrors) {
  Tensor t(DType::int32, {2});
  try {
    (void)t.data<float>();
    FAIL() << "expected frozenseg::Error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "tensor is int32, read as float32");
  }
  EXPECT_THROW((Tensor::from_values<float>({2, 2}, {1.f, 2.f})), frozenseg::Error);
  EXPECT_THROW(Tensor(DType::float32, {2}, std::vector<std::byte>(7)), frozenseg::Error);
  EXPECT_THROW(Tensor(DType::float32, {-1, 3}), frozenseg::Error);
  EXPECT_THROW(Tensor(DType::float32, {1LL << 40, 1LL << 40}), frozenseg::Error);
}

TEST(Float16, ExactValuesAndRoundingLikeNumpy) {
  // Bit patterns from numpy: np.array([...], np.float32).astype(np.float16).view(np.uint16).
  EXPECT_EQ(frozenseg::float16_from_float(1.0f).bits, 0x3c00);
  EXPECT_EQ(frozenseg::float16_from_float(-2.0f).bits, 0xc000);
  EXPECT_EQ(frozenseg::float16_from_float(0.1f).bits, 0x2e66);
  EXPECT_EQ(frozenseg::float16_from_float(65504.0f).bits, 0x7bff);
  EXPECT_EQ(frozenseg::float16_from_float(65520.0f).bits, 0x7c00);         // rounds to inf
  EXPECT_EQ(frozenseg::float16_from_float(5.9604645e-08f).bits, 0x0001);  // smallest subnormal
  EXPECT_EQ(frozenseg::float16_from_float(2.9802322e-08f).bits, 0x0000);  // exactly half: to even
  EXPECT_EQ(frozenseg::float16_from_float(1.0009765625f).bits, 0x3c01);
  EXPECT_EQ(frozenseg::float16_from_float(1.00048828125f).bits, 0x3c00);  // tie -> even
  EXPECT_EQ(frozenseg::float16_from_float(1.00146484375f).bits, 0x3c02);  // tie -> even (up)
  EXPECT_EQ(frozenseg::float16_from_float(-0.0f).bits, 0x8000);
  EXPECT_EQ(frozenseg::float16_from_float(std::numeric_limits<float>::infinity()).bits, 0x7c00);
  EXPECT_TRUE(std::isnan(frozenseg::float_from_float16(
      frozenseg::float16_from_float(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(Float16, EveryHalfRoundTrips) {
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
    const Float16 h{static_cast<std::uint16_t>(bits)};
    const float f = frozenseg::float_from_float16(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(frozenseg::float16_from_float(f).bits, h.bits) << std::hex << bits;
  }
  EXPECT_EQ(frozenseg::float_from_float16({0x0001}), 5.9604645e-08f);
  EXPECT_EQ(frozenseg::float_from_float16({0x3555}), 0.33325195f);
}

TEST(Shapes, FormattedAsPythonLists) {
  EXPECT_EQ(frozenseg::format_shape({1, 3, 224}), "[1, 3, 224]");
  EXPECT_EQ(frozenseg::format_shape({}), "[]");
  EXPECT_EQ(frozenseg::format_declared_shape({std::int64_t{1}, std::string("height"), std::int64_t{3}}),
            "[1, 'height', 3]");
}
