// The vocabulary cache: Python's keys (tests/data/cache_cases.json), Python's .npz files read,
// the C++ file byte-identical to the one Python writes, hits and misses like cache.py.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/npy.hpp"
#include "common/zip.hpp"
#include "text/cache.hpp"

namespace ft = frozenseg::text;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kData = fs::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data";

const json& cases() {
  static const json data = [] {
    std::ifstream in(kData / "cache_cases.json");
    return json::parse(in);
  }();
  return data;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

ft::FloatMatrix matrix(const json& rows) {
  ft::FloatMatrix m;
  m.rows = rows.size();
  m.cols = rows[0].size();
  for (const auto& r : rows) {
    for (const auto& v : r) m.data.push_back(static_cast<float>(v.get<double>()));
  }
  return m;
}

// A scratch folder removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = fs::temp_directory_path() /
            ("fs_text_cache_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline std::atomic<int> counter_{0};
  fs::path path_;
};

// An encoder that makes row i of each call [value, i, 0, ...] and counts what it encodes.
struct FakeEncoder {
  std::vector<std::vector<std::string>> calls;
  ft::FloatMatrix operator()(const std::vector<std::string>& synonyms) {
    calls.push_back(synonyms);
    ft::FloatMatrix m{{}, synonyms.size(), 3};
    for (const auto& s : synonyms) {
      m.data.insert(m.data.end(), {static_cast<float>(s.size()), static_cast<float>(s[0]), 0.5f});
    }
    return m;
  }
};

}  // namespace

TEST(TextCache, EncoderKeysMatchPython) {
  ASSERT_EQ(cases()["encoders"].size(), 3u);
  for (const auto& c : cases()["encoders"]) {
    const std::optional<std::string> bpe =
        c["bpe_sha256"].is_null() ? std::nullopt : std::optional<std::string>(c["bpe_sha256"]);
    EXPECT_EQ(ft::encoder_key(c["text_graph_sha256"], c["templates"], bpe, c["context_length"]),
              c["encoder_key"].get<std::string>());
  }
}

TEST(TextCache, VocabularyKeysMatchPython) {
  const auto& encoders = cases()["encoders"];
  for (size_t e = 0; e < encoders.size(); ++e) {
    const ft::VocabularyCache cache(encoders[e]["encoder_key"]);
    for (size_t s = 0; s < cases()["synonyms"].size(); ++s) {
      EXPECT_EQ(cache.vocabulary_key(cases()["synonyms"][s]),
                cases()["vocabulary_keys"][e][s].get<std::string>());
    }
  }
}

TEST(TextCache, PythonJsonDumpsEscaping) {
  EXPECT_EQ(ft::python_json_string("caf\xc3\xa9 \xf0\x9f\x90\xb1 \x7f \"\\\n\x01", true),
            "\"caf\\u00e9 \\ud83d\\udc31 \\u007f \\\"\\\\\\n\\u0001\"");
  EXPECT_EQ(ft::python_json_string("caf\xc3\xa9 \x7f\t\x1f", false),
            "\"caf\xc3\xa9 \x7f\\t\\u001f\"");
}

TEST(TextCache, ReadsTheFilesPythonWrites) {
  const auto& f = cases()["file"];
  const ft::FloatMatrix want = matrix(f["rows"]);
  for (const char* name : {"cache_python.npz", "cache_python_deflated.npz"}) {
    const auto file = ft::parse_cache_file(slurp(kData / name));
    ASSERT_TRUE(file.has_value()) << name;
    EXPECT_EQ(file->key, f["key"].get<std::string>());
    EXPECT_EQ(file->rows.rows, want.rows);
    EXPECT_EQ(file->rows.cols, want.cols);
    EXPECT_EQ(file->rows.data, want.data) << name;
  }
  const auto f64 = ft::parse_cache_file(slurp(kData / "cache_python_f64.npz"));
  ASSERT_TRUE(f64.has_value());
  EXPECT_EQ(f64->rows.data, matrix(f["rows_f64_as_f32"]).data);  // Fortran order, cast like astype
}

TEST(TextCache, WritesTheSameBytesAsNumpy) {
  const auto& f = cases()["file"];
  const std::string python = slurp(kData / "cache_python.npz");
  EXPECT_EQ(ft::cache_file_bytes(matrix(f["rows"]), f["key"]), python);
}

TEST(TextCache, SharesTheCacheFolderWithPython) {
  const auto& f = cases()["file"];
  ScratchDir dir;
  fs::create_directories(dir.path());
  fs::copy_file(kData / "cache_python.npz", dir.path() / f["file_name"].get<std::string>());
  ft::VocabularyCache cache(f["encoder_key"], dir.path());
  FakeEncoder encoder;
  const auto rows = cache.rows(f["synonyms"], std::ref(encoder));
  EXPECT_TRUE(encoder.calls.empty());  // a disk hit: nothing encoded
  EXPECT_EQ(rows.data, matrix(f["rows"]).data);
  EXPECT_EQ(cache.stats(), (ft::CacheStats{0, 1, 0, 0}));
  EXPECT_EQ(cache.vocabulary_key(f["synonyms"]) + ".npz", f["file_name"].get<std::string>());
}

