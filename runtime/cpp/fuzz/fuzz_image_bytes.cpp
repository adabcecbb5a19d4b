// image::load_image_bytes: PNG (libpng, the chunk walk, EXIF/XMP) and JPEG (libjpeg, APP1/APP13)
// from untrusted bytes. A small pixel limit makes huge declared sizes a quick refusal on the
// header, as the limit is meant to.
#include "fuzz_support.hpp"
#include "image/loading.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  frozenseg::image::LoadOptions options;
  options.max_pixels = 512 * 512;
  return frozenseg::fuzz::run([&] { frozenseg::image::load_image_bytes(frozenseg::fuzz::as_bytes(data, size), options); });
}
