#include "text/ftfy_encoding.hpp"

#include <array>
#include <optional>
#include <unordered_map>
#include <vector>

#include "text/pyregex.hpp"
#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

struct FtfyPattern {
  const char* name;
  const char* pattern;
  bool bytes;
  bool verbose;
};
struct Charmap {
  const char* name;
  uint32_t byte_1a;       // what byte 0x1A decodes to (U+FFFD in the sloppy codecs)
  uint32_t high[128];     // bytes 0x80..0xFF (0: undefined, strict windows-1252 only)
};

#include "text/ftfy_encoding_tables.inc"

constexpr size_t kWindows1252 = std::size(kCharmaps) - 1;  // strict, after the tried codecs
constexpr size_t kLatin1 = 0;

// ftfy's compiled regular expressions, built once (thread-safe statics).
const PyRegex& pattern(std::string_view name) {
  static const auto table = [] {
    std::unordered_map<std::string, PyRegex> t;
    for (const FtfyPattern& p : kFtfyPatterns) {
      t.emplace(p.name, PyRegex(decode_utf8(p.pattern), p.bytes, p.verbose));
    }
    return t;
  }();
  return table.at(std::string(name));
}

// Byte -> character and character -> byte of one codec.
struct Codec {
  std::array<char32_t, 256> decode{};
  std::unordered_map<char32_t, uint8_t> encode;
};

const Codec& codec(size_t index) {
  static const auto codecs = [] {
    std::vector<Codec> all(std::size(kCharmaps));
    for (size_t k = 0; k < all.size(); ++k) {
      for (uint32_t b = 0; b < 128; ++b) all[k].decode[b] = b;
      all[k].decode[0x1A] = kCharmaps[k].byte_1a;
      for (uint32_t b = 0; b < 128; ++b) all[k].decode[0x80 + b] = kCharmaps[k].high[b];
      for (uint32_t b = 0; b < 256; ++b) {
        if (all[k].decode[b] != 0 || b == 0) all[k].encode.emplace(all[k].decode[b], static_cast<uint8_t>(b));
      }
    }
    return all;
  }();
  return codecs[index];
}

bool is_ascii(std::u32string_view text) {
  for (char32_t c : text) {
    if (c > 0x7F) return false;
  }
  return true;
}

// chardata.possible_encoding: every character is ASCII (but 0x1A) or one of the codec's.
bool possible_encoding(std::u32string_view text, size_t index) {
  const Codec& c = codec(index);
  for (char32_t ch : text) {
    if ((ch <= 0x7F && ch != 0x1A) || c.encode.count(ch)) continue;
    return false;
  }
  return true;
}

std::u32string encode(std::u32string_view text, size_t index) {
  const Codec& c = codec(index);
  std::u32string bytes;
  bytes.reserve(text.size());
  for (char32_t ch : text) bytes.push_back(c.encode.at(ch));
  return bytes;
}

