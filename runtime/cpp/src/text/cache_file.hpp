// The vocabulary cache's file: what np.savez(path, rows=rows, key=np.array(key)) writes, byte for
// byte (rows.npy: float32 (N, E); key.npy: the vocabulary key as a 0-d '<U64' array), and what
// np.load gives back from such a file, written by either runtime.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "text/embedding.hpp"

namespace frozenseg::text {

std::string cache_file_bytes(const FloatMatrix& rows, const std::string& key);

struct CacheFile {
  FloatMatrix rows;
  std::string key;
};
// nullopt for anything np.load would not give back as (2-d float rows, one-string key): not a
// ZIP, a bad member, other dtypes (rows may be float32 or float64, either byte order, C or
// Fortran order, stored or deflated).
std::optional<CacheFile> parse_cache_file(std::string_view bytes);

}  // namespace frozenseg::text
