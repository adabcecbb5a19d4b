#include "runner/tensor.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <limits>

#include "common/error.hpp"

namespace frozenseg {

static_assert(sizeof(bool) == 1, "bool tensors are stored one byte per element, as numpy and ONNX");
static_assert(sizeof(Float16) == 2);

namespace {

constexpr std::array<std::string_view, 5> kNames = {"float32", "float16", "int64", "int32", "bool"};
constexpr std::array<std::size_t, 5> kSizes = {4, 2, 8, 4, 1};

}  // namespace

std::string_view dtype_name(DType dtype) noexcept { return kNames[static_cast<std::size_t>(dtype)]; }

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<DType>(i);
  }
  return std::nullopt;
}

std::size_t dtype_size(DType dtype) noexcept { return kSizes[static_cast<std::size_t>(dtype)]; }

Float16 float16_from_float(float value) noexcept {
  const std::uint32_t f = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (f >> 16) & 0x8000u;
  const std::uint32_t abs = f & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or nan (nan keeps a quiet payload bit)
    return {static_cast<std::uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u))};
  }
  if (abs >= 0x477ff000u) return {static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds to inf
  if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (abs < 0x33000000u) return {static_cast<std::uint16_t>(sign)};  // under half the smallest subnormal
    const std::uint32_t exponent = abs >> 23;
    const std::uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent;  // 14..24 bits dropped
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return {static_cast<std::uint16_t>(sign | half)};
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to even.
  std::uint32_t half = ((abs - 0x38000000u) >> 13);
  const std::uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // may carry into inf: correct
  return {static_cast<std::uint16_t>(sign | half)};
}

float float_from_float16(Float16 value) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(value.bits & 0x8000u) << 16;
  const std::uint32_t exponent = (value.bits >> 10) & 0x1fu;
  std::uint32_t mantissa = value.bits & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0) return std::bit_cast<float>(sign);
  int e = 113;  // subnormal: normalise
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --e;
  }
  return std::bit_cast<float>(sign | (static_cast<std::uint32_t>(e) << 23) | ((mantissa & 0x3ffu) << 13));
}

std::string format_shape(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::int64_t element_count(const Shape& shape) {
  std::int64_t count = 1;
  for (const std::int64_t d : shape) {
    if (d < 0) fail_argument("tensor shape " + format_shape(shape) + " has a negative dimension");
    if (d != 0 && count > std::numeric_limits<std::int64_t>::max() / d) {
      fail_argument("tensor shape " + format_shape(shape) + " has too many elements");
    }
    count *= d;
  }
  return count;
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  bytes_.resize(static_cast<std::size_t>(element_count(shape_)) * dtype_size(dtype_));
}

Tensor::Tensor(DType dtype, Shape shape, std::vector<std::byte> bytes)
    : dtype_(dtype), shape_(std::move(shape)), bytes_(std::move(bytes)) {
  const auto expected = static_cast<std::size_t>(element_count(shape_)) * dtype_size(dtype_);
  if (bytes_.size() != expected) {
    fail_argument("a " + std::string(dtype_name(dtype_)) + " tensor of shape " + format_shape(shape_) +
                  " needs " + std::to_string(expected) + " bytes, got " + std::to_string(bytes_.size()));
  }
}

void Tensor::check_type(DType requested) const {
  if (requested != dtype_) {
    fail_argument("tensor is " + std::string(dtype_name(dtype_)) + ", read as " +
                  std::string(dtype_name(requested)));
  }
}

void Tensor::check_count(std::size_t values) const {
  if (values != size()) {
    fail_argument("a tensor of shape " + format_shape(shape_) + " holds " + std::to_string(size()) +
                  " values, got " + std::to_string(values));
  }
}

}  // namespace frozenseg
