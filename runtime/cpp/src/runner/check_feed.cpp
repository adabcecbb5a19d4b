// check_feed: runtime/backends/base.py check_feed, message for message.
#include "common/error.hpp"
#include "runner/runner.hpp"

namespace frozenseg {

void check_feed(const GraphSpec& spec, const TensorMap& feed) {
  for (const TensorSpec& tensor : spec.inputs) {
    const auto found = feed.find(tensor.name);
    if (found == feed.end()) fail_input(spec.name + ": missing input '" + tensor.name + "'");
    const Tensor& value = found->second;
    if (value.dtype() != tensor.dtype) {
      fail_input(spec.name + ": input '" + tensor.name + "' must be " +
                 std::string(dtype_name(tensor.dtype)) + ", got " + std::string(dtype_name(value.dtype())));
    }
    bool matches = value.rank() == tensor.shape.size();
    for (std::size_t i = 0; matches && i < tensor.shape.size(); ++i) {
      const auto* fixed = std::get_if<std::int64_t>(&tensor.shape[i]);
      matches = fixed == nullptr || *fixed == value.shape()[i];
    }
    if (!matches) {
      fail_input(spec.name + ": input '" + tensor.name + "' must have shape " +
                 format_declared_shape(tensor.shape) + ", got " + format_shape(value.shape()));
    }
  }
}

}  // namespace frozenseg
