#include "text/html_unescape.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

struct Entity {
  const char* name;
  const char* value;
};
struct CharRef {
  uint32_t number;
  uint32_t replacement;
};

#include "text/html_tables.inc"

bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_ascii_hex(char32_t c) {
  return is_ascii_digit(c) || (c >= U'a' && c <= U'f') || (c >= U'A' && c <= U'F');
}
int hex_value(char32_t c) {
  if (is_ascii_digit(c)) return static_cast<int>(c - U'0');
  return static_cast<int>((c | 0x20) - U'a' + 10);
}

// The name branch of html's pattern: [^\t\n\f <&#;]
bool is_name_char(char32_t c) {
  return c != U'\t' && c != U'\n' && c != U'\f' && c != U' ' && c != U'<' && c != U'&' &&
         c != U'#' && c != U';';
}

// html's _replace_charref for a numeric reference (the number saturates: anything above
// U+10FFFF gives U+FFFD, as Python's unbounded int does).
std::u32string numeric_reference(uint64_t number) {
  const auto* end = std::end(kInvalidCharRefs);
  const auto* ref = std::find_if(std::begin(kInvalidCharRefs), end,
                                 [&](const CharRef& r) { return r.number == number; });
  if (ref != end) return std::u32string(1, static_cast<char32_t>(ref->replacement));
  if ((number >= 0xD800 && number <= 0xDFFF) || number > 0x10FFFF) return U"\uFFFD";
  if (std::binary_search(std::begin(kInvalidCodepoints), std::end(kInvalidCodepoints),
                         static_cast<uint32_t>(number))) {
    return U"";
  }
  return std::u32string(1, static_cast<char32_t>(number));
}

}  // namespace

std::optional<std::u32string> html5_entity(std::u32string_view name) {
  std::string key;
  for (char32_t c : name) {
    if (c >= 0x80) return std::nullopt;  // every entity name is ASCII
    key.push_back(static_cast<char>(c));
  }
  const auto* end = std::end(kHtml5Entities);
  const auto* it = std::lower_bound(
      std::begin(kHtml5Entities), end, key,
      [](const Entity& e, const std::string& k) { return std::strcmp(e.name, k.c_str()) < 0; });
  if (it == end || key != it->name) return std::nullopt;
  return decode_utf8(it->value);
}

size_t html5_entity_count() { return std::size(kHtml5Entities); }

std::u32string html5_entity_name(size_t index) {
  return decode_utf8(kHtml5Entities[index].name);
}

std::u32string html_unescape(std::u32string_view s) {
  if (s.find(U'&') == std::u32string_view::npos) return std::u32string(s);
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != U'&') {
      out.push_back(s[i++]);
      continue;
    }
    const size_t p = i + 1;
    // &#[0-9]+;?  |  &#[xX][0-9a-fA-F]+;?
    if (p < s.size() && s[p] == U'#') {
      const bool hex = p + 1 < s.size() && (s[p + 1] == U'x' || s[p + 1] == U'X');
      size_t q = hex ? p + 2 : p + 1;
      const size_t digits_start = q;
      uint64_t number = 0;
      while (q < s.size() && (hex ? is_ascii_hex(s[q]) : is_ascii_digit(s[q]))) {
        const uint64_t digit = hex ? hex_value(s[q]) : s[q] - U'0';
        number = std::min<uint64_t>(number * (hex ? 16 : 10) + digit, 0x7FFFFFFFFFFFull);
        ++q;
      }
      if (q > digits_start) {
        if (q < s.size() && s[q] == U';') ++q;
        out += numeric_reference(number);
        i = q;
        continue;
      }
      if (hex) {  // '&#x' without hex digits: try '&#' then digits (none: 'x' is not one)
        out.push_back(s[i++]);
        continue;
      }
      out.push_back(s[i++]);  // '&#' followed by no digit: no branch matches here
      continue;
    }
    // &[^\t\n\f <&#;]{1,32};?
    size_t q = p;
    while (q < s.size() && q - p < 32 && is_name_char(s[q])) ++q;
    if (q == p) {
      out.push_back(s[i++]);
      continue;
    }
    if (q < s.size() && s[q] == U';') ++q;
    const std::u32string_view name = s.substr(p, q - p);
    if (auto value = html5_entity(name)) {
      out += *value;
    } else {
      bool found = false;
      for (size_t x = name.size() - 1; x > 1; --x) {  // the longest known prefix
        if (auto prefix = html5_entity(name.substr(0, x))) {
          out += *prefix;
          out += name.substr(x);
          found = true;
          break;
        }
      }
      if (!found) {
        out.push_back(U'&');
        out += name;
      }
    }
    i = q;
  }
  return out;
}

}  // namespace frozenseg::text
