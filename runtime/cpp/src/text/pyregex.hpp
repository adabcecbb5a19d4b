// A small backtracking regular-expression engine with Python `re` semantics for the subset
// ftfy's patterns use (make_unicode_tables.py exports them as compiled): character classes,
// '.', \s \w \d (Unicode for str patterns, ASCII for bytes patterns), ^ and $ (which, as in
// Python, also matches before a final '\n'), groups, alternation in priority order, greedy
// ? * + {m,n}, negative lookahead (?!...) and one-character negative lookbehind (?<!...), and
// the VERBOSE flag. Bytes patterns run on strings whose "characters" are the bytes 0..255.
//
// Matching explores alternatives in Python's order and memoises failed (instruction, position)
// states, so the first match found is Python's and no input makes it exponential.
// Immutable after construction: safe to share between threads.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frozenseg::text {

class PyRegex {
 public:
  // Throws Error(FS_INTERNAL_ERROR) for syntax outside the subset.
  PyRegex(std::u32string_view pattern, bool bytes_pattern, bool verbose);
  ~PyRegex();
  PyRegex(PyRegex&&) noexcept;
  PyRegex& operator=(PyRegex&&) noexcept;

  // End of the match starting exactly at `start` (re.match from a position), or nullopt.
  std::optional<size_t> match_at(std::u32string_view text, size_t start) const;
  // First match: (start, end), or nullopt (re.search).
  std::optional<std::pair<size_t, size_t>> search(std::u32string_view text) const;
  // re.sub with a function of the matched text.
  std::u32string sub(std::u32string_view text,
                     const std::function<std::u32string(std::u32string_view)>& replace) const;

 private:
  struct Program;
  std::unique_ptr<Program> program_;
};

}  // namespace frozenseg::text
