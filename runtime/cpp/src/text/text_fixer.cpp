#include "text/text_fixer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>

#include "text/ftfy_encoding.hpp"
#include "text/html_unescape.hpp"
#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

struct Entity {
  const char* name;
  const char* value;
};
struct Replacement {
  uint32_t cp;
  const char* value;
};

#include "text/ftfy_tables.inc"

constexpr size_t kMaxDecodeLength = 1000000;  // TextFixerConfig.max_decode_length

bool is_ascii_alnum(char32_t c) {
  return (c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
}
char32_t ascii_lower(char32_t c) { return c >= U'A' && c <= U'Z' ? c + 32 : c; }
char32_t ascii_upper(char32_t c) { return c >= U'a' && c <= U'z' ? c - 32 : c; }

template <size_t N>
const char* find_replacement(const Replacement (&table)[N], char32_t cp) {
  const auto* it = std::lower_bound(std::begin(table), std::end(table), cp,
                                    [](const Replacement& r, char32_t c) { return r.cp < c; });
  return it != std::end(table) && it->cp == cp ? it->value : nullptr;
}

// The value ftfy's table gives an upper-case spelling `name` (e.g. "EACUTE;"): the spelling of
// a lower-case html5 name ending in ';', itself not decoded by html.unescape.
std::optional<std::u32string> upper_entity(std::u32string_view name) {
  std::u32string lower(name);
  for (char32_t& c : lower) c = ascii_lower(c);
  std::u32string upper(lower);
  for (char32_t& c : upper) c = ascii_upper(c);
  if (upper != name || lower.back() != U';') return std::nullopt;
  auto value = html5_entity(lower);
  if (!value) return std::nullopt;
  const std::u32string entity = U"&" + upper;
  if (html_unescape(entity) != entity) return std::nullopt;
  const std::string key = encode_utf8(upper);
  for (const Entity& e : kFtfyUpperValues) {
    if (key == e.name) return decode_utf8(e.value);
  }
  return value;
}

// ftfy's _unescape_fixup for one match of &#?[0-9A-Za-z]{1,24};
std::u32string unescape_match(std::u32string_view match) {
  const std::u32string_view name = match.substr(1);  // without '&', with ';'
  if (auto value = html5_entity(name)) return *value;
  if (name[0] != U'#') {
    if (auto value = upper_entity(name)) return *value;
    return std::u32string(match);
  }
  std::u32string unescaped = html_unescape(match);
  if (unescaped.find(U';') != std::u32string::npos) return std::u32string(match);
  return unescaped;
}

// Length of the match of &#?[0-9A-Za-z]{1,24}; at s[i] == '&', or 0.
size_t entity_match_length(std::u32string_view s, size_t i) {
  size_t k = i + 1;
  if (k < s.size() && s[k] == U'#') ++k;
  size_t run = 0;
  while (k + run < s.size() && is_ascii_alnum(s[k + run])) ++run;
  if (run < 1 || run > 24 || k + run >= s.size() || s[k + run] != U';') return 0;
  return k + run + 1 - i;
}

std::u32string fix_c1_controls(std::u32string_view s) {
  std::u32string out(s);
  for (char32_t& c : out) {
    if (c >= 0x80 && c <= 0x9F) c = kC1Controls[c - 0x80];
  }
  return out;
}

template <size_t N>
std::u32string translate(std::u32string_view s, const Replacement (&table)[N]) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (const char* value = find_replacement(table, c)) {
      out += decode_utf8(value);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::u32string uncurl_quotes(std::u32string_view s) {
  std::u32string out(s);
  for (char32_t& c : out) {
    if (c >= 0x201C && c <= 0x201F) {
      c = U'"';
    } else if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B)) {
      c = U'\'';
    }
  }
  return out;
}

std::u32string fix_line_breaks(std::u32string_view s) {
  std::u32string out = replace_all(s, U"\r\n", U"\n");
  for (char32_t& c : out) {
    if (c == U'\r' || c == 0x2028 || c == 0x2029 || c == 0x85) c = U'\n';
  }
  return out;
}

// ANSI_RE: \033\[((?:\d|;)*)([a-zA-Z]) removed (\d: Unicode decimal digits).
std::u32string remove_terminal_escapes(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == 0x1B && i + 1 < s.size() && s[i + 1] == U'[') {
      size_t k = i + 2;
      while (k < s.size() && (s[k] == U';' || has_property(s[k], kPyDecimal))) ++k;
      if (k < s.size() && s[k] < 0x80 && ((s[k] | 0x20) >= U'a' && (s[k] | 0x20) <= U'z')) {
        i = k + 1;
        continue;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

std::u32string remove_control_chars(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (!std::binary_search(std::begin(kControlChars), std::end(kControlChars),
                            static_cast<uint32_t>(c))) {
      out.push_back(c);
    }
  }
  return out;
}

// ftfy's fix_and_explain for one segment.
std::u32string fix_segment(std::u32string text, bool unescape, bool fix_encoding) {
  while (true) {
    const std::u32string original = text;
    if (unescape) text = ftfy_unescape_html(text);
    if (fix_encoding) text = ftfy_fix_encoding(text);
    text = fix_c1_controls(text);
    text = translate(text, kLigatures);
    text = translate(text, kWidthMap);
    text = uncurl_quotes(text);
    text = fix_line_breaks(text);
    // fix_surrogates: nothing to do, decoded UTF-8 holds no surrogates.
    text = remove_terminal_escapes(text);
    text = remove_control_chars(text);
    text = nfc(text);
    if (text == original) return text;
  }
}

}  // namespace

std::u32string ftfy_unescape_html(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t length = s[i] == U'&' ? entity_match_length(s, i) : 0;
    if (length == 0) {
      out.push_back(s[i++]);
      continue;
    }
    out += unescape_match(s.substr(i, length));
    i += length;
  }
  return out;
}

size_t ftfy_upper_entity_count() {
  size_t count = 0;
  for (size_t i = 0; i < html5_entity_count(); ++i) {
    const std::u32string name = html5_entity_name(i);
    std::u32string upper(name);
    for (char32_t& c : upper) c = ascii_upper(c);
    const bool lower_case = std::none_of(name.begin(), name.end(),
                                         [](char32_t c) { return c >= U'A' && c <= U'Z'; });
    if (name.back() == U';' && lower_case && upper_entity(upper)) ++count;
  }
  return count;
}

std::u32string fix_text_like_ftfy(std::u32string_view text, bool fix_encoding) {
  std::u32string out;
  bool unescape = true;  // unescape_html="auto": off from the first line holding '<' on
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(U'\n', pos);
    end = end == std::u32string_view::npos ? text.size() : end + 1;
    end = std::min(end, pos + kMaxDecodeLength);
    const std::u32string_view segment = text.substr(pos, end - pos);
    if (segment.find(U'<') != std::u32string_view::npos) unescape = false;
    out += fix_segment(std::u32string(segment), unescape, fix_encoding);
    pos = end;
  }
  return out;
}

std::u32string fallback_fix(std::u32string_view text) {
  return nfc(uncurl_quotes(text));
}

std::u32string clean_text(std::u32string_view text, Cleaning cleaning) {
  std::u32string fixed = cleaning == Cleaning::kFallback ? fallback_fix(text)
                         : fix_text_like_ftfy(text, cleaning == Cleaning::kFtfy);
  fixed = py_strip(html_unescape(html_unescape(fixed)));
  return py_lower(py_strip(join(py_split(fixed), U" ")));
}

}  // namespace frozenseg::text
