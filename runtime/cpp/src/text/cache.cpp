#include "text/cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <unordered_set>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/sha256.hpp"
#include "text/cache_file.hpp"
#include "text/pypath.hpp"
#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

void append_u_escape(std::string& out, unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", value);
  out += buf;
}

// json.dumps of a list of strings with Python's default separators (", ").
std::string json_list(const std::vector<std::string>& items, bool ensure_ascii) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += python_json_string(items[i], ensure_ascii);
  }
  return out + "]";
}

}  // namespace

std::string python_json_string(std::string_view utf8, bool ensure_ascii) {
  std::string out = "\"";
  for (char32_t c : decode_utf8(utf8)) {
    switch (c) {
      case U'"': out += "\\\""; continue;
      case U'\\': out += "\\\\"; continue;
      case U'\n': out += "\\n"; continue;
      case U'\r': out += "\\r"; continue;
      case U'\t': out += "\\t"; continue;
      case U'\b': out += "\\b"; continue;
      case U'\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20) {
      append_u_escape(out, c);
    } else if (!ensure_ascii || (c >= 0x20 && c <= 0x7E)) {
      append_utf8(out, c);
    } else if (c < 0x10000) {
      append_u_escape(out, c);
    } else {
      const char32_t v = c - 0x10000;
      append_u_escape(out, 0xD800 | (v >> 10));
      append_u_escape(out, 0xDC00 | (v & 0x3FF));
    }
  }
  return out + "\"";
}

std::string encoder_key(const std::string& text_graph_sha256,
                        const std::vector<std::string>& templates,
                        const std::optional<std::string>& bpe_sha256, int64_t context_length) {
  const std::string payload =
      "[" + python_json_string(text_graph_sha256, true) + ", " + json_list(templates, true) + ", " +
      (bpe_sha256 ? python_json_string(*bpe_sha256, true) : std::string("null")) + ", " +
      std::to_string(context_length) + "]";
  return sha256_hex(payload);
}

std::filesystem::path default_cache_dir() {
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else {
    base = std::filesystem::path(expand_user("~")) / ".cache";
  }
  return base / "frozenseg-deploy" / "vocabulary";
}

VocabularyCache::VocabularyCache(std::string encoder_key,
                                 std::optional<std::filesystem::path> directory)
    : encoder_key_(std::move(encoder_key)), directory_(std::move(directory)) {}

std::string VocabularyCache::vocabulary_key(const std::vector<std::string>& synonyms) const {
  return sha256_hex("[" + python_json_string(encoder_key_, false) + ", " +
                    json_list(synonyms, false) + "]");
}

CacheStats VocabularyCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::optional<std::filesystem::path> VocabularyCache::path_for(
    const std::vector<std::string>& synonyms) const {
  if (!directory_) return std::nullopt;
  return *directory_ / (vocabulary_key(synonyms) + ".npz");
}

std::optional<FloatMatrix> VocabularyCache::read_disk(
    const std::vector<std::string>& synonyms) const {
  const auto path = path_for(synonyms);
  std::error_code ec;
  if (!path || !std::filesystem::is_regular_file(*path, ec)) return std::nullopt;
  std::ifstream in(*path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto file = parse_cache_file(bytes);
  if (!file || file->key != vocabulary_key(synonyms)) return std::nullopt;
  // Unlike numpy, a file whose rows do not fit the synonyms is unreadable, not returned.
  if (file->rows.rows != synonyms.size() || (cols_ != 0 && file->rows.cols != cols_)) {
    return std::nullopt;
  }
  return std::move(file->rows);
}

void VocabularyCache::write_disk(const std::vector<std::string>& synonyms,
                                 const FloatMatrix& rows) const {
  const auto path = path_for(synonyms);
  if (!path) return;
  std::error_code ec;
  std::filesystem::create_directories(path->parent_path(), ec);
  if (ec) {
    fail_argument("cannot create the vocabulary cache folder " + path->parent_path().string() +
                  ": " + ec.message() + "; choose a writable cache folder");
  }
  write_text_atomic(*path, cache_file_bytes(rows, vocabulary_key(synonyms)), FS_INVALID_ARGUMENT,
                    "choose a writable cache folder");
}

FloatMatrix VocabularyCache::stack(const std::vector<std::string>& synonyms) const {
  FloatMatrix out;
  out.rows = synonyms.size();
  out.cols = cols_;
  out.data.reserve(out.rows * out.cols);
  for (const auto& s : synonyms) {
    const auto& row = rows_.at(s);
    out.data.insert(out.data.end(), row.begin(), row.end());
  }
  return out;
}

FloatMatrix VocabularyCache::rows(const std::vector<std::string>& synonyms,
                                  const EncodeFn& encode) {
  std::vector<std::string> missing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    bool all_known = true;
    for (const auto& s : synonyms) all_known = all_known && rows_.count(s) > 0;
    if (all_known) {
      ++stats_.memory_hits;
      return stack(synonyms);
    }
    if (auto from_disk = read_disk(synonyms)) {
      ++stats_.disk_hits;
      cols_ = from_disk->cols;
      for (size_t i = 0; i < synonyms.size(); ++i) {
        const float* row = from_disk->row(i);
        rows_.insert_or_assign(synonyms[i], std::vector<float>(row, row + from_disk->cols));
      }
      return std::move(*from_disk);
    }
    ++stats_.misses;
    std::unordered_set<std::string> seen;
    for (const auto& s : synonyms) {
      if (rows_.count(s) == 0 && seen.insert(s).second) missing.push_back(s);
    }
  }
  const FloatMatrix fresh = encode(missing);
  if (fresh.rows != missing.size() || fresh.data.size() != fresh.rows * fresh.cols ||
      (cols_ != 0 && fresh.cols != cols_)) {
    throw Error(FS_INTERNAL_ERROR,
                "the text encoder returned " + std::to_string(fresh.rows) + " x " +
                    std::to_string(fresh.cols) + " rows for " + std::to_string(missing.size()) +
                    " synonyms" + (cols_ ? " of width " + std::to_string(cols_) : std::string()));
  }
  FloatMatrix out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.synonyms_encoded += static_cast<int64_t>(missing.size());
    cols_ = fresh.cols;
    for (size_t i = 0; i < missing.size(); ++i) {
      const float* row = fresh.row(i);
      rows_.insert_or_assign(missing[i], std::vector<float>(row, row + fresh.cols));
    }
    out = stack(synonyms);
  }
  write_disk(synonyms, out);
  return out;
}

}  // namespace frozenseg::text
