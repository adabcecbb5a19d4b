#include "runner/graph_spec.hpp"

namespace frozenseg {

const TensorSpec* GraphSpec::find_input(std::string_view input_name) const noexcept {
  for (const TensorSpec& t : inputs) {
    if (t.name == input_name) return &t;
  }
  return nullptr;
}

std::string format_declared_shape(const std::vector<Dim>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    if (const auto* fixed = std::get_if<std::int64_t>(&shape[i])) {
      out += std::to_string(*fixed);
    } else {
      out += "'" + std::get<std::string>(shape[i]) + "'";
    }
  }
  return out + "]";
}

}  // namespace frozenseg
