// numpy's .npy and .npz formats, as np.savez_compressed writes them: each array an .npy entry
// (format 1.0, header padded to 64 bytes) of a deflated ZIP whose local headers carry ZIP64
// sizes (numpy forces ZIP64 there); ZIP64 central records only where sizes or offsets need them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace frozenseg::output {

// An .npy file of C-order data; descr is numpy's dtype string ("|b1", "<f4", "<i8").
std::vector<std::uint8_t> npy_bytes(std::string_view descr, const std::vector<std::int64_t>& shape,
                                    std::span<const std::uint8_t> data);

struct ZipEntry {
  std::string name;
  std::vector<std::uint8_t> data;  // uncompressed
};
// A ZIP of the entries, each deflated (zlib's default level), stamped with the local time.
std::vector<std::uint8_t> zip_deflated(const std::vector<ZipEntry>& entries);

}  // namespace frozenseg::output
