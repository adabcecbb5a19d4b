#include "common/zip.hpp"

#include <zlib.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "common/error.hpp"

namespace frozenseg {
namespace {

constexpr std::uint64_t kZip32Max = 0xFFFFFFFFu;  // a 32-bit field's "see the ZIP64 record"

class LittleEndian {
 public:
  explicit LittleEndian(std::string& out) : out_(out) {}
  LittleEndian& u16(std::uint64_t v) { return put(v, 2); }
  LittleEndian& u32(std::uint64_t v) { return put(v, 4); }
  LittleEndian& u64(std::uint64_t v) { return put(v, 8); }
  LittleEndian& bytes(std::string_view s) {
    out_ += s;
    return *this;
  }

 private:
  LittleEndian& put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return *this;
  }
  std::string& out_;
};

std::uint64_t get(std::string_view b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

std::string deflate_raw(std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error(FS_OUT_OF_MEMORY, "zlib could not start a deflate stream");
  std::string out(deflateBound(&z, data.size()) + 16, '\0');
  std::size_t in_at = 0, out_at = 0;
  int status = Z_OK;
  constexpr std::size_t kStep = 1u << 30;  // zlib counts in 32-bit units
  while (status != Z_STREAM_END) {
    const std::size_t in_left = data.size() - in_at;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_at));
    z.avail_in = static_cast<uInt>(std::min(in_left, kStep));
    if (out.size() - out_at < 64) out.resize(out.size() * 2);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + out_at);
    z.avail_out = static_cast<uInt>(std::min(out.size() - out_at, kStep));
    const uInt in_before = z.avail_in, out_before = z.avail_out;
    status = deflate(&z, in_left <= kStep ? Z_FINISH : Z_NO_FLUSH);
    in_at += in_before - z.avail_in;
    out_at += out_before - z.avail_out;
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
      deflateEnd(&z);
      throw Error(FS_INTERNAL_ERROR, "zlib deflate failed with status " + std::to_string(status));
    }
  }
  deflateEnd(&z);
  out.resize(out_at);
  return out;
}

// Deflate expands one byte into at most 1032 (zlib's documented maximum ratio, 258-byte matches
// in 2 bits): a larger declared size is a damaged or hostile header, refused before allocating it.
constexpr std::uint64_t kMaxInflateRatio = 1032;

std::optional<std::string> inflate_raw(std::string_view data, size_t expected) {
  if (expected / kMaxInflateRatio > data.size()) return std::nullopt;
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

// MS-DOS time and date of now, local time (as Python's zipfile).
std::pair<std::uint32_t, std::uint32_t> dos_now() {
  const std::time_t now = std::time(nullptr);
  std::tm t{};
  localtime_r(&now, &t);
  const std::uint32_t time = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec / 2);
  const std::uint32_t date = (std::max(t.tm_year - 80, 0) << 9) | ((t.tm_mon + 1) << 5) | t.tm_mday;
  return {time, date};
}

}  // namespace

std::uint32_t crc32_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t at = 0; at < data.size();) {  // zlib takes 32-bit lengths
    const std::size_t n = std::min<std::size_t>(data.size() - at, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + at), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<std::uint32_t>(crc);
}

