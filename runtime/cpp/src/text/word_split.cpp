#include "text/word_split.hpp"

#include <array>

#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

// Literal branches in the pattern's order: the special tokens, then the contractions.
constexpr std::array<std::u32string_view, 9> kLiterals = {
    U"<start_of_text>", U"<end_of_text>", U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};

// One literal character under regex's IGNORECASE, as tokenizer.py's _literal spells it.
bool literal_char_matches(char32_t want, char32_t got) {
  if (want >= U'a' && want <= U'z') {
    return got == want || got == want - 32 || (want == U's' && got == 0x17F) ||
           (want == U'k' && got == 0x212A);
  }
  return got == want;
}

size_t literal_match(std::u32string_view text, size_t i) {
  for (std::u32string_view literal : kLiterals) {
    if (text.size() - i < literal.size()) continue;
    bool ok = true;
    for (size_t k = 0; k < literal.size() && ok; ++k) ok = literal_char_matches(literal[k], text[i + k]);
    if (ok) return literal.size();
  }
  return 0;
}

}  // namespace

std::vector<std::u32string> split_words(std::u32string_view text) {
  std::vector<std::u32string> words;
  size_t i = 0;
  while (i < text.size()) {
    if (const size_t n = literal_match(text, i)) {
      words.emplace_back(text.substr(i, n));
      i += n;
      continue;
    }
    const WordKind kind = word_kind(text[i]);
    if (kind == WordKind::kNone) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    if (kind != WordKind::kNumber) {  // letters and other characters come in runs
      while (end < text.size() && word_kind(text[end]) == kind) ++end;
    }
    words.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

}  // namespace frozenseg::text
