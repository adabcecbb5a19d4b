// The C++ CLIP tokenizer gives the Python runtime's ids exactly (tests/data/tokenizer_cases.json,
// written by make_tokenizer_cases.py), refuses what Python refuses, and checks the manifest.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "text/tokenizer.hpp"
#include "test_support.hpp"

namespace ft = frozenseg::text;
using nlohmann::json;

namespace {

const std::string kDataDir = std::string(FS_SOURCE_DIR) + "/runtime/cpp/tests/data";
const std::filesystem::path kBpe =
    std::filesystem::path(FS_SOURCE_DIR) / "runtime/data/bpe_simple_vocab_16e6.txt.gz";
constexpr const char* kBpeSha = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a";

const json& cases() {
  static const json data = [] {
    std::ifstream in(kDataDir + "/tokenizer_cases.json");
    return json::parse(in);
  }();
  return data;
}

const ft::ClipTokenizer& tokenizer() {
  static const ft::ClipTokenizer t(kBpe);
  return t;
}

json text_constants() {
  return {{"bpe_sha256", kBpeSha}, {"bpe_file", "bpe_simple_vocab_16e6.txt.gz"},
          {"context_length", 77}, {"sot_token", 49406}, {"eot_token", 49407}, {"pad_token", 0}};
}

using test_support::error_of;

}  // namespace

TEST(TextTokenizer, EveryFixtureTextGivesPythonsIds) {
  const auto& encode = cases()["encode"];
  ASSERT_GE(encode.size(), 300u);
  for (const auto& c : encode) {
    EXPECT_EQ(tokenizer().encode(c["text"].get<std::string>()), c["ids"].get<std::vector<int64_t>>())
        << c["text"];
  }
}

TEST(TextTokenizer, MojibakeRepairIsFtfys) {
  // Texts whose ids depend on ftfy's fix_encoding: without it they give other ids.
  const ft::ClipTokenizer without(kBpe, 77, ft::Cleaning::kFtfyWithoutEncodingFix);
  int repaired = 0;
  for (const auto& c : cases()["encode"]) {
    if (!c.contains("ids_no_encoding_fix")) continue;
    ++repaired;
    const std::string text = c["text"];
    EXPECT_EQ(tokenizer().encode(text), c["ids"].get<std::vector<int64_t>>()) << text;
    EXPECT_EQ(without.encode(text), c["ids_no_encoding_fix"].get<std::vector<int64_t>>()) << text;
  }
  EXPECT_GE(repaired, 5);
}

TEST(TextTokenizer, FallbackCleaningGivesPythonsFallbackIds) {
  const ft::ClipTokenizer fallback(kBpe, 77, ft::Cleaning::kFallback);
  int differing = 0;
  for (const auto& c : cases()["encode"]) {
    const bool other = c.contains("ids_fallback");
    differing += other;
    const auto want = c[other ? "ids_fallback" : "ids"].get<std::vector<int64_t>>();
    EXPECT_EQ(fallback.encode(c["text"].get<std::string>()), want) << c["text"];
  }
  EXPECT_GT(differing, 10);  // the fixture does tell the two cleanings apart
}

TEST(TextTokenizer, PaddedRowsSpecialTokensAndShapes) {
  EXPECT_EQ(tokenizer().sot_token(), 49406);
  EXPECT_EQ(tokenizer().eot_token(), 49407);
  const auto& padded = cases()["padded"];
  const ft::TokenMatrix m = tokenizer()({padded["text"].get<std::string>()});
  ASSERT_EQ(m.rows, 1u);
  ASSERT_EQ(m.cols, 77u);
  EXPECT_EQ(m.ids, padded["row"].get<std::vector<int64_t>>());
  EXPECT_EQ(tokenizer()({}).rows, 0u);
  EXPECT_EQ(ft::ClipTokenizer(kBpe, 16)({"cat"}).cols, 16u);
}

TEST(TextTokenizer, TooLongTextIsRefusedWithPythonsMessage) {
  std::string fits;
  for (int i = 0; i < 75; ++i) fits += "a ";
  EXPECT_EQ(tokenizer()({fits}).at(0, 76), 49407);
  const auto& too_long = cases()["too_long"];
  const std::string message = error_of(
      [&] { tokenizer()({"cat", too_long["text"].get<std::string>()}); }, FS_INVALID_INPUT);
  EXPECT_EQ(message, too_long["message"].get<std::string>());
  EXPECT_NE(error_of([&] { ft::ClipTokenizer(kBpe, 5)({"a photo of a cat"}); }, FS_INVALID_INPUT)
                .find("context length 5"),
            std::string::npos);
  error_of([&] { ft::ClipTokenizer(kBpe, 1); }, FS_INVALID_ARGUMENT);
}