TEST(TextCache, MemoryDiskAndMissesCountLikePython) {
  ScratchDir dir;
  FakeEncoder encoder;
  ft::VocabularyCache cache("enc", dir.path());
  const std::vector<std::string> first = {"cat", "dog", "cat"};
  const auto a = cache.rows(first, std::ref(encoder));
  ASSERT_EQ(encoder.calls.size(), 1u);
  EXPECT_EQ(encoder.calls[0], (std::vector<std::string>{"cat", "dog"}));  // deduplicated
  EXPECT_EQ(a.rows, 3u);
  EXPECT_EQ(std::vector<float>(a.data.begin(), a.data.begin() + 3),
            std::vector<float>(a.data.begin() + 6, a.data.end()));
  EXPECT_EQ(cache.rows({"dog", "cat"}, std::ref(encoder)).rows, 2u);  // memory
  cache.rows({"dog", "emu"}, std::ref(encoder));                      // only emu is encoded
  EXPECT_EQ(encoder.calls.back(), (std::vector<std::string>{"emu"}));
  EXPECT_EQ(cache.stats(), (ft::CacheStats{1, 0, 2, 3}));

  ft::VocabularyCache fresh("enc", dir.path());  // a new process: the files remain
  const auto again = fresh.rows(first, std::ref(encoder));
  EXPECT_EQ(again.data, a.data);
  EXPECT_EQ(fresh.stats(), (ft::CacheStats{0, 1, 0, 0}));
  ft::VocabularyCache other("another encoder", dir.path());
  other.rows(first, std::ref(encoder));
  EXPECT_EQ(other.stats().misses, 1);  // another key: never a stale row
}

TEST(TextCache, UnreadableFilesAreRecomputedAndOverwritten) {
  ScratchDir dir;
  FakeEncoder encoder;
  ft::VocabularyCache cache("enc", dir.path());
  const std::vector<std::string> synonyms = {"cat", "dog"};
  const fs::path path = dir.path() / (cache.vocabulary_key(synonyms) + ".npz");
  const std::string good = ft::cache_file_bytes(encoder(synonyms), cache.vocabulary_key(synonyms));
  const std::vector<std::string> bad_files = {
      "", "not a zip", good.substr(0, good.size() / 2), "PK\x03\x04" + std::string(40, '\0'),
      ft::cache_file_bytes(encoder(synonyms), std::string(64, 'f')),  // another key
      ft::cache_file_bytes(encoder({"cat"}), cache.vocabulary_key(synonyms)),  // too few rows
  };
  for (const std::string& bad : bad_files) {
    fs::create_directories(dir.path());
    std::ofstream(path, std::ios::binary) << bad;
    ft::VocabularyCache reader("enc", dir.path());
    const auto rows = reader.rows(synonyms, std::ref(encoder));
    EXPECT_EQ(reader.stats().misses, 1) << bad.size();
    EXPECT_EQ(rows.rows, 2u);
    EXPECT_EQ(slurp(path), good);  // overwritten with a readable file
  }
  // A flipped data byte fails the CRC.
  std::string corrupt = good;
  corrupt[200] ^= 0x40;
  EXPECT_FALSE(ft::parse_cache_file(corrupt).has_value());
  EXPECT_TRUE(ft::parse_cache_file(good).has_value());
}

TEST(TextCache, MemoryOnlyCacheWritesNothing) {
  FakeEncoder encoder;
  ft::VocabularyCache cache("enc");
  cache.rows({"cat"}, std::ref(encoder));
  cache.rows({"cat"}, std::ref(encoder));
  EXPECT_EQ(cache.stats(), (ft::CacheStats{1, 0, 1, 1}));
}

TEST(TextCache, AnEncoderOfTheWrongShapeIsAnError) {
  ft::VocabularyCache cache("enc");
  EXPECT_THROW(cache.rows({"cat", "dog"},
                          [](const std::vector<std::string>&) {
                            return ft::FloatMatrix{{1.0f}, 1, 1};
                          }),
               frozenseg::Error);
}

TEST(TextCache, UnwritableFolderIsAnError) {
  FakeEncoder encoder;
  ft::VocabularyCache cache("enc", "/proc/frozenseg-cannot-write-here");
  try {
    cache.rows({"cat"}, std::ref(encoder));
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("writable cache folder"), std::string::npos);
  }
}

TEST(TextCache, ConcurrentCallsAgree) {
  ScratchDir dir;
  ft::VocabularyCache cache("enc", dir.path());
  std::vector<std::thread> threads;
  std::vector<ft::FloatMatrix> results(8);
  for (size_t k = 0; k < results.size(); ++k) {
    threads.emplace_back([&, k] {
      FakeEncoder encoder;
      results[k] = cache.rows({"cat", "dog", "emu"}, std::ref(encoder));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.data, results[0].data);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.memory_hits + stats.disk_hits + stats.misses, 8);
}

TEST(TextCache, DefaultFolderFollowsXdg) {
  const char* saved = std::getenv("XDG_CACHE_HOME");
  const std::string restore = saved ? saved : "";
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(ft::default_cache_dir(), fs::path("/tmp/xdg/frozenseg-deploy/vocabulary"));
  ::setenv("XDG_CACHE_HOME", "", 1);  // empty counts as unset, as in Python
  EXPECT_EQ(ft::default_cache_dir().filename(), "vocabulary");
  EXPECT_NE(ft::default_cache_dir().string().find("/.cache/frozenseg-deploy/"), std::string::npos);
  if (saved) {
    ::setenv("XDG_CACHE_HOME", restore.c_str(), 1);
  } else {
    ::unsetenv("XDG_CACHE_HOME");
  }
}

TEST(TextCache, NpyHeaderLikeNumpy) {
  frozenseg::NpyArray a{"<f4", false, {2, 3}, std::string(24, '\0')};
  const std::string bytes = frozenseg::write_npy(a);
  EXPECT_EQ(bytes.size() % 64, 24u);  // header padded to 64 bytes, then the data
  EXPECT_EQ(bytes.substr(10, 48), "{'descr': '<f4', 'fortran_order': False, 'shape'");
  const auto back = frozenseg::read_npy(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->shape, a.shape);
  EXPECT_EQ(back->descr, "<f4");
  EXPECT_FALSE(frozenseg::read_npy(bytes.substr(0, bytes.size() - 1)).has_value());  // short data
}
