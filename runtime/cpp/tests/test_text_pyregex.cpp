// text/pyregex follows Python's `re` on the constructs ftfy's patterns use (expected spans are
// what CPython 3.11's re.search / re.sub give), and ftfy's mojibake repair on its own examples.
#include <optional>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "text/ftfy_encoding.hpp"
#include "text/pyregex.hpp"
#include "text/unicode.hpp"
#include "test_support.hpp"

namespace ft = frozenseg::text;
using Span = std::optional<std::pair<size_t, size_t>>;

namespace {

Span search(std::u32string_view pattern, std::u32string_view text, bool verbose = false) {
  return ft::PyRegex(pattern, false, verbose).search(text);
}

Span span(size_t a, size_t b) { return std::make_pair(a, b); }

}  // namespace

TEST(TextPyRegex, SearchSpansLikePython) {
  EXPECT_EQ(search(U"a$", U"xa\n"), span(1, 2));  // '$' also before a final newline
  EXPECT_EQ(search(U"a$", U"xa\n\n"), std::nullopt);
  EXPECT_EQ(search(U"(\u00c0(\u0080|$))", U"\u00c0\n"), span(0, 1));
  EXPECT_EQ(search(U"ab|a", U"ab"), span(0, 2));  // alternatives in order, not longest
  EXPECT_EQ(search(U"a|ab", U"ab"), span(0, 1));
  EXPECT_EQ(search(U"(?<![b])a", U"ba ca"), span(4, 5));
  EXPECT_EQ(search(U"x (?! |y)", U"x y x z"), span(4, 6));
  EXPECT_EQ(search(U"a{2}", U"aaa"), span(0, 2));
  EXPECT_EQ(search(U"a{,2}b", U"aaab"), span(1, 4));
  EXPECT_EQ(search(U"a{x", U"a{x"), span(0, 3));  // not a quantifier: a literal '{'
  EXPECT_EQ(search(U"[]a]+", U"x]a]"), span(1, 4));
  EXPECT_EQ(search(U"[a-]+", U"x-a-"), span(1, 4));
  EXPECT_EQ(search(U"[^a]", U"aab"), span(2, 3));
  EXPECT_EQ(search(U"\\w+", U"\u00e9_1 "), span(0, 3));
  EXPECT_EQ(search(U"(ab|cd)+", U"xabcdab"), span(1, 7));
  EXPECT_EQ(search(U"^a", U"ba"), std::nullopt);
  EXPECT_EQ(search(U"a\\s?b", U"a\u3000b"), span(0, 3));
  EXPECT_EQ(search(U".b", U"\nb xb"), span(3, 5));
  EXPECT_EQ(search(U"\\xe9", U"caf\u00e9"), span(3, 4));
}

TEST(TextPyRegex, VerboseAndSub) {
  const ft::PyRegex verbose(U" a  b # comment\n |c", false, true);
  const auto dash = [](std::u32string_view) { return std::u32string(U"-"); };
  EXPECT_EQ(verbose.sub(U"ab c a b", dash), U"- - a b");
  EXPECT_EQ(ft::PyRegex(U"x*", false, false).sub(U"abxd", dash), U"-a-b--d-");  // empty matches
  EXPECT_EQ(ft::PyRegex(U"[\u00e0-\u00ef][\u0080-\u00bf]", true, false).match_at(U"\u00e2\u0082", 0),
            std::optional<size_t>(2));
}

TEST(TextPyRegex, BytesPatternsUseAsciiClasses) {
  EXPECT_EQ(ft::PyRegex(U"\\s", true, false).search(U"\u00a0 "), span(1, 2));
  EXPECT_EQ(ft::PyRegex(U"\\s", false, false).search(U"\u00a0 "), span(0, 1));
}

TEST(TextPyRegex, UnsupportedSyntaxIsAnInternalError) {
  EXPECT_THROW(ft::PyRegex(U"(?P<x>a)", false, false), frozenseg::Error);
  EXPECT_THROW(ft::PyRegex(U"*a", false, false), frozenseg::Error);
  EXPECT_THROW(ft::PyRegex(U"[a", false, false), frozenseg::Error);
}

// Found by the long fuzz: bounded refusals, not a stack overflow or 41 s of compiling.
TEST(TextPyRegex, DeepNestingAndEmptyRepeatsAreRefusedQuickly) {
  const auto refusal = [](const std::u32string& pattern) {
    return test_support::error_of([&] { ft::PyRegex(pattern, false, false); }, FS_INTERNAL_ERROR);
  };
  const std::u32string deep = std::u32string(101, U'(') + U"a" + std::u32string(101, U')');
  EXPECT_NE(refusal(deep).find("groups nested deeper than 100"), std::string::npos) << refusal(deep);
  const std::u32string shallow = std::u32string(100, U'(') + U"a" + std::u32string(100, U')');
  EXPECT_EQ(ft::PyRegex(shallow, false, false).search(U"xa"), span(1, 2));
  const std::u32string empty_repeats = U"((((a{0}){1000}){1000}){1000})";
  EXPECT_NE(refusal(empty_repeats).find("over 2^20 steps to compile"), std::string::npos) << refusal(empty_repeats);
  EXPECT_EQ(ft::PyRegex(U"(a{0}){1000}b", false, false).search(U"ab"), span(1, 2));
  // Python's "multiple repeat": a second quantifier on one item (the fuzz's 27-s X*{1000}).
  for (const std::u32string pattern : {U"a**", U"a*{2}", U"(a|b)*{1000}", U"a{2}{3}", U"a*??", U"a??+"}) {
    EXPECT_NE(refusal(pattern).find("multiple repeat"), std::string::npos) << refusal(pattern);
  }
  // Valid Python, but a repeat of lookaheads compiles to a program per copy: the instruction cap
  // holds for all of them together (4,096), which bounds a search's work by the text's length.
  const std::u32string lookaheads = U"(?:((?!a)b)*){1000}";
  EXPECT_NE(refusal(lookaheads).find("over 4096 instructions"), std::string::npos) << refusal(lookaheads);
  EXPECT_EQ(ft::PyRegex(U"(?:((?!a)b)*){10}c", false, false).search(U"abbc"), span(1, 4));
  EXPECT_EQ(ft::PyRegex(U"a*?b", false, false).search(U"aab"), span(0, 3));  // lazy is one quantifier
  EXPECT_EQ(ft::PyRegex(U"a*{x", false, false).search(U"aa{x"), span(0, 4));  // '{' not a count: a literal
}

TEST(TextFtfyEncoding, FtfysOwnExamples) {
  const std::pair<const char*, const char*> cases[] = {
      {"s\xc3\x83\xc2\xb3", "s\xc3\xb3"},                          // sÃ³ -> só
      {"voil\xc3\x83 le travail", "voil\xc3\xa0 le travail"},       // restore_byte_a0
      {"\xc3\xa2\xc5\x93\xe2\x80\x9d No problems", "\xe2\x9c\x94 No problems"},
      {"&ATILDE;&SUP3;", "&ATILDE;&SUP3;"},                           // not HTML here
      {"caf\xc3\xa9", "caf\xc3\xa9"},                                 // fine text stays
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(ft::encode_utf8(ft::ftfy_fix_encoding(ft::decode_utf8(in))), want) << in;
  }
  EXPECT_TRUE(ft::ftfy_is_bad(ft::decode_utf8("caf\xc3\x83\xc2\xa9")));
  EXPECT_FALSE(ft::ftfy_is_bad(ft::decode_utf8("caf\xc3\xa9")));
}
