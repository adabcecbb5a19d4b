// EXIF blocks (a JPEG APP1 payload or a PNG eXIf chunk) and XMP packets, as the loader reads them,
// and the orientation they give applied to a small image.
#include <cstring>

#include "fuzz_support.hpp"
#include "image/exif.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frozenseg::image;
  const auto bytes = frozenseg::fuzz::as_bytes(data, size);
  return frozenseg::fuzz::run([&] {
    const ExifInfo info = parse_exif(bytes);
    (void)xmp_orientation(bytes);
    if (info.orientation) {
      RgbImage image(2, 3);
      std::memset(image.data(), 7, image.size_bytes());
      (void)apply_orientation(std::move(image), *info.orientation);
    }
  });
}
