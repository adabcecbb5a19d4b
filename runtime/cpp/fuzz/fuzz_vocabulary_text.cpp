// text::parse_vocabulary on a string, as fs_segmenter_set_vocabulary_text receives it: JSON text,
// comma-separated names, or (refused here when absent) a relative file name. Inputs with a '/' or
// a leading '~' are skipped: they name files anywhere on this machine (the file format has its own
// target, fuzz_vocabulary_file); a bare name ('vocabulary.txt') is looked up in the working folder.
#include "fuzz_support.hpp"
#include "text/vocabulary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view source = frozenseg::fuzz::as_text(data, size);
  if (source.find('/') != std::string_view::npos || source.starts_with('~')) return 0;
  return frozenseg::fuzz::run([&] { (void)frozenseg::text::parse_vocabulary(source); });
}
