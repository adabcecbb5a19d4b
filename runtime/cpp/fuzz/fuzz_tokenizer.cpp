// ClipTokenizer on arbitrary bytes: UTF-8 validation, ftfy's cleaning, the word split, BPE, and
// the padded matrix with its context-length check.
#include "fuzz_support.hpp"
#include "text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const frozenseg::text::ClipTokenizer tokenizer;
  const std::string text(frozenseg::fuzz::as_text(data, size));
  frozenseg::fuzz::run([&] { (void)tokenizer.encode(text); });
  frozenseg::fuzz::run([&] { (void)tokenizer({text}); });
  return 0;
}
