#include "common/npy.hpp"

#include <cctype>
#include <cstdint>
#include <limits>

#include "common/error.hpp"

namespace frozenseg {
namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kArrayAlign = 64;          // numpy.lib.format.ARRAY_ALIGN
constexpr size_t kGrowthAxisMaxDigits = 21;  // numpy.lib.format.GROWTH_AXIS_MAX_DIGITS

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
uint64_t get(std::string_view b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

std::string shape_repr(const std::vector<size_t>& shape) {
  if (shape.empty()) return "()";
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

// Bytes per element of a simple numpy dtype string ("<f4", "<U64", "|b1", "?"); 0 if unknown.
size_t item_size(const std::string& descr) {
  if (descr.empty()) return 0;
  size_t i = (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=') ? 1 : 0;
  if (i >= descr.size()) return 0;
  const char kind = descr[i++];
  if (kind == '?' && i == descr.size()) return 1;
  if (i >= descr.size()) return 0;
  size_t n = 0;
  for (; i < descr.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(descr[i])) || n > (1u << 24)) return 0;
    n = n * 10 + static_cast<size_t>(descr[i] - '0');
  }
  switch (kind) {
    case 'f': case 'i': case 'u': case 'b': case 'S': case 'c': return n;
    case 'U': return 4 * n;
    default: return 0;
  }
}

// A tiny reader of the header's Python dict literal.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  std::optional<NpyArray> parse() {
    NpyArray out;
    bool have_descr = false, have_order = false, have_shape = false;
    if (!eat('{')) return std::nullopt;
    while (true) {
      skip();
      if (eat('}')) break;
      const auto key = string();
      if (!key || !eat(':')) return std::nullopt;
      skip();
      if (*key == "descr" && !have_descr) {
        const auto d = string();
        if (!d) return std::nullopt;
        out.descr = *d;
        have_descr = true;
      } else if (*key == "fortran_order" && !have_order) {
        if (word("True")) {
          out.fortran_order = true;
        } else if (!word("False")) {
          return std::nullopt;
        }
        have_order = true;
      } else if (*key == "shape" && !have_shape) {
        if (!eat('(')) return std::nullopt;
        while (true) {
          skip();
          if (eat(')')) break;
          size_t n = 0, digits = 0;
          while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
            if (n > std::numeric_limits<size_t>::max() / 10 - 10) return std::nullopt;
            n = n * 10 + static_cast<size_t>(s_[pos_++] - '0');
            ++digits;
          }
          if (digits == 0) return std::nullopt;
          out.shape.push_back(n);
          skip();
          if (!eat(',')) {
            if (!eat(')')) return std::nullopt;
            break;
          }
        }
        have_shape = true;
      } else {
        return std::nullopt;  // numpy refuses other keys
      }
      skip();
      if (!eat(',')) {
        if (!eat('}')) return std::nullopt;
        break;
      }
    }
    if (!have_descr || !have_order || !have_shape) return std::nullopt;
    return out;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  std::optional<std::string> string() {
    skip();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return std::nullopt;
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) return std::nullopt;
    std::string out(s_.substr(pos_, end - pos_));
    if (out.find('\\') != std::string::npos) return std::nullopt;
    pos_ = end + 1;
    return out;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string write_npy(const NpyArray& array) {
  std::string header = "{'descr': '" + array.descr + "', 'fortran_order': " +
                       (array.fortran_order ? "True" : "False") + ", 'shape': " +
                       shape_repr(array.shape) + ", }";
  if (!array.shape.empty()) {  // spare room to grow the first axis in place (numpy >= 2)
    const size_t digits = std::to_string(array.shape[array.fortran_order ? array.shape.size() - 1 : 0]).size();
    header += std::string(kGrowthAxisMaxDigits - digits, ' ');
  }
  const size_t hlen = header.size() + 1;
  const size_t padlen = kArrayAlign - ((sizeof(kNpyMagic) - 1 + 2 + 2 + hlen) % kArrayAlign);
  if (hlen + padlen > 0xFFFF) fail_argument("write_npy: header too long for format 1.0");
  std::string out(kNpyMagic, sizeof(kNpyMagic) - 1);
  out.push_back('\x01');
  out.push_back('\x00');
  put16(out, static_cast<uint16_t>(hlen + padlen));
  out += header;
  out.append(padlen, ' ');
  out.push_back('\n');
  out += array.data;
  return out;
}

std::optional<NpyArray> read_npy(std::string_view bytes) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view(kNpyMagic, 6)) return std::nullopt;
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, start;
  if (major == 1) {
    header_len = get(bytes, 8, 2);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return std::nullopt;
    header_len = get(bytes, 8, 4);
    start = 12;
  } else {
    return std::nullopt;
  }
  if (bytes.size() - start < header_len) return std::nullopt;
  auto array = HeaderParser(bytes.substr(start, header_len)).parse();
  if (!array) return std::nullopt;
  const size_t size = item_size(array->descr);
  if (size == 0) return std::nullopt;
  size_t count = 1;
  for (size_t d : array->shape) {
    if (d != 0 && count > std::numeric_limits<size_t>::max() / d / size) return std::nullopt;
    count *= d;
  }
  const size_t data_start = start + header_len;
  if (bytes.size() - data_start < count * size) return std::nullopt;
  array->data = std::string(bytes.substr(data_start, count * size));
  return array;
}

}  // namespace frozenseg
