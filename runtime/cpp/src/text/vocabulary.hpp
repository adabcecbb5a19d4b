// Class vocabularies: parsing, seen/unseen flags and the padded synonym layout, as
// runtime/text/vocabulary.py does them, with the same checks and messages (Error with
// FS_INVALID_INPUT, Python's VocabularyError).
//
// The forms that can arrive through the C API: a string (a file path, JSON text, or
// comma-separated names), a file path, a list of strings ('name,synonym' each), a list of synonym
// lists, and any decoded JSON value treated as the Python object it decodes to (a dict of
// vocabularies picked by `key`, a list of strings / synonym lists / class objects). All names are
// UTF-8; invalid UTF-8 is refused (Python strings cannot hold it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace frozenseg::text {

// Classes in model order: synonyms per class (first = display name) and thing/stuff flags.
struct Vocabulary {
  std::vector<std::vector<std::string>> names;
  std::vector<bool> isthing;

  size_t num_classes() const { return names.size(); }
  size_t max_synonyms() const;  // the padded synonym axis length
  std::vector<std::string> display_names() const;
  bool operator==(const Vocabulary&) const = default;
};

struct VocabularyOptions {
  std::optional<std::string> key;       // picks one vocabulary of a JSON dict of them
  bool allow_duplicate_names = false;   // ADE20K-847 reuses display names
};

// A string: a vocabulary file's path, JSON text, or 'cat,dog,grass' (parse_vocabulary(str)).
Vocabulary parse_vocabulary(std::string_view source, const VocabularyOptions& options = {});
// A path (parse_vocabulary(Path)): .json files are JSON, anything else the 'ID:name,...' format.
Vocabulary parse_vocabulary_file(const std::filesystem::path& path,
                                 const VocabularyOptions& options = {});
// A list of 'name,synonym,...' strings, one class each (the official metadata style).
Vocabulary parse_vocabulary_list(const std::vector<std::string>& classes,
                                 bool allow_duplicate_names = false);
// A list of synonym lists.
Vocabulary parse_vocabulary_synonyms(const std::vector<std::vector<std::string>>& classes,
                                     bool allow_duplicate_names = false);
// Any decoded JSON value, read as the Python object it decodes to (dict, list, str, ...).
Vocabulary parse_vocabulary_json(const nlohmann::ordered_json& source,
                                 const VocabularyOptions& options = {});

// One class entry split into synonyms like the official split_labels, then stripped.
std::vector<std::string> split_synonyms(std::string_view text);

// Per class: true when any synonym is a synonym of a training class (the official rule).
std::vector<bool> seen_flags(const Vocabulary& vocabulary, const Vocabulary& train);

// Flat synonym list, (classes x synonyms) index into it (-1 = padding) and validity mask.
struct SynonymIndex {
  std::vector<std::string> flat;
  std::vector<int64_t> index;  // row-major (classes, synonyms)
  std::vector<uint8_t> mask;   // index >= 0
  size_t classes = 0;
  size_t synonyms = 0;
};
SynonymIndex padded_synonym_index(const Vocabulary& vocabulary);

// The manifest's record of a vocabulary ({"names": [[...]], "isthing": [...]}, e.g.
// constants.train_vocabulary), with the user-input checks.
Vocabulary vocabulary_from_record(const nlohmann::ordered_json& record);
Vocabulary vocabulary_from_record(const nlohmann::json& record);

}  // namespace frozenseg::text
