// read_zip (numpy's .npz: stored or deflated members, ZIP64 or not) and read_npy on each member
// it returns. Neither may throw on bad bytes: they answer nullopt.
#include "common/npy.hpp"
#include "common/zip.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto members = frozenseg::read_zip(frozenseg::fuzz::as_text(data, size));
  if (members) {
    for (const auto& member : *members) (void)frozenseg::read_npy(member.data);
  }
  return 0;
}