std::string write_zip(const std::vector<ZipMember>& members, ZipMethod method) {
  struct Written {
    std::uint32_t crc;
    std::uint64_t size, compressed, offset;
  };
  const bool stored = method == ZipMethod::stored;
  const auto [dos_time, dos_date] = stored ? std::pair<std::uint32_t, std::uint32_t>{0, 0x21} : dos_now();
  std::string out;
  LittleEndian w(out);
  std::vector<Written> written;
  for (const ZipMember& m : members) {
    if (m.name.size() > 0xFFFF) fail_argument("write_zip: member name '" + m.name.substr(0, 64) + "...' is too long");
    const std::string packed = stored ? std::string() : deflate_raw(m.data);
    const std::string_view body = stored ? std::string_view(m.data) : std::string_view(packed);
    const Written info{crc32_of(m.data), m.data.size(), body.size(), out.size()};
    // Local header with ZIP64 sizes, as numpy's zipfile.open(..., force_zip64=True).
    w.u32(0x04034b50).u16(45).u16(0).u16(stored ? 0 : 8).u16(dos_time).u16(dos_date).u32(info.crc)
        .u32(kZip32Max).u32(kZip32Max).u16(m.name.size()).u16(20).bytes(m.name)
        .u16(0x0001).u16(16).u64(info.size).u64(info.compressed).bytes(body);
    written.push_back(info);
  }
  const std::uint64_t directory_offset = out.size();
  for (std::size_t i = 0; i < members.size(); ++i) {
    const Written& info = written[i];
    const bool big_size = info.size >= kZip32Max || info.compressed >= kZip32Max;
    const bool big_offset = info.offset >= kZip32Max;
    std::string extra;
    LittleEndian x(extra);
    if (big_size) x.u64(info.size).u64(info.compressed);
    if (big_offset) x.u64(info.offset);
    const bool zip64 = !extra.empty();
    // Versions as each writer has always written them: 4.5 for stored members (their local
    // headers' ZIP64), 2.0 for deflated ones unless the central record needs ZIP64.
    const std::uint32_t version = zip64 || stored ? 45 : 20;
    w.u32(0x02014b50).u16((3 << 8) | version).u16(version).u16(0).u16(stored ? 0 : 8)
        .u16(dos_time).u16(dos_date).u32(info.crc)
        .u32(big_size ? kZip32Max : info.compressed).u32(big_size ? kZip32Max : info.size)
        .u16(members[i].name.size()).u16(zip64 ? extra.size() + 4 : 0).u16(0).u16(0).u16(0)
        .u32(0600u << 16).u32(big_offset ? kZip32Max : info.offset).bytes(members[i].name);
    if (zip64) w.u16(0x0001).u16(extra.size()).bytes(extra);
  }
  const std::uint64_t directory_size = out.size() - directory_offset;
  const std::uint64_t count = members.size();
  if (count >= 0xFFFF || directory_offset >= kZip32Max || directory_size >= kZip32Max) {
    const std::uint64_t record_offset = out.size();
    w.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(count).u64(count)
        .u64(directory_size).u64(directory_offset);
    w.u32(0x07064b50).u32(0).u64(record_offset).u32(1);
    w.u32(0x06054b50).u16(0).u16(0).u16(0xFFFF).u16(0xFFFF).u32(kZip32Max).u32(kZip32Max).u16(0);
  } else {
    w.u32(0x06054b50).u16(0).u16(0).u16(count).u16(count).u32(directory_size)
        .u32(directory_offset).u16(0);
  }
  return out;
}

std::optional<std::vector<ZipMember>> read_zip(std::string_view b) {
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
    if (b.size() < 56 || z64 > b.size() - 56 || get(b, z64, 4) != 0x06064b50) return std::nullopt;
    entries = get(b, z64 + 32, 8);
    cd_size = get(b, z64 + 40, 8);
    cd_offset = get(b, z64 + 48, 8);
  }
  if (cd_offset > b.size() || cd_size > b.size() - cd_offset) return std::nullopt;
  std::vector<ZipMember> out;
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
          if (*field != kZip32Max) continue;
          if (f + 8 > x + 4 + len) return std::nullopt;
          *field = get(b, f, 8);
          f += 8;
        }
      }
      x += 4 + len;
    }
    at += 46 + nlen + xlen + clen;
    if (flags & 0x1) return std::nullopt;  // encrypted
    // offset may be any 64-bit value (ZIP64): compared without adding to it, which could wrap.
    if (offset > b.size() || b.size() - offset < 30 || get(b, offset, 4) != 0x04034b50) return std::nullopt;
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
    out.push_back({name, std::move(*data)});
  }
  return out;
}

}  // namespace frozenseg
