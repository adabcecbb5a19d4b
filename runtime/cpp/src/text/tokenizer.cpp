#include "text/tokenizer.hpp"

#include <dlfcn.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "text/pyrepr.hpp"
#include "text/unicode.hpp"
#include "text/word_split.hpp"

#ifndef FS_DEFAULT_BPE_PATH
#define FS_DEFAULT_BPE_PATH "runtime/data/bpe_simple_vocab_16e6.txt.gz"
#endif


namespace frozenseg::text {
namespace {

constexpr const char* kSpecialTokens[2] = {"<start_of_text>", "<end_of_text>"};
constexpr size_t kMergeLines = 49152 - 256 - 2;  // lines[1 : 49152 - 256 - 2 + 1]
constexpr size_t kWordCacheSize = size_t{1} << 16;

// open_clip's reversible map of the 256 bytes to printable characters, in its order.
std::vector<std::pair<int, char32_t>> bytes_to_unicode() {
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  std::vector<char32_t> cs(bs.begin(), bs.end());
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (std::find(bs.begin(), bs.end(), b) == bs.end()) {
      bs.push_back(b);
      cs.push_back(static_cast<char32_t>(256 + n++));
    }
  }
  std::vector<std::pair<int, char32_t>> out;
  for (size_t i = 0; i < bs.size(); ++i) out.emplace_back(bs[i], cs[i]);
  return out;
}

std::string read_gzip(const std::filesystem::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    fail_artifact("cannot open the tokenizer's merges file " + path.string() +
                  ": reinstall frozenseg-deploy or set FROZENSEG_BPE_PATH to the bundled "
                  "bpe_simple_vocab_16e6.txt.gz");
  }
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(file, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  const std::string reason = message ? message : "";
  gzclose(file);
  if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    fail_artifact("the tokenizer's merges file " + path.string() + " is not a readable gzip file (" +
                  reason + "): reinstall frozenseg-deploy");
  }
  return out;
}

}  // namespace

struct ClipTokenizer::State {
  std::string byte_encoder[256];  // UTF-8 of each byte's character
  std::unordered_map<std::string, int64_t> encoder;
  std::unordered_map<std::string, size_t> ranks;  // "first second" -> merge rank
  int64_t special[2] = {0, 0};

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache;

  std::vector<std::string> bpe(std::vector<std::string> word) const;
  std::vector<int64_t> word_ids(const std::u32string& word) const;
  std::vector<int64_t> word_ids_uncached(const std::string& token,
                                         const std::vector<std::string>& chars) const;
};

// open_clip's merge loop: repeatedly join the adjacent pair of lowest merge rank.
std::vector<std::string> ClipTokenizer::State::bpe(std::vector<std::string> word) const {
  while (word.size() > 1) {
    size_t best_rank = std::numeric_limits<size_t>::max();
    const std::string* first = nullptr;
    const std::string* second = nullptr;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      const auto it = ranks.find(word[i] + " " + word[i + 1]);
      if (it != ranks.end() && it->second < best_rank) {
        best_rank = it->second;
        first = &word[i];
        second = &word[i + 1];
      }
    }
    if (first == nullptr) break;
    const std::string a = *first, b = *second;
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == a && word[i + 1] == b) {
        merged.push_back(a + b);
        i += 2;
      } else {
        merged.push_back(word[i]);
        i += 1;
      }
    }
    word = std::move(merged);
  }
  return word;
}

std::vector<int64_t> ClipTokenizer::State::word_ids_uncached(
    const std::string& token, const std::vector<std::string>& chars) const {
  for (int k = 0; k < 2; ++k) {
    if (token == kSpecialTokens[k]) return {special[k]};  // open_clip's cache holds these as is
  }
  std::vector<std::string> word = chars;
  word.back() += "</w>";
  std::vector<int64_t> ids;
  for (const std::string& piece : bpe(std::move(word))) {
    const auto it = encoder.find(piece);
    if (it == encoder.end()) {
      fail_artifact("the tokenizer's merges produced '" + piece +
                    "', which its vocabulary lacks: the merges file is damaged; reinstall "
                    "frozenseg-deploy");
    }
    ids.push_back(it->second);
  }
  return ids;
}

std::vector<int64_t> ClipTokenizer::State::word_ids(const std::u32string& word) const {
  std::string token;
  std::vector<std::string> chars;
  for (unsigned char b : encode_utf8(word)) {
    chars.push_back(byte_encoder[b]);
    token += byte_encoder[b];
  }
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = cache.find(token);
    if (it != cache.end()) return it->second;
  }
  std::vector<int64_t> ids = word_ids_uncached(token, chars);
  std::lock_guard<std::mutex> lock(cache_mutex);
  if (cache.size() >= kWordCacheSize) cache.clear();  // entries are pure: dropping them is safe
  cache.emplace(token, ids);
  return ids;
}

