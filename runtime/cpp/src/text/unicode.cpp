#include "text/unicode.hpp"

#include <algorithm>
#include <unordered_map>

#include "common/error.hpp"

namespace frozenseg::text {
namespace {

struct PropertyRun {
  uint32_t start;
  uint16_t props;
};
struct LowerRun {
  uint32_t first, last;
  int32_t delta;
  uint8_t stride;
};
struct CombiningRun {
  uint32_t first, last;
  uint8_t ccc;
};
struct Decomposition {
  uint32_t cp, first, second;
  uint8_t composes;
};

#include "text/unicode_tables.inc"

constexpr char32_t kMaxCodePoint = 0x10FFFF;

// Hangul syllables (de)compose algorithmically (Unicode chapter 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

const Decomposition* find_decomposition(char32_t cp) {
  const auto* end = std::end(kDecompositions);
  const auto* it = std::lower_bound(std::begin(kDecompositions), end, cp,
                                    [](const Decomposition& d, char32_t c) { return d.cp < c; });
  return it != end && it->cp == cp ? it : nullptr;
}

void decompose_into(char32_t cp, std::u32string& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const Decomposition* d = find_decomposition(cp);
  if (d == nullptr) {
    out.push_back(cp);
    return;
  }
  decompose_into(d->first, out);
  if (d->second != 0) decompose_into(d->second, out);
}

// Primary composites: (first << 21 | second) -> composite, built once (thread-safe static).
const std::unordered_map<uint64_t, char32_t>& compositions() {
  static const std::unordered_map<uint64_t, char32_t> table = [] {
    std::unordered_map<uint64_t, char32_t> t;
    for (const Decomposition& d : kDecompositions) {
      if (d.composes) t.emplace(uint64_t{d.first} << 21 | d.second, d.cp);
    }
    return t;
  }();
  return table;
}

std::optional<char32_t> compose(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase &&
      second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 &&
      second > kTBase && second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  const auto& table = compositions();
  const auto it = table.find(uint64_t{first} << 21 | second);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

bool is_space(char32_t cp) { return has_property(cp, kPySpace); }

bool is_line_break(char32_t cp) {
  switch (cp) {
    case U'\n': case U'\r': case 0x0B: case 0x0C: case 0x1C: case 0x1D: case 0x1E:
    case 0x85: case 0x2028: case 0x2029:
      return true;
    default:
      return false;
  }
}

// str.lower()'s Final_Sigma context for U+03A3 at position i (CPython's handle_capital_sigma).
bool final_sigma(std::u32string_view text, size_t i) {
  size_t j = i;
  char32_t c = 0;
  bool found = false;
  while (j > 0) {
    c = text[--j];
    if (!has_property(c, kCaseIgnorable)) {
      found = true;
      break;
    }
  }
  if (!found || !has_property(c, kCased)) return false;
  for (size_t k = i + 1; k < text.size(); ++k) {
    if (!has_property(text[k], kCaseIgnorable)) return !has_property(text[k], kCased);
  }
  return true;
}

char32_t lower_one(char32_t cp) {
  const auto* end = std::end(kLowerRuns);
  const auto* it = std::upper_bound(std::begin(kLowerRuns), end, cp,
                                    [](char32_t c, const LowerRun& r) { return c < r.first; });
  if (it == std::begin(kLowerRuns)) return cp;
  --it;
  if (cp > it->last || (cp - it->first) % it->stride != 0) return cp;
  return static_cast<char32_t>(static_cast<int32_t>(cp) + it->delta);
}

}  // namespace

uint16_t unicode_properties(char32_t cp) {
  if (cp > kMaxCodePoint) return 0;
  const auto* it = std::upper_bound(std::begin(kPropertyRuns), std::end(kPropertyRuns), cp,
                                    [](char32_t c, const PropertyRun& r) { return c < r.start; });
  return std::prev(it)->props;
}

uint8_t combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  const auto* end = std::end(kCombiningRuns);
  const auto* it = std::upper_bound(std::begin(kCombiningRuns), end, cp,
                                    [](char32_t c, const CombiningRun& r) { return c < r.first; });
  if (it == std::begin(kCombiningRuns)) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

const char* unicode_version() { return kUnicodeVersion; }

std::optional<Utf8Error> find_utf8_error(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return Utf8Error{i, "invalid start byte"};
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) return Utf8Error{i, "unexpected end of data"};
      const unsigned char c = s[i + k];
      const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
      if (!ok) return Utf8Error{i, "invalid continuation byte"};
    }
    i += len;
  }
  return std::nullopt;
}

