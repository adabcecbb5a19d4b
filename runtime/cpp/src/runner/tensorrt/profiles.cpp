#include "runner/tensorrt/profiles.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace frozenseg::tensorrt {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Python's round(): half to even.
std::int64_t round_half_even(double value) { return static_cast<std::int64_t>(std::nearbyint(value)); }

std::string range_text(const DimRange& r) {
  return "{'min': " + std::to_string(r.min) + ", 'opt': " + std::to_string(r.opt) + ", 'max': " +
         std::to_string(r.max) + (r.multiple ? ", 'multiple': " + std::to_string(*r.multiple) : "") + "}";
}

}  // namespace

DimRange dim_range(std::string_view name, const std::map<std::string, DimRange, std::less<>>& dims) {
  const auto it = dims.find(name);
  const std::string quoted = "dim '" + std::string(name) + "'";
  if (it == dims.end()) fail_artifact(quoted + " has no range in the manifest's dims");
  const DimRange& entry = it->second;
  const std::int64_t multiple = entry.multiple.value_or(1);
  if (multiple < 1 || entry.min < 0 || !(entry.min <= entry.opt && entry.opt <= entry.max))
    fail_artifact(quoted + ": range " + range_text(entry) + " needs 0 <= min <= opt <= max, multiple >= 1");
  const std::int64_t lo = -floor_div(-entry.min, multiple) * multiple;
  const std::int64_t hi = floor_div(entry.max, multiple) * multiple;
  if (lo > hi)
    fail_artifact(quoted + ": no multiple of " + std::to_string(multiple) + " in [" + std::to_string(entry.min) +
                  ", " + std::to_string(entry.max) + "]");
  const std::int64_t rounded = round_half_even(static_cast<double>(entry.opt) / static_cast<double>(multiple)) * multiple;
  return DimRange{lo, std::clamp(rounded, lo, hi), hi, multiple};
}

ShapeRange shape_range(const TensorSpec& tensor, const std::map<std::string, DimRange, std::less<>>& dims) {
  ShapeRange out;
  for (const Dim& d : tensor.shape) {
    DimRange r;
    if (const auto* fixed = std::get_if<std::int64_t>(&d)) r = DimRange{*fixed, *fixed, *fixed, 1};
    else r = dim_range(std::get<std::string>(d), dims);
    out.min.push_back(r.min);
    out.opt.push_back(r.opt);
    out.max.push_back(r.max);
    out.multiple.push_back(r.multiple.value_or(1));
  }
  return out;
}

Profile profile_from_spec(const GraphSpec& spec) {
  Profile out;
  for (const TensorSpec& t : spec.inputs) out.emplace(t.name, shape_range(t, spec.dims));
  return out;
}

std::map<std::string, Shape, std::less<>> output_max_shapes(const GraphSpec& spec) {
  std::map<std::string, Shape, std::less<>> out;
  for (const TensorSpec& t : spec.outputs) out.emplace(t.name, shape_range(t, spec.dims).max);
  return out;
}

void check_shape(std::string_view name, const Shape& shape, const ShapeRange& range) {
  const std::string quoted = "input '" + std::string(name) + "'";
  if (shape.size() != range.min.size())
    fail_input(quoted + " has rank " + std::to_string(shape.size()) + ", the engine takes rank " +
               std::to_string(range.min.size()));
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    const std::int64_t value = shape[axis];
    if (value < range.min[axis] || value > range.max[axis])
      fail_input(quoted + " dim " + std::to_string(axis) + " is " + std::to_string(value) +
                 ", outside the engine's profile [" + std::to_string(range.min[axis]) + ", " +
                 std::to_string(range.max[axis]) + "] (shape " + format_shape(shape) + ", profile min " +
                 format_shape(range.min) + " max " + format_shape(range.max) + ")");
    if (range.multiple[axis] > 0 && value % range.multiple[axis] != 0)
      fail_input(quoted + " dim " + std::to_string(axis) + " is " + std::to_string(value) +
                 ", not a multiple of " + std::to_string(range.multiple[axis]));
  }
}

}  // namespace frozenseg::tensorrt
