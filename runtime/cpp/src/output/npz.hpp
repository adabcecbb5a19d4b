// numpy's .npz format as np.savez_compressed writes it: each array an .npy entry (common/npy.hpp)
// of a deflated ZIP whose local headers carry ZIP64
// sizes (numpy forces ZIP64 there); ZIP64 central records only where sizes or offsets need them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace frozenseg::output {

struct ZipEntry {
  std::string name;
  std::vector<std::uint8_t> data;  // uncompressed
};
// A ZIP of the entries, each deflated (zlib's default level), stamped with the local time.
std::vector<std::uint8_t> zip_deflated(const std::vector<ZipEntry>& entries);

}  // namespace frozenseg::output
