// open_clip's word pattern, as runtime/text/tokenizer.py's _word_pattern compiles it:
//   <start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// under the `regex` package's IGNORECASE (ASCII letters also match their case partner, 's' the
// long s U+017F, 'k' the Kelvin sign U+212A; a non-letter whose case partner is a letter matches
// no branch), with the character classes of make_unicode_tables.py.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace frozenseg::text {

// The words re.findall yields, in order (tokenizer.py's _split_words).
std::vector<std::u32string> split_words(std::u32string_view cleaned);

}  // namespace frozenseg::text
