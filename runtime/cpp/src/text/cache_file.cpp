#include "text/cache_file.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/error.hpp"
#include "common/npy.hpp"
#include "common/zip.hpp"
#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

bool is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

template <typename T>
T load(const char* p, bool swap) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

std::optional<std::string> decode_key(const NpyArray& key) {
  if (key.descr.size() < 3 || (key.descr[0] != '<' && key.descr[0] != '>') || key.descr[1] != 'U') {
    return std::nullopt;
  }
  size_t count = 1;
  for (size_t d : key.shape) count *= d;
  if (count != 1) return std::nullopt;  // .item() needs exactly one element
  const bool swap = (key.descr[0] == '<') != is_little_endian();
  std::u32string text;
  for (size_t at = 0; at + 4 <= key.data.size(); at += 4) {
    const char32_t c = load<char32_t>(key.data.data() + at, swap);
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return std::nullopt;
    text.push_back(c);
  }
  while (!text.empty() && text.back() == 0) text.pop_back();  // numpy strips trailing NULs
  return encode_utf8(text);
}

std::optional<FloatMatrix> decode_rows(const NpyArray& rows) {
  if (rows.shape.size() != 2 || rows.descr.size() != 3) return std::nullopt;
  const char order = rows.descr[0];
  if (order != '<' && order != '>' && order != '=') return std::nullopt;
  const bool swap = order != '=' && (order == '<') != is_little_endian();
  const std::string kind = rows.descr.substr(1);
  if (kind != "f4" && kind != "f8") return std::nullopt;
  FloatMatrix out;
  out.rows = rows.shape[0];
  out.cols = rows.shape[1];
  out.data.resize(out.rows * out.cols);
  const size_t size = kind == "f4" ? 4 : 8;
  for (size_t r = 0; r < out.rows; ++r) {
    for (size_t c = 0; c < out.cols; ++c) {
      const size_t source = rows.fortran_order ? c * out.rows + r : r * out.cols + c;
      const char* p = rows.data.data() + source * size;
      out.data[r * out.cols + c] =
          size == 4 ? load<float>(p, swap) : static_cast<float>(load<double>(p, swap));
    }
  }
  return out;
}

const std::string* member(const std::vector<ZipMember>& members,
                          const std::string& name) {
  // NpzFile.__getitem__: a member of exactly that name first, then name + ".npy".
  for (const auto& [n, data] : members) {
    if (n == name) return &data;
  }
  for (const auto& [n, data] : members) {
    if (n == name + ".npy") return &data;
  }
  return nullptr;
}

}  // namespace

std::string cache_file_bytes(const FloatMatrix& rows, const std::string& key) {
  NpyArray r;
  r.descr = is_little_endian() ? "<f4" : ">f4";
  r.shape = {rows.rows, rows.cols};
  r.data.assign(reinterpret_cast<const char*>(rows.data.data()), rows.data.size() * sizeof(float));
  NpyArray k;
  const std::u32string text = decode_utf8(key);
  k.descr = (is_little_endian() ? "<U" : ">U") + std::to_string(text.size());
  k.data.assign(reinterpret_cast<const char*>(text.data()), text.size() * sizeof(char32_t));
  std::vector<ZipMember> members = {{"rows.npy", write_npy(r)}, {"key.npy", write_npy(k)}};
  // np.savez's archive without ZIP64 records: the cache's readers need no more than 4 GiB.
  std::uint64_t total = 22;
  for (const ZipMember& m : members) total += 30 + 20 + 46 + 2 * m.name.size() + m.data.size();
  if (total >= 0xFFFFFFFFu) fail_argument("write_zip: the vocabulary cache file would exceed 4 GiB");
  return write_zip(members, ZipMethod::stored);
}

std::optional<CacheFile> parse_cache_file(std::string_view bytes) {
  // np.load opens ZIP archives only by their first bytes.
  if (bytes.substr(0, 4) != std::string_view("PK\x03\x04", 4) &&
      bytes.substr(0, 4) != std::string_view("PK\x05\x06", 4)) {
    return std::nullopt;
  }
  const auto members = read_zip(bytes);
  if (!members) return std::nullopt;
  const std::string* rows_bytes = member(*members, "rows");
  const std::string* key_bytes = member(*members, "key");
  if (rows_bytes == nullptr || key_bytes == nullptr) return std::nullopt;
  const auto rows = read_npy(*rows_bytes);
  const auto key = read_npy(*key_bytes);
  if (!rows || !key) return std::nullopt;
  auto key_text = decode_key(*key);
  auto matrix = decode_rows(*rows);
  if (!key_text || !matrix) return std::nullopt;
  return CacheFile{std::move(*matrix), std::move(*key_text)};
}

}  // namespace frozenseg::text
