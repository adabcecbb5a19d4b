#include "output/npz.hpp"

#include <zlib.h>

#include <algorithm>
#include <ctime>
#include <limits>

#include "common/error.hpp"

namespace frozenseg::output {

namespace {

class LittleEndian {
 public:
  explicit LittleEndian(std::vector<std::uint8_t>& out) : out_(out) {}
  LittleEndian& u16(std::uint32_t v) { return put(v, 2); }
  LittleEndian& u32(std::uint64_t v) { return put(v, 4); }
  LittleEndian& u64(std::uint64_t v) { return put(v, 8); }
  LittleEndian& bytes(std::string_view s) {
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }

 private:
  LittleEndian& put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  std::vector<std::uint8_t>& out_;
};

std::vector<std::uint8_t> deflate_raw(const std::vector<std::uint8_t>& data) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error(FS_OUT_OF_MEMORY, "zlib could not start a deflate stream");
  std::vector<std::uint8_t> out(deflateBound(&z, data.size()) + 16);
  std::size_t in_at = 0, out_at = 0;
  int status = Z_OK;
  constexpr std::size_t kStep = 1u << 30;  // zlib counts in 32-bit units
  while (status != Z_STREAM_END) {
    const std::size_t in_left = data.size() - in_at;
    z.next_in = const_cast<Bytef*>(data.data() + in_at);
    z.avail_in = static_cast<uInt>(std::min(in_left, kStep));
    if (out.size() - out_at < 64) out.resize(out.size() * 2);
    z.next_out = out.data() + out_at;
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

std::uint32_t crc_of(const std::vector<std::uint8_t>& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t at = 0; at < data.size();) {
    const std::size_t n = std::min<std::size_t>(data.size() - at, 1u << 30);
    crc = crc32(crc, data.data() + at, static_cast<uInt>(n));
    at += n;
  }
  return static_cast<std::uint32_t>(crc);
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

constexpr std::uint64_t kZip32Max = 0xFFFFFFFFu;

}  // namespace

std::vector<std::uint8_t> zip_deflated(const std::vector<ZipEntry>& entries) {
  struct Written {
    std::uint32_t crc;
    std::uint64_t size, compressed, offset;
  };
  const auto [dos_time, dos_date] = dos_now();
  std::vector<std::uint8_t> out;
  LittleEndian w(out);
  std::vector<Written> written;
  for (const ZipEntry& e : entries) {
    const std::vector<std::uint8_t> packed = deflate_raw(e.data);
    const Written info{crc_of(e.data), e.data.size(), packed.size(), out.size()};
    // Local header with ZIP64 sizes, as numpy's zipfile.open(..., force_zip64=True).
    w.u32(0x04034b50).u16(45).u16(0).u16(8).u16(dos_time).u16(dos_date).u32(info.crc)
        .u32(kZip32Max).u32(kZip32Max).u16(e.name.size()).u16(20).bytes(e.name)
        .u16(0x0001).u16(16).u64(info.size).u64(info.compressed);
    out.insert(out.end(), packed.begin(), packed.end());
    written.push_back(info);
  }
  const std::uint64_t directory_offset = out.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Written& info = written[i];
    const bool big_size = info.size >= kZip32Max || info.compressed >= kZip32Max;
    const bool big_offset = info.offset >= kZip32Max;
    std::vector<std::uint8_t> extra;
    LittleEndian x(extra);
    if (big_size) x.u64(info.size).u64(info.compressed);
    if (big_offset) x.u64(info.offset);
    const bool zip64 = !extra.empty();
    w.u32(0x02014b50).u16((3 << 8) | (zip64 ? 45 : 20)).u16(zip64 ? 45 : 20).u16(0).u16(8)
        .u16(dos_time).u16(dos_date).u32(info.crc)
        .u32(big_size ? kZip32Max : info.compressed).u32(big_size ? kZip32Max : info.size)
        .u16(entries[i].name.size()).u16(zip64 ? extra.size() + 4 : 0).u16(0).u16(0).u16(0)
        .u32(0600u << 16).u32(big_offset ? kZip32Max : info.offset).bytes(entries[i].name);
    if (zip64) {
      w.u16(0x0001).u16(extra.size());
      out.insert(out.end(), extra.begin(), extra.end());
    }
  }
  const std::uint64_t directory_size = out.size() - directory_offset;
  const std::uint64_t count = entries.size();
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

}  // namespace frozenseg::output
