// Python's str semantics that the text code needs, on UTF-32 strings: UTF-8 decoding with
// Python's error positions, lower(), isspace()/split()/strip()/splitlines(), isdigit(), NFC,
// and the character classes of the tokenizer's word pattern. The tables come from the
// Python the runtime is tested with (make_unicode_tables.py), so both agree code point by
// code point. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frozenseg::text {

// Property bits per code point (make_unicode_tables.py writes the same values).
enum UnicodeProperty : uint16_t {
  kWordKindMask = 0x3,       // 0 other, 1 letter, 2 number, 3 matched by no branch
  kPySpace = 1 << 2,         // str.isspace()
  kControl = 1 << 3,         // category Cc
  kInvisible = 1 << 4,       // category Cf, Zs, Zl, Zp or Cc
  kPyDigit = 1 << 5,         // str.isdigit()
  kPyPrintable = 1 << 6,     // str.isprintable()
  kCased = 1 << 7,           // cased, for str.lower()'s final sigma
  kCaseIgnorable = 1 << 8,   // case-ignorable, for str.lower()'s final sigma
  kPyDecimal = 1 << 9,       // str.isdecimal(), what `\d` of Python's re matches
  kPyAlnum = 1 << 10,        // str.isalnum(): with '_', what `\w` of Python's re matches
};

enum class WordKind : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kNone = 3 };

uint16_t unicode_properties(char32_t cp);
inline bool has_property(char32_t cp, UnicodeProperty p) { return unicode_properties(cp) & p; }
inline WordKind word_kind(char32_t cp) {
  return static_cast<WordKind>(unicode_properties(cp) & kWordKindMask);
}
uint8_t combining_class(char32_t cp);
const char* unicode_version();

// UTF-8. Python's strict decoder: the first error's byte offset and its reason
// ("invalid start byte", "invalid continuation byte", "unexpected end of data").
struct Utf8Error {
  size_t start;
  const char* reason;
};
std::optional<Utf8Error> find_utf8_error(std::string_view bytes);
// Decodes valid UTF-8; throws Error(FS_INVALID_INPUT) naming `what` on invalid bytes.
std::u32string decode_utf8(std::string_view bytes, std::string_view what = "text");
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t cp);

// str methods.
std::u32string py_lower(std::u32string_view text);           // str.lower()
std::u32string py_strip(std::u32string_view text);           // str.strip()
std::u32string py_lstrip(std::u32string_view text);          // str.lstrip()
std::vector<std::u32string> py_split(std::u32string_view text);       // str.split()
std::vector<std::u32string> py_splitlines(std::u32string_view text);  // str.splitlines()
bool py_isdigit(std::u32string_view text);                   // str.isdigit()
std::u32string join(const std::vector<std::u32string>& parts, std::u32string_view sep);
std::u32string replace_all(std::u32string_view text, std::u32string_view from,
                           std::u32string_view to);          // str.replace()

// unicodedata.normalize("NFC", text).
std::u32string nfc(std::u32string_view text);

}  // namespace frozenseg::text
