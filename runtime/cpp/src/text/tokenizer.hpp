// CLIP's byte-pair-encoding tokenizer, identical to runtime/text/tokenizer.py's ClipTokenizer
// (open_clip's SimpleTokenizer with "lower" cleaning), reading the same bundled merges file.
//
// Cleaning is ftfy.fix_text's, ported (text_fixer.hpp), as the Python runtime runs with ftfy
// installed; Cleaning::kFallback gives the Python runtime's ids without ftfy. Text must be valid
// UTF-8 (Python strings always are).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/text_fixer.hpp"

namespace frozenseg::text {

// Row-major (rows x cols) int64 token ids, as the text graph takes them.
struct TokenMatrix {
  std::vector<int64_t> ids;
  size_t rows = 0;
  size_t cols = 0;
  int64_t at(size_t row, size_t col) const { return ids[row * cols + col]; }
};

// The bundled merges file: $FROZENSEG_BPE_PATH if set, else the source tree's
// runtime/data/bpe_simple_vocab_16e6.txt.gz (compiled in as FS_DEFAULT_BPE_PATH).
std::filesystem::path default_bpe_path();

// hashlib.sha256 of the merges file's bytes (FS_ARTIFACT_ERROR when unreadable).
std::string sha256_of_bpe(const std::filesystem::path& path = default_bpe_path());

// Thread-safe: the only mutable state is the cache of per-word ids (locked), whose entries are
// pure functions of the word. Copies share the merges and the cache.
class ClipTokenizer {
 public:
  // Throws Error(FS_INVALID_ARGUMENT) for context_length < 2, Error(FS_ARTIFACT_ERROR) for a
  // merges file that cannot be read.
  explicit ClipTokenizer(const std::filesystem::path& bpe_path = default_bpe_path(),
                         int context_length = 77, Cleaning cleaning = Cleaning::kFtfy);

  int64_t sot_token() const;  // <start_of_text>: 49406 with the default merges
  int64_t eot_token() const;  // <end_of_text>: 49407
  int context_length() const { return context_length_; }
  const std::filesystem::path& bpe_path() const { return bpe_path_; }

  // Token ids of one UTF-8 text, without start/end tokens (Error FS_INVALID_INPUT if the text
  // is not UTF-8).
  std::vector<int64_t> encode(std::string_view text) const;

  // (N, context_length) ids: start, text, end, zero padding. A text longer than the context is
  // an Error(FS_INVALID_INPUT) (open_clip would truncate it).
  TokenMatrix operator()(const std::vector<std::string>& texts) const;

 private:
  struct State;
  std::filesystem::path bpe_path_;
  int context_length_;
  Cleaning cleaning_;
  std::shared_ptr<State> state_;
};

// The tokenizer manifest.json's constants.text describes, checked: the merges file's sha256
// must be `bpe_sha256` and the special tokens must be the manifest's (FS_ARTIFACT_ERROR).
ClipTokenizer tokenizer_for(const nlohmann::json& text_constants,
                            const std::filesystem::path& bpe_path = default_bpe_path());
ClipTokenizer tokenizer_for(const nlohmann::ordered_json& text_constants,
                            const std::filesystem::path& bpe_path = default_bpe_path());

// Cut trailing padding common to the batch (up to the last column holding any row's first
// maximum, i.e. its end token): the text graph is causal, so the result is the same.
TokenMatrix drop_padding(const TokenMatrix& tokens);

}  // namespace frozenseg::text
