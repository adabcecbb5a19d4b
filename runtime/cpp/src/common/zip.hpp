// The ZIP archives numpy's .npz files are: np.savez (members stored) and np.savez_compressed
// (members deflated), each member an .npy file (common/npy.hpp). One writer and one reader for the
// vocabulary cache (text/cache_file) and the instance results (output/files).
//
// write_zip produces numpy's bytes: local headers carry ZIP64 sizes (numpy opens each member with
// force_zip64), the central directory and its end carry ZIP64 records only where sizes, offsets or
// the member count need them. read_zip accepts what np.load accepts (stored or deflated members,
// ZIP64 or not) and returns nullopt for anything unreadable, never throwing on bad bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frozenseg {

struct ZipMember {
  std::string name;  // "rows.npy", ...
  std::string data;  // uncompressed bytes
};

enum class ZipMethod {
  stored,    // np.savez: members as they are, dated 1980-01-01 00:00 (the vocabulary cache)
  deflated,  // np.savez_compressed: zlib's default level, stamped with the local time (results)
};

// The archive of the members, in order. Throws frozenseg::Error(FS_OUT_OF_MEMORY) when zlib cannot
// start, FS_INTERNAL_ERROR when it fails.
std::string write_zip(const std::vector<ZipMember>& members, ZipMethod method);

// The members by name, in central-directory order; nullopt when the bytes are not a readable ZIP
// (bad structure, unsupported method, encryption, CRC mismatch).
std::optional<std::vector<ZipMember>> read_zip(std::string_view bytes);

// zlib's CRC-32 of any length.
std::uint32_t crc32_of(std::string_view data);

}  // namespace frozenseg