std::filesystem::path default_bpe_path() {
  if (const char* env = std::getenv("FROZENSEG_BPE_PATH"); env != nullptr && *env != '\0') {
    return env;
  }
  // An installed library (lib/ or bin/ of a prefix) reads its own copy in the prefix's
  // share/frozenseg/, wherever the prefix was moved; a build tree reads the source tree's.
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&default_bpe_path), &info) != 0 && info.dli_fname != nullptr) {
    const std::filesystem::path installed = std::filesystem::path(info.dli_fname).parent_path().parent_path() /
                                            "share" / "frozenseg" / "bpe_simple_vocab_16e6.txt.gz";
    std::error_code ignored;
    if (std::filesystem::is_regular_file(installed, ignored)) return installed;
  }
  return FS_DEFAULT_BPE_PATH;
}

std::string sha256_of_bpe(const std::filesystem::path& path) {
  return sha256_file(path, FS_ARTIFACT_ERROR);
}

ClipTokenizer::ClipTokenizer(const std::filesystem::path& bpe_path, int context_length,
                             Cleaning cleaning)
    : bpe_path_(bpe_path), context_length_(context_length), cleaning_(cleaning) {
  if (context_length < 2) {
    fail_argument("context_length must be an int >= 2, received " +
                  std::to_string(context_length));
  }
  auto state = std::make_shared<State>();
  std::vector<std::string> vocab;
  for (const auto& [byte, cp] : bytes_to_unicode()) {
    std::string ch;
    append_utf8(ch, cp);
    state->byte_encoder[byte] = ch;
    vocab.push_back(ch);
  }
  const size_t bytes_count = vocab.size();
  for (size_t i = 0; i < bytes_count; ++i) vocab.push_back(vocab[i] + "</w>");

  const std::string text = read_gzip(bpe_path);
  if (find_utf8_error(text)) {
    fail_artifact("the tokenizer's merges file " + bpe_path.string() +
                  " is not UTF-8 text: reinstall frozenseg-deploy");
  }
  size_t line_start = text.find('\n');  // line 0 is a version header
  for (size_t line = 1; line <= kMergeLines && line_start != std::string::npos; ++line) {
    const size_t begin = line_start + 1;
    const size_t end = text.find('\n', begin);
    const std::string_view merge =
        std::string_view(text).substr(begin, end == std::string::npos ? std::string::npos
                                                                       : end - begin);
    std::vector<std::string> parts;
    for (const std::u32string& part : py_split(decode_utf8(merge))) {
      parts.push_back(encode_utf8(part));
    }
    std::string joined;
    for (const std::string& part : parts) joined += part;
    vocab.push_back(joined);
    if (parts.size() == 2) state->ranks.insert_or_assign(parts[0] + " " + parts[1], line - 1);
    line_start = end;
  }
  for (const char* special : kSpecialTokens) vocab.emplace_back(special);
  for (size_t i = 0; i < vocab.size(); ++i) {
    state->encoder.insert_or_assign(vocab[i], static_cast<int64_t>(i));
  }
  for (int k = 0; k < 2; ++k) state->special[k] = state->encoder.at(kSpecialTokens[k]);
  state_ = std::move(state);
}

int64_t ClipTokenizer::sot_token() const { return state_->special[0]; }
int64_t ClipTokenizer::eot_token() const { return state_->special[1]; }

std::vector<int64_t> ClipTokenizer::encode(std::string_view text) const {
  if (find_utf8_error(text)) {
    fail_input("expected a text string in UTF-8, received bytes that are not UTF-8: " +
               py_repr_utf8(text));
  }
  std::vector<int64_t> ids;
  for (const std::u32string& word : split_words(clean_text(decode_utf8(text), cleaning_))) {
    const std::vector<int64_t> word_ids = state_->word_ids(word);
    ids.insert(ids.end(), word_ids.begin(), word_ids.end());
  }
  return ids;
}

TokenMatrix ClipTokenizer::operator()(const std::vector<std::string>& texts) const {
  TokenMatrix out;
  out.rows = texts.size();
  out.cols = static_cast<size_t>(context_length_);
  out.ids.assign(out.rows * out.cols, 0);
  for (size_t row = 0; row < texts.size(); ++row) {
    std::vector<int64_t> ids = encode(texts[row]);
    const size_t total = ids.size() + 2;
    if (total > out.cols) {
      fail_input("text " + py_repr_utf8(texts[row]) + " has " + std::to_string(total) +
                 " tokens with start/end, more than the context length " +
                 std::to_string(context_length_) +
                 "; shorten it (open_clip would truncate it silently and change its meaning)");
    }
    int64_t* dst = out.ids.data() + row * out.cols;
    dst[0] = sot_token();
    std::copy(ids.begin(), ids.end(), dst + 1);
    dst[ids.size() + 1] = eot_token();
  }
  return out;
}

