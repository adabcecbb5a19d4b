// Vocabulary parsing mirrors runtime/text/vocabulary.py: every form that can arrive through C,
// the refusals of tests/runtime/test_runtime_bad_input.py with their message fragments, seen
// flags, the padded synonym index and the manifest record.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "text/vocabulary.hpp"
#include "test_support.hpp"

namespace ft = frozenseg::text;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Names = std::vector<std::vector<std::string>>;

namespace {

class Scratch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fs_text_vocab_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }

  fs::path dir_;
  static inline std::atomic<int> counter_{0};
};

#define EXPECT_REFUSED(call, fragment)                                                          \
  do {                                                                                          \
    const std::string message_ = test_support::error_of([&] { (void)(call); }, FS_INVALID_INPUT); \
    EXPECT_NE(message_.find(fragment), std::string::npos) << "message: " << message_;         \
  } while (0)

const char* shared_dir() { return std::getenv("FS_SHARED_VOCABULARIES"); }

}  // namespace

using TextVocabulary = Scratch;

TEST_F(TextVocabulary, StringForm) {
  const auto v = ft::parse_vocabulary("cat, dog,grass ");
  EXPECT_EQ(v.names, (Names{{"cat"}, {"dog"}, {"grass"}}));
  EXPECT_EQ(v.isthing, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(ft::parse_vocabulary("sky").names, (Names{{"sky"}}));
  EXPECT_EQ(ft::parse_vocabulary("pole/post,cat").names, (Names{{"pole/post"}, {"cat"}}));
  EXPECT_EQ(ft::parse_vocabulary("caf\xc3\xa9,\xe7\x8c\xab").names,
            (Names{{"caf\xc3\xa9"}, {"\xe7\x8c\xab"}}));
}

TEST_F(TextVocabulary, ListForms) {
  EXPECT_EQ(ft::parse_vocabulary_list({"person, child,girl", "sky"}).names,
            (Names{{"person", "child", "girl"}, {"sky"}}));
  EXPECT_EQ(ft::parse_vocabulary_synonyms({{"cat", "kitty"}, {"dog"}}).names,
            (Names{{"cat", "kitty"}, {"dog"}}));
  const auto objects = ft::parse_vocabulary_json(Json::parse(R"([{"names": ["road"], "isthing": 0}])"));
  EXPECT_EQ(objects.isthing, (std::vector<bool>{false}));
  // Synonyms shared by two classes stay allowed (PASCAL-Context-459 has some).
  EXPECT_EQ(ft::parse_vocabulary_synonyms({{"cat", "kitty"}, {"kitty cat", "kitty"}}).num_classes(), 2u);
}

TEST_F(TextVocabulary, JsonTextFileAndDictAgree) {
  const std::string text =
      R"({"a": [{"names": ["cat", " kitty "], "isthing": true}, {"names": "grass,lawn", "isthing": false, "id": 7, "color": [0, 255, 0]}], "b": [{"names": ["x"]}]})";
  ft::VocabularyOptions a;
  a.key = "a";
  const auto from_text = ft::parse_vocabulary(text, a);
  EXPECT_EQ(from_text.names, (Names{{"cat", "kitty"}, {"grass", "lawn"}}));
  EXPECT_EQ(from_text.isthing, (std::vector<bool>{true, false}));
  EXPECT_EQ(ft::parse_vocabulary(write("v.json", text), a), from_text);
  EXPECT_EQ(ft::parse_vocabulary_file(write("v.JSON", text), a), from_text);  // suffix case
  EXPECT_EQ(ft::parse_vocabulary_json(Json::parse(text), a), from_text);
  EXPECT_EQ(ft::parse_vocabulary(write("bom.json", "\xef\xbb\xbf[{\"names\": [\"cat\"]}]")).names,
            (Names{{"cat"}}));
}

TEST_F(TextVocabulary, TxtFiles) {
  const std::string path =
      write("v.txt", "0:invalid_class_id\n\n1:cat,kitty\n5:invalid_class_id\n2:dog\n");
  EXPECT_EQ(ft::parse_vocabulary(path).names, (Names{{"cat", "kitty"}, {"dog"}}));
  EXPECT_EQ(ft::parse_vocabulary(write("crlf.txt", "1:cat\r\n2:dog\r\n")).names,
            (Names{{"cat"}, {"dog"}}));
  EXPECT_EQ(ft::parse_vocabulary(write("bom.txt", "\xef\xbb\xbf" "1:cat\n2:dog\n")).names,
            (Names{{"cat"}, {"dog"}}));
  EXPECT_EQ(ft::parse_vocabulary(write("[draft].txt", "1:cat\n")).names, (Names{{"cat"}}));
  // Python's isdigit(): '-' prefixes and other digit characters are IDs too.
  EXPECT_EQ(ft::parse_vocabulary(write("ids.txt", " -3 :a\n\xc2\xb2:b\n")).num_classes(), 2u);
  // The official split of ', ': 'wall-wood, wood wall' is two synonyms.
  EXPECT_EQ(ft::parse_vocabulary(write("c.txt", "1:wall-wood, wood wall,wall wood\n")).names,
            (Names{{"wall-wood", "wood wall", "wall wood"}}));
}

TEST_F(TextVocabulary, ExistingFolderNamedLikeAClassIsAClass) {
  const fs::path saved = fs::current_path();
  fs::create_directories(dir_ / "person");
  fs::current_path(dir_);
  const auto v = ft::parse_vocabulary("person");
  fs::current_path(saved);
  EXPECT_EQ(v.names, (Names{{"person"}}));
}

TEST_F(TextVocabulary, DuplicatesNeedOptIn) {
  EXPECT_REFUSED(ft::parse_vocabulary("cat,cat"), "distinct class names");
  EXPECT_REFUSED(ft::parse_vocabulary("Cat,cat"), "ignores case");
  EXPECT_REFUSED(ft::parse_vocabulary_list({"big cat", "big  cat"}), "ignores case");
  EXPECT_REFUSED(ft::parse_vocabulary_synonyms({{"cat", "kitty"}, {"cat", "feline"}}),
                 "received 'cat' as class 0 and class 1");
  ft::VocabularyOptions allow;
  allow.allow_duplicate_names = true;
  EXPECT_EQ(ft::parse_vocabulary("Cat,cat", allow).names, (Names{{"Cat"}, {"cat"}}));
}

TEST_F(TextVocabulary, StringRefusals) {
  EXPECT_REFUSED(ft::parse_vocabulary(""), "at least one class");
  EXPECT_REFUSED(ft::parse_vocabulary(",,,"), "at least one class");
  EXPECT_REFUSED(ft::parse_vocabulary("cat,,dog"), "doubled or trailing commas");
  EXPECT_REFUSED(ft::parse_vocabulary("cat,dog,"), "doubled or trailing commas");
  EXPECT_REFUSED(ft::parse_vocabulary("cat\ndog"), "control characters");
  EXPECT_REFUSED(ft::parse_vocabulary("cat\tdog"), "received 'cat\\tdog' containing '\\t'");
  EXPECT_REFUSED(ft::parse_vocabulary_list({std::string("cat\0", 4)}), "control characters");
  EXPECT_REFUSED(ft::parse_vocabulary_list({"\xe2\x80\x8b"}), "visible characters");
  EXPECT_REFUSED(ft::parse_vocabulary("caf\xe9"), "not UTF-8");
  EXPECT_REFUSED(ft::parse_vocabulary("[not json"), "expected valid JSON");
  EXPECT_REFUSED(ft::parse_vocabulary(std::string(100000, '[')), "nested too deeply");
  EXPECT_REFUSED(ft::parse_vocabulary("{\"names\": [\"cat\"]}"), "wrap it in a list");
}

TEST_F(TextVocabulary, ListAndObjectRefusals) {
  EXPECT_REFUSED(ft::parse_vocabulary_list({}), "at least one class");
  EXPECT_REFUSED(ft::parse_vocabulary_list({"cat", ""}), "non-empty class names");
  EXPECT_REFUSED(ft::parse_vocabulary_synonyms({{}}), "non-empty class names");
  EXPECT_REFUSED(ft::parse_vocabulary_synonyms({{"cat", " "}}), "received ['cat', ' ']");
  const std::pair<const char*, const char*> cases[] = {
      {"null", "received NoneType"},
      {"42", "received int"},
      {"1.5", "received float"},
      {"true", "received bool"},
      {R"(["cat", null])", "received NoneType"},
      {"[1]", "received int"},
      {R"([[["cat"]]])", "as strings"},
      {R"([["cat", 3]])", "received int 3"},
      {R"([["  "]])", "non-empty class names"},
      {R"([{"names": []}])", "non-empty class names"},
      {R"([{"names": "  "}])", "non-empty class names"},
      {R"([{"names": null}])", "'names' as a list of strings"},
      {R"([{"names": [1]}])", "as strings"},
      {R"([{"isthing": true}])", "{\"names\": [\"cat\", \"kitty\"]"},
      {R"([{"name": "cat"}])", "rename it to 'names'"},
      {R"([{"names": ["road"], "isThing": false}])", "rename it to 'isthing'"},
      {R"([{"names": ["road"], "is_thing": false}])",
       "expected the key 'isthing', received 'is_thing' in {'names': ['road'], 'is_thing': False}"},
      {R"([{"names": ["cat"], "isthing": "yes"}])", "received str 'yes'"},
      {R"([{"names": ["cat"], "isthing": "true"}])", "received str 'true'"},
      {R"([{"names": ["cat"], "isthing": 2}])", "received int 2"},
      {R"([{"names": ["cat"], "isthing": 1.0}])", "received float 1.0"},
      {R"([{"names": ["cat"], "isthing": null}])", "received NoneType None"},
      {R"({"names": ["cat"]})", "wrap it in a list"},
      {R"({"a": [{"names": ["cat"]}]})", "key='a'"},
      {"{}", "empty object"},
  };
  for (const auto& test_case : cases) {  // not a structured binding: clang 14 cannot capture one
    const char* const text = test_case.first;
    SCOPED_TRACE(text);
    EXPECT_REFUSED(ft::parse_vocabulary_json(Json::parse(text)), test_case.second);
  }
}

TEST_F(TextVocabulary, KeyRefusals) {
  ft::VocabularyOptions a;
  a.key = "a";
  EXPECT_REFUSED(ft::parse_vocabulary("cat,dog", a), "drop key");
  EXPECT_REFUSED(ft::parse_vocabulary_json(Json::parse(R"(["cat"])"), a), "drop key");
  EXPECT_REFUSED(ft::parse_vocabulary(R"([{"names": ["cat"]}])", a), "received a list");
  EXPECT_REFUSED(ft::parse_vocabulary(write("v.txt", "1:cat\n"), a), "drop key");
  EXPECT_REFUSED(ft::parse_vocabulary(write("v.json", R"([{"names": ["cat"]}])"), a),
                 "received a list");
  EXPECT_REFUSED(ft::parse_vocabulary(write("notlist.json", R"({"a": {"names": ["cat"]}})"), a),
                 "notlist.json['a']: expected a list of class objects, received dict");
  ft::VocabularyOptions b;
  b.key = "b";
  EXPECT_REFUSED(ft::parse_vocabulary_json(Json::parse(R"({"z": [], "a": [{"names": ["cat"]}]})"), b),
                 "expected key= naming one of ['a', 'z'], received key='b'; pick one, e.g. "
                 "parse_vocabulary(..., key='z')");
}

TEST_F(TextVocabulary, FileRefusals) {
  EXPECT_REFUSED(ft::parse_vocabulary((dir_ / "absent.txt").string()), "no such file");
  EXPECT_REFUSED(ft::parse_vocabulary_file(dir_ / "absent"), "no such file");
  EXPECT_REFUSED(ft::parse_vocabulary("/nonexistent/vocabularies/"), "no such file");
  EXPECT_REFUSED(ft::parse_vocabulary("missing.json"), "no such file");
  EXPECT_REFUSED(ft::parse_vocabulary(std::string(5000, 'x') + ".txt"), "no such file");
  EXPECT_REFUSED(ft::parse_vocabulary(std::string("a\0b.txt", 7)), "no such file");
  EXPECT_REFUSED(ft::parse_vocabulary_file(dir_), "received the folder");
  EXPECT_REFUSED(ft::parse_vocabulary(dir_.string()), "received the folder");
  const std::pair<std::pair<const char*, std::string>, const char*> files[] = {
      {{"latin.txt", "1:caf\xe9\n"}, "byte 5 is not UTF-8 (invalid continuation byte)"},
      {{"latin.json", "[{\"names\": [\"caf\xe9\"]}]"}, "UTF-8"},
      {{"image.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"}, "invalid start byte"},
      {{"empty.txt", ""}, "at least one class"},
      {{"noid.txt", "cat\ndog\n"}, "v_noid.txt:1: expected a line 'ID:name,synonym,...' with an integer ID, received 'cat'"},
      {{"badid.txt", "x:cat\n"}, "integer ID"},
      {{"placeholders.txt", "0:invalid_class_id\n\n"}, "at least one class"},
      {{"emptyname.txt", "1:cat,\n"}, ":1: expected non-empty class names, received ['cat', '']"},
      {{"empty.json", ""}, "expected valid JSON"},
      {{"null.json", "null"}, "received NoneType"},
      {{"str.json", "\"cat\""}, "received str"},
      {{"strs.json", "[\"cat\"]"}, "{\"names\": [\"cat\", \"kitty\"]"},
      {{"junk.json", R"([[[{"a": [1, {"b": null}]}]]])"}, "entry 0"},
      {{"obj.json", "{}"}, "empty object"},
      {{"notlist.json", R"({"a": {"names": ["cat"]}})"}, "holds several vocabularies"},
      {{"entries.json", R"([{"names": ["cat"]}, "dog"])"}, "entry 1: expected an object"},
      {{"deep.json", std::string(100000, '[') + std::string(100000, ']')}, "nested too deeply"},
  };
  for (const auto& test_case : files) {  // not a structured binding: clang 14 cannot capture one
    const auto& file = test_case.first;
    SCOPED_TRACE(file.first);
    EXPECT_REFUSED(ft::parse_vocabulary(write(std::string("v_") + file.first, file.second)),
                   test_case.second);
  }
}

TEST_F(TextVocabulary, SeenFlagsAndPaddedIndex) {
  const auto train = ft::parse_vocabulary_synonyms({{"person", "child"}, {"cat", "kitty", "cats"}});
  const auto v = ft::parse_vocabulary_list({"person", "xyzzy", "kitty,cats", "Cat"});
  EXPECT_EQ(ft::seen_flags(v, train), (std::vector<bool>{true, false, true, false}));

  const auto w = ft::parse_vocabulary_synonyms({{"cat", "kitty", "feline"}, {"dog"}, {"grass", "lawn"}});
  const auto index = ft::padded_synonym_index(w);
  EXPECT_EQ(index.flat, (std::vector<std::string>{"cat", "kitty", "feline", "dog", "grass", "lawn"}));
  EXPECT_EQ(index.classes, 3u);
  EXPECT_EQ(index.synonyms, 3u);
  EXPECT_EQ(index.index, (std::vector<int64_t>{0, 1, 2, 3, -1, -1, 4, 5, -1}));
  EXPECT_EQ(index.mask, (std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 1, 1, 0}));
  EXPECT_EQ(w.max_synonyms(), 3u);
  EXPECT_EQ(w.display_names(), (std::vector<std::string>{"cat", "dog", "grass"}));
}

