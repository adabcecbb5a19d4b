// text::parse_vocabulary_file on the input written as a file: the official 'ID:name,synonym'
// text format (vocabulary.txt) and the library's own JSON decoding (vocabulary.json).
#include "fuzz_support.hpp"
#include "text/vocabulary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const char* name : {"vocabulary.txt", "vocabulary.json"}) {
    const auto path = frozenseg::fuzz::scratch_dir() / name;
    frozenseg::fuzz::write_file(path, data, size);
    frozenseg::fuzz::run([&] { (void)frozenseg::text::parse_vocabulary_file(path); });
  }
  return 0;
}