namespace {

// Python's `a != b` for a manifest value against an int (49406.0 and True compare as numbers).
bool differs(const nlohmann::ordered_json& value, int64_t ours) {
  if (value.is_boolean()) return int64_t{value.get<bool>()} != ours;
  if (value.is_number_integer()) return value.get<int64_t>() != ours;
  if (value.is_number_unsigned()) return value.get<uint64_t>() != static_cast<uint64_t>(ours);
  if (value.is_number_float()) return value.get<double>() != static_cast<double>(ours);
  return true;
}

std::string short_hash(const std::string& digest) { return digest.substr(0, 12) + "..."; }

}  // namespace

ClipTokenizer tokenizer_for(const nlohmann::json& text_constants,
                            const std::filesystem::path& bpe_path) {
  return tokenizer_for(nlohmann::ordered_json::parse(text_constants.dump()), bpe_path);
}

ClipTokenizer tokenizer_for(const nlohmann::ordered_json& text,
                            const std::filesystem::path& bpe_path) {
  if (!text.is_object() || !text.contains("bpe_sha256") || !text["bpe_sha256"].is_string()) {
    fail_artifact("manifest.json's constants.text must hold bpe_sha256 (a string), got " +
                  py_repr_json(text) + ": re-export the artifacts");
  }
  const std::string want = text["bpe_sha256"].get<std::string>();
  const std::string got = sha256_of_bpe(bpe_path);
  if (got != want) {
    const std::string file = text.contains("bpe_file") && text["bpe_file"].is_string()
                                 ? text["bpe_file"].get<std::string>()
                                 : std::string("BPE file");
    fail_artifact("the tokenizer's merges file " + bpe_path.string() + " (sha256 " +
                  short_hash(got) + ") is not the one the artifacts were exported with (" + file +
                  ", sha256 " + short_hash(want) +
                  "): reinstall frozenseg-deploy or re-export the artifacts");
  }
  const auto context = text.contains("context_length") ? text["context_length"]
                                                       : nlohmann::ordered_json();
  if (!context.is_number_integer() || context.get<int64_t>() < 2 ||
      context.get<int64_t>() > std::numeric_limits<int>::max()) {
    fail_artifact("manifest.json's text context_length must be an int >= 2, got " +
                  py_repr_json(context));
  }
  ClipTokenizer tokenizer(bpe_path, static_cast<int>(context.get<int64_t>()));
  const std::pair<const char*, int64_t> ours[3] = {
      {"sot_token", tokenizer.sot_token()}, {"eot_token", tokenizer.eot_token()}, {"pad_token", 0}};
  bool mismatch = false;
  nlohmann::ordered_json theirs = nlohmann::ordered_json::object();
  for (const auto& [key, value] : ours) {
    if (!text.contains(key)) continue;
    theirs[key] = text[key];
    mismatch = mismatch || differs(text[key], value);
  }
  if (mismatch) {
    nlohmann::ordered_json mine = nlohmann::ordered_json::object();
    for (const auto& [key, value] : ours) mine[key] = value;
    fail_artifact("the manifest's special tokens " + py_repr_json(theirs) + " differ from the "
                  "tokenizer's " + py_repr_json(mine) + ": the artifacts were exported with another "
                  "tokenizer; re-export them");
  }
  return tokenizer;
}

TokenMatrix drop_padding(const TokenMatrix& tokens) {
  if (tokens.rows == 0 || tokens.cols == 0) return tokens;
  size_t keep = 0;
  for (size_t r = 0; r < tokens.rows; ++r) {
    const int64_t* row = tokens.ids.data() + r * tokens.cols;
    const size_t argmax = static_cast<size_t>(std::max_element(row, row + tokens.cols) - row);
    keep = std::max(keep, argmax + 1);
  }
  TokenMatrix out;
  out.rows = tokens.rows;
  out.cols = keep;
  out.ids.reserve(out.rows * keep);
  for (size_t r = 0; r < tokens.rows; ++r) {
    const int64_t* row = tokens.ids.data() + r * tokens.cols;
    out.ids.insert(out.ids.end(), row, row + keep);
  }
  return out;
}

}  // namespace frozenseg::text