TEST_F(TextVocabulary, ManifestRecord) {
  const auto v = ft::vocabulary_from_record(
      Json::parse(R"({"names": [["cat", "kitty"], ["grass"]], "isthing": [true, 0]})"));
  EXPECT_EQ(v.names, (Names{{"cat", "kitty"}, {"grass"}}));
  EXPECT_EQ(v.isthing, (std::vector<bool>{true, false}));
  const std::pair<const char*, const char*> bad[] = {
      {R"({"names": [[]], "isthing": [true]})", "non-empty class names"},
      {R"({"names": [["cat"]], "isthing": ["yes"]})", "received str 'yes'"},
      {R"({"names": [["cat"]], "isthing": []})", "received a list of 1 and a list of 0"},
      {R"({"names": "cat", "isthing": [true]})", "equal length"},
      {"{}", "received NoneType and NoneType; re-export"},
      {"null", "re-export"},
      {R"({"names": ["cat"], "isthing": [true]})", "class 0: expected a list of synonyms, received 'cat'"},
  };
  for (const auto& test_case : bad) {  // not a structured binding: clang 14 cannot capture one
    const char* const text = test_case.first;
    SCOPED_TRACE(text);
    EXPECT_REFUSED(ft::vocabulary_from_record(Json::parse(text)), test_case.second);
  }
  // Records may repeat display names (the training vocabulary is taken as written).
  EXPECT_EQ(ft::vocabulary_from_record(Json::parse(R"({"names": [["a"], ["a"]], "isthing": [1, 1]})"))
                .num_classes(), 2u);
}