TEST(TextTokenizer, InvalidUtf8IsRefused) {
  const std::string message = error_of([&] { tokenizer().encode("caf\xe9"); }, FS_INVALID_INPUT);
  EXPECT_NE(message.find("UTF-8"), std::string::npos);
}

TEST(TextTokenizer, ConcurrentCallsAgree) {
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i) {
    for (const char* w : {"cat", "d\xc3\xb6g", "\xe6\x9d\xb1\xe4\xba\xac"}) {
      texts.push_back("a photo of a " + std::string(w) + " number " + std::to_string(i) + ".");
    }
  }
  const ft::TokenMatrix expected = ft::ClipTokenizer(kBpe)(texts);
  std::vector<ft::TokenMatrix> results(8);
  std::vector<std::thread> threads;
  const ft::ClipTokenizer shared(kBpe);
  for (size_t k = 0; k < results.size(); ++k) {
    threads.emplace_back([&, k] { results[k] = shared(texts); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.ids, expected.ids);
}

TEST(TextTokenizer, Sha256OfTheBundledMerges) { EXPECT_EQ(ft::sha256_of_bpe(kBpe), kBpeSha); }

TEST(TextTokenizer, TokenizerForChecksTheManifest) {
  const ft::ClipTokenizer ok = ft::tokenizer_for(text_constants(), kBpe);
  EXPECT_EQ(ok.context_length(), 77);

  json bad_sha = text_constants();
  bad_sha["bpe_sha256"] = std::string(64, '0');
  const std::string message = error_of([&] { ft::tokenizer_for(bad_sha, kBpe); }, FS_ARTIFACT_ERROR);
  EXPECT_NE(message.find("(sha256 924691ac288e...)"), std::string::npos) << message;
  EXPECT_NE(message.find("bpe_simple_vocab_16e6.txt.gz, sha256 000000000000...)"),
            std::string::npos) << message;

  json bad_sot = text_constants();
  bad_sot["sot_token"] = 1;
  EXPECT_NE(error_of([&] { ft::tokenizer_for(bad_sot, kBpe); }, FS_ARTIFACT_ERROR)
                .find("special tokens {'sot_token': 1, 'eot_token': 49407, 'pad_token': 0} differ "
                      "from the tokenizer's {'sot_token': 49406, 'eot_token': 49407, "
                      "'pad_token': 0}"),
            std::string::npos);

  json float_ok = text_constants();
  float_ok["eot_token"] = 49407.0;  // Python's 49407.0 == 49407
  float_ok.erase("pad_token");
  EXPECT_NO_THROW(ft::tokenizer_for(float_ok, kBpe));

  for (const json& context : {json(1), json(77.0), json(true), json("77")}) {
    json bad = text_constants();
    bad["context_length"] = context;
    EXPECT_NE(error_of([&] { ft::tokenizer_for(bad, kBpe); }, FS_ARTIFACT_ERROR)
                  .find("context_length must be an int >= 2"),
              std::string::npos);
  }
  error_of([&] { ft::tokenizer_for(text_constants(), kDataDir + "/absent.txt.gz"); },
           FS_ARTIFACT_ERROR);
}

TEST(TextTokenizer, DropPaddingKeepsUpToTheLastEndToken) {
  const ft::TokenMatrix m = tokenizer()({"cat", "a photo of a cat.", "dog"});
  const ft::TokenMatrix cut = ft::drop_padding(m);
  ASSERT_EQ(cut.rows, 3u);
  EXPECT_EQ(cut.cols, 8u);  // start + 6 ids + end of the longest text
  for (size_t r = 0; r < 3; ++r) {
    for (size_t c = 0; c < cut.cols; ++c) EXPECT_EQ(cut.at(r, c), m.at(r, c));
  }
  EXPECT_EQ(ft::drop_padding(ft::TokenMatrix{}).rows, 0u);
}

TEST(TextTokenizer, DefaultPathFindsTheBundledFile) {
  EXPECT_TRUE(std::filesystem::is_regular_file(ft::default_bpe_path()))
      << ft::default_bpe_path();
}
