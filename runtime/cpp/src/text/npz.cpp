#include "text/npz.hpp"

#include <zlib.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/error.hpp"

namespace frozenseg::text {
namespace {

constexpr uint32_t kZip64Marker = 0xFFFFFFFFu;

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint64_t get(std::string_view b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

uint32_t crc32_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t done = 0;
  while (done < data.size()) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(data.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + done), chunk);
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::optional<std::string> inflate_raw(std::string_view data, size_t expected) {
  std::string out(expected, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return std::nullopt;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool ok = rc == Z_STREAM_END && z.total_out == expected;
  inflateEnd(&z);
  if (!ok) return std::nullopt;
  return out;
}


}  // namespace

std::string write_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, central;
  for (const auto& [name, data] : members) {
    const uint64_t offset = out.size();
    if (offset >= kZip64Marker || data.size() >= kZip64Marker || name.size() > 0xFFFF) {
      fail_argument("write_zip: the vocabulary cache file would exceed 4 GiB");
    }
    const uint32_t crc = crc32_of(data);
    // Local header as zipfile writes it with force_zip64=True (numpy's savez).
    put32(out, 0x04034b50);
    put16(out, 45);  // version needed: ZIP64
    put16(out, 0);   // flags
    put16(out, 0);   // stored
    put16(out, 0);   // time 00:00:00
    put16(out, 0x21);  // date 1980-01-01
    put32(out, crc);
    put32(out, kZip64Marker);
    put32(out, kZip64Marker);
    put16(out, static_cast<uint16_t>(name.size()));
    put16(out, 20);
    out += name;
    put16(out, 0x0001);  // ZIP64 extra: uncompressed and compressed sizes
    put16(out, 16);
    put64(out, data.size());
    put64(out, data.size());
    out += data;
    // Central directory entry (sizes fit 32 bits: no ZIP64 extra there).
    put32(central, 0x02014b50);
    put16(central, 0x032d);  // made by: Unix, version 4.5
    put16(central, 45);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, crc);
    put32(central, static_cast<uint32_t>(data.size()));
    put32(central, static_cast<uint32_t>(data.size()));
    put16(central, static_cast<uint16_t>(name.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0600u << 16);  // -rw-------
    put32(central, static_cast<uint32_t>(offset));
    central += name;
  }
  const uint64_t central_offset = out.size();
  if (central_offset + central.size() >= kZip64Marker) {
    fail_argument("write_zip: the vocabulary cache file would exceed 4 GiB");
  }
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint16_t>(members.size()));
  put16(out, static_cast<uint16_t>(members.size()));
  put32(out, static_cast<uint32_t>(central.size()));
  put32(out, static_cast<uint32_t>(central_offset));
  put16(out, 0);
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> read_zip(std::string_view b) {
  if (b.size() < 22) return std::nullopt;
  // End of central directory: the last signature within the final 64 KiB + 22 bytes.
  size_t eocd = std::string_view::npos;
  const size_t lowest = b.size() > 22 + 0xFFFF ? b.size() - 22 - 0xFFFF : 0;
  for (size_t at = b.size() - 22 + 1; at-- > lowest;) {
    if (get(b, at, 4) == 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string_view::npos) return std::nullopt;
  uint64_t entries = get(b, eocd + 10, 2);
  uint64_t cd_size = get(b, eocd + 12, 4);
  uint64_t cd_offset = get(b, eocd + 16, 4);
  if (eocd >= 20 && get(b, eocd - 20, 4) == 0x07064b50) {  // ZIP64 end of central directory
    const uint64_t z64 = get(b, eocd - 20 + 8, 8);
    if (z64 > b.size() - 56 || get(b, z64, 4) != 0x06064b50) return std::nullopt;
    entries = get(b, z64 + 32, 8);
    cd_size = get(b, z64 + 40, 8);
    cd_offset = get(b, z64 + 48, 8);
  }
  if (cd_offset > b.size() || cd_size > b.size() - cd_offset) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  size_t at = cd_offset;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + 46 > b.size() || get(b, at, 4) != 0x02014b50) return std::nullopt;
    const uint64_t flags = get(b, at + 8, 2);
    const uint64_t method = get(b, at + 10, 2);
    const uint32_t crc = static_cast<uint32_t>(get(b, at + 16, 4));
    uint64_t csize = get(b, at + 20, 4);
    uint64_t usize = get(b, at + 24, 4);
    const size_t nlen = get(b, at + 28, 2), xlen = get(b, at + 30, 2), clen = get(b, at + 32, 2);
    uint64_t offset = get(b, at + 42, 4);
    if (at + 46 + nlen + xlen + clen > b.size()) return std::nullopt;
    const std::string name(b.substr(at + 46, nlen));
    // ZIP64 extra field: the 64-bit values of the fields marked 0xFFFFFFFF, in order.
    for (size_t x = at + 46 + nlen; x + 4 <= at + 46 + nlen + xlen;) {
      const uint64_t id = get(b, x, 2), len = get(b, x + 2, 2);
      if (x + 4 + len > at + 46 + nlen + xlen) return std::nullopt;
      if (id == 0x0001) {
        size_t f = x + 4;
        for (uint64_t* field : {&usize, &csize, &offset}) {
          if (*field != kZip64Marker) continue;
          if (f + 8 > x + 4 + len) return std::nullopt;
          *field = get(b, f, 8);
          f += 8;
        }
      }
      x += 4 + len;
    }
    at += 46 + nlen + xlen + clen;
    if (flags & 0x1) return std::nullopt;  // encrypted
    if (offset + 30 > b.size() || get(b, offset, 4) != 0x04034b50) return std::nullopt;
    const size_t data_at = offset + 30 + get(b, offset + 26, 2) + get(b, offset + 28, 2);
    if (data_at > b.size() || csize > b.size() - data_at) return std::nullopt;
    const std::string_view stored = b.substr(data_at, csize);
    std::optional<std::string> data;
    if (method == 0 && csize == usize) {
      data = std::string(stored);
    } else if (method == 8 && usize < (uint64_t{1} << 32)) {
      data = inflate_raw(stored, usize);
    }
    if (!data || crc32_of(*data) != crc) return std::nullopt;
    out.emplace_back(name, std::move(*data));
  }
  return out;
}

}  // namespace frozenseg::text
