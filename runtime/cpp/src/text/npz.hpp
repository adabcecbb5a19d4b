// The vocabulary cache's file format: the .npz archive np.savez makes of .npy members
// (common/npy.hpp) (an uncompressed ZIP whose members carry ZIP64
// extra fields, dated 1980-01-01). write_* produce the bytes numpy produces; read_* accept what
// np.load accepts for the cache (stored or deflated members) and return nullopt for anything
// unreadable, never throwing on bad bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/npy.hpp"

namespace frozenseg::text {

// np.savez's archive of (member name, bytes), in order ("rows.npy", ...).
std::string write_zip(const std::vector<std::pair<std::string, std::string>>& members);
// Members of a ZIP archive by name; nullopt when the bytes are not a readable ZIP (bad
// structure, unsupported method, CRC mismatch).
std::optional<std::vector<std::pair<std::string, std::string>>> read_zip(std::string_view bytes);

}  // namespace frozenseg::text
