// PyRegex, the Python-regex port behind ftfy's patterns: an arbitrary pattern and text. Its
// patterns are the library's own (exported from ftfy), so a pattern outside the supported subset
// (Error FS_INTERNAL_ERROR by design) is skipped; on a pattern it accepts, matching any text must
// be safe and bounded (it memoises, so no input may make it exponential).
//
// Input: one flag byte (bit 0: bytes pattern, bit 1: VERBOSE), the pattern, a 0 byte, the text.
// A bytes pattern reads pattern and text as bytes 0..255; a str pattern as UTF-8.
#include "frozenseg/frozenseg.h"
#include "fuzz_support.hpp"
#include "text/pyregex.hpp"
#include "text/unicode.hpp"

namespace {

std::u32string chars(std::string_view part, bool bytes) {
  if (!bytes) return frozenseg::text::decode_utf8(part);
  std::u32string out;
  for (unsigned char c : part) out.push_back(c);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool bytes = data[0] & 1;
  const bool verbose = data[0] & 2;
  const std::string_view rest = frozenseg::fuzz::as_text(data + 1, size - 1);
  const std::size_t cut = rest.find('\0');
  if (cut == std::string_view::npos) return 0;
  std::optional<frozenseg::text::PyRegex> regex;
  std::u32string text;
  try {
    regex.emplace(chars(rest.substr(0, cut), bytes), bytes, verbose);
    text = chars(rest.substr(cut + 1), bytes);
  } catch (const frozenseg::Error&) {
    return 0;  // outside the subset, or a str pattern / text that is not UTF-8
  }
  (void)regex->search(text);
  for (std::size_t start = 0; start <= text.size() && start < 4; ++start) (void)regex->match_at(text, start);
  (void)regex->sub(text, [](std::u32string_view match) { return U"<" + std::u32string(match) + U">"; });
  return 0;
}