TEST_F(TextVocabulary, SplitSynonymsLikeTheOfficialSplit) {
  EXPECT_EQ(ft::split_synonyms("a, b,c , d"), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(ft::split_synonyms("a,,"), (std::vector<std::string>{"a", "", ""}));
}

// The shared vocabularies (not in the repository): every file parses as in the Python tests.
TEST_F(TextVocabulary, SharedVocabularies) {
  if (shared_dir() == nullptr) GTEST_SKIP() << "set FS_SHARED_VOCABULARIES to the shared vocabularies folder";
  const fs::path dir = shared_dir();
  const std::pair<const char*, size_t> counts[] = {
      {"coco_panoptic", 133}, {"ade20k_150", 150}, {"cityscapes", 19},
      {"coco_stuff", 171},    {"lvis_1203", 1203}, {"mapillary_vistas", 65},
      {"pascal_ctx_459", 459}, {"pascal_ctx_59", 59}, {"pascal_voc_21", 21}};
  for (const auto& [name, count] : counts) {
    const auto v = ft::parse_vocabulary_file(dir / (std::string(name) + "_with_prompt_eng.txt"));
    EXPECT_EQ(v.num_classes(), count) << name;
  }
  const auto coco = ft::parse_vocabulary_file(dir / "coco_panoptic_with_prompt_eng.txt");
  EXPECT_EQ(coco.names[0][2], "girl");
  EXPECT_EQ(coco.max_synonyms(), 17u);
  const auto ade847 = (dir / "ade20k_847_with_prompt_eng.txt").string();
  EXPECT_REFUSED(ft::parse_vocabulary(ade847), "allow_duplicate_names");
  ft::VocabularyOptions allow;
  allow.allow_duplicate_names = true;
  EXPECT_EQ(ft::parse_vocabulary(ade847, allow).num_classes(), 847u);
  ft::VocabularyOptions key;
  key.key = "coco_panoptic";
  const auto from_json = ft::parse_vocabulary_file(dir / "categories.json", key);
  EXPECT_EQ(from_json.names, coco.names);
  EXPECT_EQ(std::count(from_json.isthing.begin(), from_json.isthing.end(), true), 80);
  EXPECT_REFUSED(ft::parse_vocabulary_file(dir / "categories.json"), "coco_panoptic");
  EXPECT_EQ(ft::seen_flags(coco, coco), std::vector<bool>(133, true));
}