std::string as_bytes(std::u32string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char32_t b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// bytes.decode("utf-8"), strict.
std::optional<std::u32string> decode_strict(std::u32string_view bytes) {
  const std::string raw = as_bytes(bytes);
  if (find_utf8_error(raw)) return std::nullopt;
  return decode_utf8(raw);
}

// bytes.decode("utf-8-variants"): UTF-8, plus CESU-8 surrogate pairs and Java's C0 80 for NUL,
// following ftfy's incremental decoder step by step (so its `$` quirks come along).
std::optional<std::u32string> decode_variants(std::u32string_view input) {
  const PyRegex& special = pattern("special_bytes");
  const PyRegex& cesu = pattern("cesu8");
  std::u32string out;
  size_t position = 0;
  while (position < input.size()) {
    const std::u32string_view rest = input.substr(position);
    const auto m = special.search(rest);
    if (!m) {
      auto tail = decode_strict(rest);
      if (!tail) return std::nullopt;
      return out + *tail;
    }
    if (m->first > 0) {
      auto head = decode_strict(rest.substr(0, m->first));
      if (!head) return std::nullopt;
      out += *head;
      position += m->first;
      continue;
    }
    if (rest[0] == 0xC0) {
      if (rest.size() < 2) return std::nullopt;  // a lone C0 at the end is invalid UTF-8
      out.push_back(0);
      position += 2;
      continue;
    }
    if (rest.size() < 6 || !cesu.match_at(rest, 0)) return std::nullopt;  // strict decode fails
    const char32_t cp = ((rest[1] & 0x0F) << 16) + ((rest[2] & 0x3F) << 10) +
                        ((rest[4] & 0x0F) << 6) + (rest[5] & 0x3F) + 0x10000;
    out.push_back(cp);
    position += 6;
  }
  return out;
}

// fixes.restore_byte_a0
std::u32string restore_byte_a0(std::u32string_view bytes) {
  const std::u32string graves = pattern("a_grave_word").sub(
      bytes, [](std::u32string_view) { return std::u32string{0xC3, 0xA0, U' '}; });
  return pattern("altered_utf8").sub(graves, [](std::u32string_view m) {
    std::u32string out(m);
    for (char32_t& b : out) {
      if (b == U' ') b = 0xA0;
    }
    return out;
  });
}

// fixes.replace_lossy_sequences: lossy sequences become the UTF-8 of U+FFFD.
std::u32string replace_lossy_sequences(std::u32string_view bytes) {
  return pattern("lossy_utf8").sub(
      bytes, [](std::u32string_view) { return std::u32string{0xEF, 0xBF, 0xBD}; });
}

std::u32string fix_c1_controls(std::u32string_view text) {
  const Codec& sloppy1252 = codec(1);  // C1 controls read as sloppy-windows-1252
  std::u32string out(text);
  for (char32_t& c : out) {
    if (c >= 0x80 && c <= 0x9F) c = sloppy1252.decode[c];
  }
  return out;
}

std::u32string decode_inconsistent_utf8(std::u32string_view text) {
  return pattern("utf8_detector").sub(text, [&](std::u32string_view piece) {
    if (piece.size() < text.size() && ftfy_is_bad(piece)) return ftfy_fix_encoding(piece);
    return std::u32string(piece);
  });
}

// ftfy's _fix_encoding_one_step_and_explain, without the explanation.
std::u32string fix_one_step(std::u32string_view text) {
  if (text.empty() || is_ascii(text) || !ftfy_is_bad(text)) return std::u32string(text);
  std::vector<size_t> possible;
  for (size_t k = 0; k < kWindows1252; ++k) {
    if (!possible_encoding(text, k)) continue;
    possible.push_back(k);
    std::u32string bytes = encode(text, k);
    const std::string_view name = kCharmaps[k].name;
    if (name != "macroman" && pattern("altered_utf8").search(bytes)) {
      bytes = restore_byte_a0(bytes);
    }
    if (name.starts_with("sloppy")) bytes = replace_lossy_sequences(bytes);
    const bool variants = bytes.find(0xED) != std::u32string::npos ||
                          bytes.find(0xC0) != std::u32string::npos;
    if (auto fixed = variants ? decode_variants(bytes) : decode_strict(bytes)) return *fixed;
  }
  if (pattern("utf8_detector").search(text)) {
    std::u32string fixed = decode_inconsistent_utf8(text);
    if (fixed != text) return fixed;
  }
  if (!possible.empty() && possible[0] == kLatin1) {
    // ftfy asks whether "windows-1252" was possible, a name it never tries: always Latin-1
    // read as strict Windows-1252, when every byte is defined there.
    const Codec& cp1252 = codec(kWindows1252);
    std::u32string fixed;
    bool defined = true;
    for (char32_t c : text) {
      const char32_t d = cp1252.decode[c];
      if (c >= 0x80 && d == 0) {
        defined = false;
        break;
      }
      fixed.push_back(d);
    }
    if (defined && fixed != text) return fixed;
  }
  for (char32_t c : text) {
    if (c >= 0x80 && c <= 0x9F) return fix_c1_controls(text);
  }
  return std::u32string(text);
}

}  // namespace

bool ftfy_is_bad(std::u32string_view text) { return pattern("badness").search(text).has_value(); }

std::u32string ftfy_fix_encoding(std::u32string_view text) {
  std::u32string current(text);
  while (true) {
    std::u32string next = fix_one_step(current);
    if (next == current) return next;
    current = std::move(next);
  }
}

}  // namespace frozenseg::text
