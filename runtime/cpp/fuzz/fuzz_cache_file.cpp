// text::parse_cache_file: a vocabulary cache file (np.savez of rows and key) read back from the
// cache folder, which any process of the user may have written. Never throws on bad bytes.
#include "fuzz_support.hpp"
#include "text/cache_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = frozenseg::text::parse_cache_file(frozenseg::fuzz::as_text(data, size));
  if (parsed && parsed->rows.rows * parsed->rows.cols != parsed->rows.data.size()) std::abort();
  return 0;
}