std::u32string decode_utf8(std::string_view bytes, std::string_view what) {
  if (const auto error = find_utf8_error(bytes)) {
    fail_input("expected " + std::string(what) + " as UTF-8, but byte " +
               std::to_string(error->start) + " is not UTF-8 (" + error->reason +
               "); pass UTF-8 encoded text");
  }
  std::u32string out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  for (size_t i = 0; i < bytes.size();) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      i += 1;
    } else if (b < 0xE0) {
      out.push_back(char32_t(b & 0x1F) << 6 | (s[i + 1] & 0x3F));
      i += 2;
    } else if (b < 0xF0) {
      out.push_back(char32_t(b & 0x0F) << 12 | char32_t(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F));
      i += 3;
    } else {
      out.push_back(char32_t(b & 0x07) << 18 | char32_t(s[i + 1] & 0x3F) << 12 |
                    char32_t(s[i + 2] & 0x3F) << 6 | (s[i + 3] & 0x3F));
      i += 4;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

std::u32string py_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t cp = text[i];
    if (cp < 0x80) {
      out.push_back(cp >= U'A' && cp <= U'Z' ? cp + 32 : cp);
    } else if (cp == 0x130) {  // the one lower() longer than its character (SpecialCasing)
      out.push_back(U'i');
      out.push_back(0x307);
    } else if (cp == 0x3A3) {
      out.push_back(final_sigma(text, i) ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(lower_one(cp));
    }
  }
  return out;
}

std::u32string py_strip(std::u32string_view text) {
  size_t a = 0, b = text.size();
  while (a < b && is_space(text[a])) ++a;
  while (b > a && is_space(text[b - 1])) --b;
  return std::u32string(text.substr(a, b - a));
}

std::u32string py_lstrip(std::u32string_view text) {
  size_t a = 0;
  while (a < text.size() && is_space(text[a])) ++a;
  return std::u32string(text.substr(a));
}

std::vector<std::u32string> py_split(std::u32string_view text) {
  std::vector<std::u32string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::vector<std::u32string> py_splitlines(std::u32string_view text) {
  std::vector<std::u32string> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_line_break(text[i])) continue;
    out.emplace_back(text.substr(start, i - start));
    if (text[i] == U'\r' && i + 1 < text.size() && text[i + 1] == U'\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) out.emplace_back(text.substr(start));
  return out;
}

bool py_isdigit(std::u32string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char32_t cp) { return has_property(cp, kPyDigit); });
}

std::u32string join(const std::vector<std::u32string>& parts, std::u32string_view sep) {
  std::u32string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::u32string replace_all(std::u32string_view text, std::u32string_view from,
                           std::u32string_view to) {
  std::u32string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::u32string_view::npos || from.empty()) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

std::u32string nfc(std::u32string_view text) {
  // Below U+0300 every character is already NFC and combines with nothing before it.
  if (std::all_of(text.begin(), text.end(), [](char32_t cp) { return cp < 0x300; })) {
    return std::u32string(text);
  }
  std::u32string d;
  d.reserve(text.size() + 8);
  for (char32_t cp : text) decompose_into(cp, d);
  // Canonical ordering: a stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (combining_class(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && combining_class(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + static_cast<std::ptrdiff_t>(i),
                     d.begin() + static_cast<std::ptrdiff_t>(j),
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  // Canonical composition (the reference algorithm of UAX #15).
  if (d.empty()) return d;
  size_t starter = 0;
  int last_class = combining_class(d[0]) == 0 ? 0 : 256;
  size_t out = 1;
  for (size_t i = 1; i < d.size(); ++i) {
    const char32_t ch = d[i];
    const int ch_class = combining_class(ch);
    if (last_class < ch_class || last_class == 0) {
      if (const auto composite = compose(d[starter], ch)) {
        d[starter] = *composite;
        continue;
      }
    }
    if (ch_class == 0) starter = out;
    last_class = ch_class;
    d[out++] = ch;
  }
  d.resize(out);
  return d;
}

}  // namespace frozenseg::text
