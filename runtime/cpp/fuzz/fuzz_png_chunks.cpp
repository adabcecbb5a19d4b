// The PNG chunk walk (checksums before IDAT, eXIf, the "Raw profile type exif" text chunks,
// zTXt/iTXt inflation, XMP) and the orientation it finds, without libpng's decoding.
#include <cstring>

#include "fuzz_support.hpp"
#include "image/png_chunks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frozenseg::image;
  const detail::DecodeContext context{"from the fuzzer", 512 * 512};
  return frozenseg::fuzz::run([&] {
    const detail::PngChunkScan scan = detail::scan_png_chunks(frozenseg::fuzz::as_bytes(data, size), context);
    RgbImage image(2, 3);
    std::memset(image.data(), 7, image.size_bytes());
    (void)detail::orient(std::move(image), scan.orientation, context);
  });
}
