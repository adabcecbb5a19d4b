// read_npy: a .npy header (its Python-literal dict) and data. Never throws on bad bytes; an array
// it returns holds as many bytes as its shape and dtype say.
#include "common/npy.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)frozenseg::read_npy(frozenseg::fuzz::as_text(data, size));
  return 0;
}
