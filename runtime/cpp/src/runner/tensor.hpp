// A small owned n-d array: dtype + shape + bytes (row-major, C order), the C++ side of the numpy
// arrays the Python runners take and return. Copyable (deep) and cheap to move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace frozenseg {

// The manifest's tensor dtypes (runtime/manifest.py TENSOR_DTYPES), in that order.
enum class DType : std::uint8_t { float32, float16, int64, int32, boolean };

// The manifest's and numpy's spelling: "float32", "float16", "int64", "int32", "bool".
std::string_view dtype_name(DType dtype) noexcept;
std::optional<DType> dtype_from_name(std::string_view name) noexcept;
std::size_t dtype_size(DType dtype) noexcept;

// IEEE 754 binary16 as stored (ONNX float16); no arithmetic, only conversion.
struct Float16 {
  std::uint16_t bits = 0;
  friend bool operator==(Float16, Float16) = default;
};
Float16 float16_from_float(float value) noexcept;  // round to nearest even, like numpy
float float_from_float16(Float16 value) noexcept;

// C++ element type -> DType (float, Float16, int64_t, int32_t, bool).
template <typename T>
inline constexpr bool kIsTensorElement =
    std::is_same_v<T, float> || std::is_same_v<T, Float16> || std::is_same_v<T, std::int64_t> ||
    std::is_same_v<T, std::int32_t> || std::is_same_v<T, bool>;

template <typename T>
constexpr DType dtype_of() noexcept {
  static_assert(kIsTensorElement<T>, "tensor elements are float, Float16, int64_t, int32_t or bool");
  if constexpr (std::is_same_v<T, float>) return DType::float32;
  if constexpr (std::is_same_v<T, Float16>) return DType::float16;
  if constexpr (std::is_same_v<T, std::int64_t>) return DType::int64;
  if constexpr (std::is_same_v<T, std::int32_t>) return DType::int32;
  if constexpr (std::is_same_v<T, bool>) return DType::boolean;
}

using Shape = std::vector<std::int64_t>;

// Python's list repr of a shape: "[1, 3, 224, 224]" (used in messages that mirror the runtime's).
std::string format_shape(const Shape& shape);

// Product of dims; throws frozenseg::Error(FS_INVALID_ARGUMENT) for a negative dim or overflow.
std::int64_t element_count(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;  // float32, shape [0], no bytes
  Tensor(DType dtype, Shape shape);  // zero-filled
  // Takes `bytes` as the row-major data; their size must be element_count(shape) * dtype_size.
  Tensor(DType dtype, Shape shape, std::vector<std::byte> bytes);

  template <typename T>
  static Tensor from_values(Shape shape, std::span<const T> values) {
    Tensor out(dtype_of<T>(), std::move(shape));
    out.check_count(values.size());
    auto target = out.data<T>();
    for (std::size_t i = 0; i < values.size(); ++i) target[i] = values[i];
    return out;
  }
  template <typename T>
  static Tensor from_values(Shape shape, std::initializer_list<T> values) {
    return from_values<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }
  template <typename T>
    requires(!std::is_same_v<T, bool>)  // std::vector<bool> has no contiguous data
  static Tensor from_values(Shape shape, const std::vector<T>& values) {
    return from_values<T>(std::move(shape), std::span<const T>(values.data(), values.size()));
  }

  DType dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  std::size_t rank() const noexcept { return shape_.size(); }
  std::size_t size() const noexcept { return bytes_.size() / dtype_size(dtype_); }  // elements
  std::span<const std::byte> bytes() const noexcept { return bytes_; }
  std::span<std::byte> bytes() noexcept { return bytes_; }

  // Typed view; throws frozenseg::Error(FS_INVALID_ARGUMENT) when T is not the dtype.
  template <typename T>
  std::span<T> data() {
    check_type(dtype_of<T>());
    return {reinterpret_cast<T*>(bytes_.data()), size()};
  }
  template <typename T>
  std::span<const T> data() const {
    check_type(dtype_of<T>());
    return {reinterpret_cast<const T*>(bytes_.data()), size()};
  }

 private:
  void check_type(DType requested) const;
  void check_count(std::size_t values) const;

  DType dtype_ = DType::float32;
  Shape shape_{0};
  // operator new aligns to at least 16 bytes, enough for every element type.
  std::vector<std::byte> bytes_;
};

// Tensors by name, as the Python runners' feeds and results (lookup by string_view too).
using TensorMap = std::map<std::string, Tensor, std::less<>>;

}  // namespace frozenseg
