// A graph as the manifest declares it (runtime/manifest.py GraphSpec and TensorSpec). Plain data:
// the manifest reader (area core) fills it; the engines check feeds against it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runner/tensor.hpp"

namespace frozenseg {

// One declared dimension: a fixed size, or the name of a dynamic dim with a range in GraphSpec::dims.
using Dim = std::variant<std::int64_t, std::string>;

struct TensorSpec {
  std::string name;
  DType dtype = DType::float32;
  std::vector<Dim> shape;
};

// A dynamic dim's declared range (manifest graphs.<name>.dims.<dim>).
struct DimRange {
  std::int64_t min = 0;
  std::int64_t opt = 0;
  std::int64_t max = 0;
  std::optional<std::int64_t> multiple;  // sizes must be multiples of this, when present
};

struct ExternalData {
  std::string file;
  std::string sha256;
};

// Another file of one graph that some backends run instead, computing the same values
// (manifest precisions.<p>.graphs.<name>.variants: quantize's CPU INT8 file, uint8 activations).
struct GraphVariant {
  std::string file;
  std::string sha256;
  std::vector<std::string> backends;
  std::vector<ExternalData> external_data;
};

struct GraphSpec {
  std::string name;
  std::string file;  // relative to the artifacts folder
  std::string sha256;
  std::vector<TensorSpec> inputs;   // in the registry's order (runtime/graphs.py)
  std::vector<TensorSpec> outputs;
  std::map<std::string, DimRange, std::less<>> dims;
  int opset = 0;
  std::vector<ExternalData> external_data;
  std::string precision = "fp32";  // fp32, or the reduced precision this graph was lowered to
  std::vector<GraphVariant> variants;  // files some backends run instead (for_backend)

  const TensorSpec* find_input(std::string_view input_name) const noexcept;
  // This graph as `backend` runs it: the first variant made for that backend, else a copy of itself.
  GraphSpec for_backend(std::string_view backend) const;
  // This graph and each of its variants as a spec of its own (what verification checks).
  std::vector<GraphSpec> files() const;
};

// Python's repr of the declared shape list: "[1, 3, 'height', 'width']".
std::string format_declared_shape(const std::vector<Dim>& shape);

}  // namespace frozenseg
