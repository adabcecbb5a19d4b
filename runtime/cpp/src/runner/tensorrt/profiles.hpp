// TensorRT optimization-profile shapes from the manifest, and feed shapes checked against them
// (runtime/backends/tensorrt/profiles.py). No TensorRT needed: built and tested everywhere.
//
// A fixed dim stays fixed; a named dim takes {min, opt, max} from the graph's dims, min rounded up
// and max down to its `multiple`, and a feed dim that is not a multiple is refused too.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "runner/graph_spec.hpp"
#include "runner/tensor.hpp"

namespace frozenseg::tensorrt {

// One tensor's profile: min, opt and max shapes, and the multiple each dim must be.
struct ShapeRange {
  Shape min;
  Shape opt;
  Shape max;
  Shape multiple;
  friend bool operator==(const ShapeRange&, const ShapeRange&) = default;
};

using Profile = std::map<std::string, ShapeRange, std::less<>>;  // input name -> range

// (min, opt, max, multiple) of a named dim, rounded to its multiple. Throws
// frozenseg::Error(FS_ARTIFACT_ERROR) for a dim without a usable range (ProfileError).
DimRange dim_range(std::string_view name, const std::map<std::string, DimRange, std::less<>>& dims);

ShapeRange shape_range(const TensorSpec& tensor, const std::map<std::string, DimRange, std::less<>>& dims);

// One range per input of the graph.
Profile profile_from_spec(const GraphSpec& spec);

// Each output's largest declared shape: what a buffer reused across calls must hold.
std::map<std::string, Shape, std::less<>> output_max_shapes(const GraphSpec& spec);

// Throws frozenseg::Error(FS_INVALID_INPUT) with profiles.py's message when `shape` is not inside
// `range` (rank, bounds, multiple).
void check_shape(std::string_view name, const Shape& shape, const ShapeRange& range);

}  // namespace frozenseg::tensorrt
