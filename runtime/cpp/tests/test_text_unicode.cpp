// Python's str semantics in text/unicode, text/html_unescape, text/text_fixer and
// text/word_split, against values the Python runtime produced (tests/data/tokenizer_cases.json,
// written by make_tokenizer_cases.py).
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "text/html_unescape.hpp"
#include "text/pyrepr.hpp"
#include "text/text_fixer.hpp"
#include "text/unicode.hpp"
#include "text/word_split.hpp"

namespace ft = frozenseg::text;
using nlohmann::json;

namespace {

const json& cases() {
  static const json data = [] {
    std::ifstream in(std::string(FS_SOURCE_DIR) + "/runtime/cpp/tests/data/tokenizer_cases.json");
    return json::parse(in);
  }();
  return data;
}

std::u32string u32(const std::string& s) { return ft::decode_utf8(s); }
std::string u8(const std::u32string& s) { return ft::encode_utf8(s); }

}  // namespace

TEST(TextUnicode, TablesComeFromTheFixturesPython) {
  EXPECT_EQ(cases()["unicode_version"].get<std::string>(), ft::unicode_version());
}

TEST(TextUnicode, LowerMatchesPythonIncludingFinalSigmaAndDottedI) {
  for (const auto& c : cases()["lower"]) {
    EXPECT_EQ(u8(ft::py_lower(u32(c["text"]))), c["lower"].get<std::string>()) << c["text"];
  }
  EXPECT_EQ(u8(ft::py_lower(U"ΟΔΟΣ Σ")), "οδος σ");
  EXPECT_EQ(u8(ft::py_lower(U"\u0130")), "i\u0307");
}

TEST(TextUnicode, NfcMatchesPython) {
  ASSERT_GT(cases()["nfc"].size(), 20u);
  for (const auto& c : cases()["nfc"]) {
    EXPECT_EQ(u8(ft::nfc(u32(c["text"]))), c["nfc"].get<std::string>()) << c["text"];
  }
  EXPECT_EQ(u8(ft::nfc(U"e\u0301")), "\u00e9");
  EXPECT_EQ(u8(ft::nfc(U"\u1100\u1161\u11a8")), "\uac01");  // Hangul L V T
  EXPECT_EQ(u8(ft::nfc(U"\u0344")), "\u0308\u0301");        // excluded from composition
}

TEST(TextUnicode, WordSplitMatchesTheRegexPattern) {
  const auto& c = cases()["split_words"];
  const auto words = ft::split_words(u32(c["text"]));
  const auto& want = c["words"];
  ASSERT_EQ(words.size(), want.size());
  for (size_t i = 0; i < words.size(); ++i) {
    ASSERT_EQ(u8(words[i]), want[i].get<std::string>()) << "word " << i;
  }
}

TEST(TextUnicode, CleaningMatchesPython) {
  int repaired = 0;
  for (const auto& c : cases()["clean"]) {
    EXPECT_EQ(u8(ft::clean_text(u32(c["text"]))), c["clean"].get<std::string>()) << c["text"];
    if (!c.contains("clean_no_encoding_fix")) continue;
    ++repaired;  // ftfy's mojibake repair changed this one
    EXPECT_EQ(u8(ft::clean_text(u32(c["text"]), ft::Cleaning::kFtfyWithoutEncodingFix)),
              c["clean_no_encoding_fix"].get<std::string>());
  }
  EXPECT_GE(repaired, 5);
}

TEST(TextUnicode, PythonStringMethods) {
  EXPECT_EQ(ft::py_split(U"  a\u3000b\x1c c  ").size(), 3u);
  EXPECT_TRUE(ft::py_split(U" \t ").empty());
  EXPECT_EQ(u8(ft::py_strip(U"\u00a0 cat \x1f")), "cat");
  const auto lines = ft::py_splitlines(U"a\r\nb\rc\x0b" "d\x1c" "e\u2028f\n\ng\n");
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(u8(lines[5]), "f");
  EXPECT_EQ(u8(lines[6]), "");
  EXPECT_TRUE(ft::py_splitlines(U"").empty());
  EXPECT_TRUE(ft::py_isdigit(U"12\u00b2\u0663"));  // superscripts and Arabic-Indic are digits
  EXPECT_FALSE(ft::py_isdigit(U""));
  EXPECT_FALSE(ft::py_isdigit(U"\u00bd"));  // a fraction is numeric, not a digit
  EXPECT_EQ(u8(ft::replace_all(U"a, b, c", U", ", U",")), "a,b,c");
}

