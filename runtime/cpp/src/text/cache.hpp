// Cache of synonym embeddings, in memory and on disk, keyed by content: runtime/text/cache.py's
// VocabularyCache with the same keys and the same .npz files, so a cache folder is shared by the
// Python and the C++ runtime.
//
// encoder_key = sha256(json.dumps([text_graph_sha256, templates, bpe_sha256, context_length]))
// vocabulary_key = sha256(json.dumps([encoder_key, synonyms], ensure_ascii=False))
// file: <directory>/<vocabulary_key>.npz holding rows.npy (float32 (N, E)) and key.npy (the
// vocabulary key as a 0-d '<U64' array), written atomically (temporary file + rename).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "text/cache_file.hpp"
#include "text/embedding.hpp"

namespace frozenseg::text {

// json.dumps of a string: ensure_ascii=True escapes everything outside ' '..'~' as \uXXXX
// (surrogate pairs above U+FFFF); ensure_ascii=False only quotes, backslashes and controls.
std::string python_json_string(std::string_view utf8, bool ensure_ascii);

std::string encoder_key(const std::string& text_graph_sha256,
                        const std::vector<std::string>& templates,
                        const std::optional<std::string>& bpe_sha256, int64_t context_length);

// $XDG_CACHE_HOME/frozenseg-deploy/vocabulary, else ~/.cache/frozenseg-deploy/vocabulary.
std::filesystem::path default_cache_dir();

struct CacheStats {
  int64_t memory_hits = 0;
  int64_t disk_hits = 0;
  int64_t misses = 0;
  int64_t synonyms_encoded = 0;
  bool operator==(const CacheStats&) const = default;
};

// synonyms -> (N, E) normalised rows, one per synonym, in order.
using EncodeFn = std::function<FloatMatrix(const std::vector<std::string>&)>;

// Thread-safe (one lock, released while `encode` runs), like the Python class.
class VocabularyCache {
 public:
  explicit VocabularyCache(std::string encoder_key,
                           std::optional<std::filesystem::path> directory = std::nullopt);

  const std::string& encoder_key() const { return encoder_key_; }
  const std::optional<std::filesystem::path>& directory() const { return directory_; }
  std::string vocabulary_key(const std::vector<std::string>& synonyms) const;

  // (len(synonyms), E) rows, computing only what neither memory nor disk holds. An unreadable
  // or mismatched file is recomputed and overwritten; a file that cannot be written raises
  // Error(FS_INVALID_ARGUMENT) naming the folder.
  FloatMatrix rows(const std::vector<std::string>& synonyms, const EncodeFn& encode);

  CacheStats stats() const;

 private:
  std::optional<std::filesystem::path> path_for(const std::vector<std::string>& synonyms) const;
  std::optional<FloatMatrix> read_disk(const std::vector<std::string>& synonyms) const;
  void write_disk(const std::vector<std::string>& synonyms, const FloatMatrix& rows) const;
  FloatMatrix stack(const std::vector<std::string>& synonyms) const;  // lock held

  std::string encoder_key_;
  std::optional<std::filesystem::path> directory_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<float>> rows_;
  size_t cols_ = 0;
  CacheStats stats_;
};

}  // namespace frozenseg::text
