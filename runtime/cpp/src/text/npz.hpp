// The two file formats of the vocabulary cache: numpy's .npy (format 1.0, as numpy 2 writes it)
// and the .npz archive np.savez makes of them (an uncompressed ZIP whose members carry ZIP64
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

namespace frozenseg::text {

struct NpyArray {
  std::string descr;            // numpy dtype string, e.g. "<f4", "<U64"
  bool fortran_order = false;
  std::vector<size_t> shape;    // () for a 0-d array
  std::string data;             // raw element bytes
};

// numpy.lib.format.write_array's bytes for a C-order array (descr and shape as given).
std::string write_npy(const NpyArray& array);
std::optional<NpyArray> read_npy(std::string_view bytes);

// np.savez's archive of (member name, bytes), in order ("rows.npy", ...).
std::string write_zip(const std::vector<std::pair<std::string, std::string>>& members);
// Members of a ZIP archive by name; nullopt when the bytes are not a readable ZIP (bad
// structure, unsupported method, CRC mismatch).
std::optional<std::vector<std::pair<std::string, std::string>>> read_zip(std::string_view bytes);

}  // namespace frozenseg::text