TEST(TextUnicode, Utf8ErrorsAreReportedLikePython) {
  struct Case {
    std::string bytes;
    size_t start;
    std::string reason;
  };
  const Case bad[] = {{"1:caf\xe9\n", 5, "invalid continuation byte"},
                      {"ab\xe0\x80", 2, "invalid continuation byte"},
                      {"ab\xe0\xa0", 2, "unexpected end of data"},
                      {"\xed\xa0\x80", 0, "invalid continuation byte"},
                      {"\xf4\x90\x80\x80", 0, "invalid continuation byte"},
                      {"\xf0\x9f\x98", 0, "unexpected end of data"},
                      {"\xc0\xaf", 0, "invalid start byte"}};
  for (const Case& c : bad) {
    const auto error = ft::find_utf8_error(c.bytes);
    ASSERT_TRUE(error.has_value()) << c.reason;
    EXPECT_EQ(error->start, c.start);
    EXPECT_EQ(std::string(error->reason), c.reason);
  }
  EXPECT_FALSE(ft::find_utf8_error("caf\xc3\xa9 \xf0\x9f\x90\xb1").has_value());
  try {
    ft::decode_utf8("\xff", "a class name");
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_NE(std::string(e.what()).find("invalid start byte"), std::string::npos);
  }
}

TEST(TextUnicode, HtmlUnescapeLikePython) {
  EXPECT_EQ(u8(ft::html_unescape(U"&amp;amp; &lt;b&gt; &notit; &ampx &#65 &#x263a;")),
            "&amp; <b> \u00acit; &x A \u263a");
  EXPECT_EQ(u8(ft::html_unescape(U"&#0; &#128; &#1114112; &#xD800; &#1; &#; &zz;")),
            "\ufffd \u20ac \ufffd \ufffd  &#; &zz;");
  EXPECT_EQ(u8(ft::ftfy_unescape_html(U"P&EACUTE;REZ &nTILDE; &SZLIG; &#65; &amp")),
            "P\u00c9REZ &nTILDE; SS A &amp");
  EXPECT_EQ(ft::ftfy_upper_entity_count(), 1376u);  // ftfy 6.3.1's table
}

TEST(TextUnicode, PythonRepr) {
  EXPECT_EQ(ft::py_repr(U"cat"), "'cat'");
  EXPECT_EQ(ft::py_repr(U"it's"), "\"it's\"");
  EXPECT_EQ(ft::py_repr(U"a'b\"c"), "'a\\'b\"c'");
  EXPECT_EQ(ft::py_repr(U"\n\t\x01\x7f\u00a0\u200b\u00e9\U0001F431\U000E0001"),
            "'\\n\\t\\x01\\x7f\\xa0\\u200b\u00e9\U0001F431\\U000e0001'");
  EXPECT_EQ(ft::py_float_repr(1.0), "1.0");
  EXPECT_EQ(ft::py_float_repr(0.1), "0.1");
  EXPECT_EQ(ft::py_float_repr(1e16), "1e+16");
  EXPECT_EQ(ft::py_float_repr(1.5e-5), "1.5e-05");
  EXPECT_EQ(ft::py_float_repr(123456.789), "123456.789");
  const auto value = nlohmann::ordered_json::parse(R"({"names": ["cat"], "isthing": true, "x": null, "f": 2.50})");
  EXPECT_EQ(ft::py_repr_json(value), "{'names': ['cat'], 'isthing': True, 'x': None, 'f': 2.5}");
}
