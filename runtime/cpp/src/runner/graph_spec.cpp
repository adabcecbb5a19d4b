#include "runner/graph_spec.hpp"

#include <algorithm>

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

namespace {

GraphSpec as_variant(const GraphSpec& spec, const GraphVariant& variant) {
  GraphSpec out = spec;
  out.file = variant.file;
  out.sha256 = variant.sha256;
  out.external_data = variant.external_data;
  out.variants.clear();
  return out;
}

}  // namespace

GraphSpec GraphSpec::for_backend(std::string_view backend) const {
  for (const GraphVariant& variant : variants) {
    if (std::find(variant.backends.begin(), variant.backends.end(), backend) != variant.backends.end()) {
      return as_variant(*this, variant);
    }
  }
  return *this;
}

std::vector<GraphSpec> GraphSpec::files() const {
  std::vector<GraphSpec> out = {*this};
  for (const GraphVariant& variant : variants) out.push_back(as_variant(*this, variant));
  return out;
}

}  // namespace frozenseg
