// numpy's .npy format 1.0, as numpy 2 writes it: write_npy produces numpy's bytes (header padded
// to 64 bytes with room for the first axis to grow), read_npy accepts what np.load accepts for
// simple dtypes and returns nullopt for anything unreadable, never throwing on bad bytes. Used by
// the vocabulary cache (text/npz) and the instance results (output/files).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frozenseg {

struct NpyArray {
  std::string descr;            // numpy dtype string, e.g. "<f4", "<U64"
  bool fortran_order = false;
  std::vector<size_t> shape;    // () for a 0-d array
  std::string data;             // raw element bytes
};

// numpy.lib.format.write_array's bytes for a C-order array (descr and shape as given).
std::string write_npy(const NpyArray& array);
std::optional<NpyArray> read_npy(std::string_view bytes);

}  // namespace frozenseg
