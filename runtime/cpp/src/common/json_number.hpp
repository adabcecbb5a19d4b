// JSON integers read without undefined behaviour. nlohmann's get<std::int64_t>() converts a float
// with a static_cast, which is undefined beyond the type's range (the CI fuzz's 18446744073709551616
// in an engine sidecar: UBSan float-cast-overflow), and wraps an unsigned above INT64_MAX. These
// take JSON integers only, in the type's range, and otherwise throw nlohmann's own type_error (302)
// or out_of_range (406), which every reader already turns into its typed error.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace frozenseg {

template <typename T = std::int64_t, typename Json>
T json_integer(const Json& value) {
  static_assert(std::is_integral_v<T> && std::is_signed_v<T>, "signed integers only");
  if (!value.is_number_integer())
    throw nlohmann::json::type_error::create(302, "expected an integer, got " + value.dump(), &value);
  const bool fits = value.is_number_unsigned()
                        ? value.template get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                        : value.template get<std::int64_t>() >= std::numeric_limits<T>::min() &&
                              value.template get<std::int64_t>() <= std::numeric_limits<T>::max();
  if (!fits) throw nlohmann::json::out_of_range::create(406, "integer " + value.dump() + " is out of range", &value);
  return static_cast<T>(value.template get<std::int64_t>());
}

// A list of integers (a shape, a range's bounds).
template <typename T = std::int64_t, typename Json>
std::vector<T> json_integers(const Json& values) {
  if (!values.is_array())
    throw nlohmann::json::type_error::create(302, "expected a list of integers, got " + values.dump(), &values);
  std::vector<T> out;
  out.reserve(values.size());
  for (const auto& value : values) out.push_back(json_integer<T>(value));
  return out;
}

// object[key] as an integer, or `fallback` when absent (nlohmann's value(key, fallback) converts
// as get does).
template <typename T = std::int64_t, typename Json>
T json_integer_or(const Json& object, const char* key, T fallback) {
  return object.contains(key) ? json_integer<T>(object.at(key)) : fallback;
}

}  // namespace frozenseg
