// Python's repr() of strings and of decoded JSON values, so that error messages read like the
// Python runtime's (e.g. "received str 'yes'", "{'names': ['cat'], 'isthing': True}").
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace frozenseg::text {

std::string py_repr(std::u32string_view text);
std::string py_repr_utf8(std::string_view utf8);  // invalid UTF-8 shows as U+FFFD
std::string py_repr_json(const nlohmann::ordered_json& value);
std::string py_float_repr(double value);

// type(value).__name__ of what json.loads gives: NoneType, bool, int, float, str, list, dict.
std::string py_type_name(const nlohmann::ordered_json& value);

}  // namespace frozenseg::text
