// The tokenizer's text cleaning on any valid UTF-8 (what a Python str can hold; invalid bytes are
// refused by decode_utf8 first): ftfy's fix_text port with and without its mojibake repair (which
// runs the pyregex patterns), the no-ftfy fallback, and both HTML unescapers.
#include "fuzz_support.hpp"
#include "text/html_unescape.hpp"
#include "text/text_fixer.hpp"
#include "text/unicode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frozenseg::text;
  return frozenseg::fuzz::run([&] {
    const std::u32string text = decode_utf8(frozenseg::fuzz::as_text(data, size));
    (void)clean_text(text, Cleaning::kFtfy);
    (void)clean_text(text, Cleaning::kFtfyWithoutEncodingFix);
    (void)clean_text(text, Cleaning::kFallback);
    (void)html_unescape(text);
    (void)ftfy_unescape_html(text);
  });
}
