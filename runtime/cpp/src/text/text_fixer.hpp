// open_clip's text cleaning before tokenization, as runtime/text/tokenizer.py's _clean does it.
//
// The Python runtime cleans with ftfy.fix_text when ftfy is importable (it is in the project's
// environment) and with a small fallback otherwise. fix_text_like_ftfy mirrors ftfy 6.3.1's
// fix_text with its default configuration step by step: per line (the 'auto' HTML rule), HTML
// entities, mojibake repair (ftfy_encoding.hpp), C1 controls, Latin ligatures, character width,
// curly quotes, line breaks, terminal escapes, control characters and NFC, repeated until nothing
// changes. Its tables and regular expressions are exported from the installed ftfy by
// make_unicode_tables.py.
#pragma once

#include <string>
#include <string_view>

namespace frozenseg::text {

// ftfy.fix_text(text); with fix_encoding=false, ftfy.fix_text(text, fix_encoding=False).
std::u32string fix_text_like_ftfy(std::u32string_view text, bool fix_encoding = true);

// tokenizer.py's _fallback_fix: straight quotes, then NFC (the path without ftfy).
std::u32string fallback_fix(std::u32string_view text);

// ftfy.fixes.unescape_html: entities ending in ';' (and some upper-case spellings).
std::u32string ftfy_unescape_html(std::u32string_view text);

// How many upper-case entity spellings ftfy adds (derived here; 1376 for ftfy 6.3.1).
size_t ftfy_upper_entity_count();

// kFtfy: the Python runtime's default path (ftfy installed); kFtfyWithoutEncodingFix: ftfy
// without its mojibake repair; kFallback: tokenizer.py's _fallback_fix (ftfy not importable).
enum class Cleaning { kFtfy, kFtfyWithoutEncodingFix, kFallback };

// tokenizer.py's _clean: fix, html.unescape twice, strip, collapse whitespace, lower().
std::u32string clean_text(std::u32string_view text, Cleaning cleaning = Cleaning::kFtfy);

}  // namespace frozenseg::text
