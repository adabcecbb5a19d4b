#include "text/vocabulary.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "common/error.hpp"
#include "text/pypath.hpp"
#include "text/pyrepr.hpp"
#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

using Json = nlohmann::ordered_json;
using Synonyms = std::vector<std::u32string>;

constexpr std::u32string_view kInvalid = U"invalid_class_id";
// Python's json module recurses per nesting level and gives up near the interpreter's recursion
// limit (1000 frames, less what the caller uses): deeper JSON is refused as "nested too deeply".
constexpr size_t kMaxJsonDepth = 990;

[[noreturn]] void refuse(const std::string& message) { fail_input(message); }

std::u32string utf8_name(std::string_view text, const std::string& where) {
  if (const auto error = find_utf8_error(text)) {
    refuse(where + ": expected class names as UTF-8 text, but byte " +
           std::to_string(error->start) + " of " + py_repr_utf8(text) + " is not UTF-8 (" +
           error->reason + "); pass UTF-8 encoded names");
  }
  return decode_utf8(text);
}

std::string list_repr(const Synonyms& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + py_repr(items[i]);
  return out + "]";
}

Synonyms split_u32(std::u32string_view text) {
  const std::u32string joined = replace_all(text, U", ", U",");
  Synonyms out;
  size_t start = 0;
  while (true) {
    const size_t comma = joined.find(U',', start);
    out.push_back(py_strip(std::u32string_view(joined).substr(
        start, comma == std::u32string::npos ? std::u32string::npos : comma - start)));
    if (comma == std::u32string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Refuse control characters (CLIP would fold them into spaces, so 'cat\ndog' became one class)
// and names of invisible characters only (they embed an empty prompt).
void check_printable(const std::u32string& name, const std::string& where) {
  const auto bad = std::find_if(name.begin(), name.end(),
                                [](char32_t c) { return has_property(c, kControl); });
  if (bad != name.end()) {
    refuse(where + ": expected class names without control characters, received " +
           py_repr(name) + " containing " + py_repr(std::u32string(1, *bad)) +
           "; separate classes with commas (not line breaks or tabs), or pass the path of a "
           "vocabulary file");
  }
  if (std::all_of(name.begin(), name.end(),
                  [](char32_t c) { return has_property(c, kInvisible); })) {
    refuse(where + ": expected a class name with visible characters, received " + py_repr(name) +
           "; remove the invisible (zero-width or format) characters");
  }
}

// _clean_synonyms: strip explicit synonyms, refuse empty ones. `raw_repr` is repr(list(raw)).
Synonyms clean_synonyms(const Synonyms& raw, const std::string& where) {
  Synonyms out;
  for (const auto& s : raw) out.push_back(py_strip(s));
  if (out.empty() || std::any_of(out.begin(), out.end(), [](const auto& s) { return s.empty(); })) {
    refuse(where + ": expected non-empty class names, received " + list_repr(raw) +
           "; remove empty names and doubled or trailing commas");
  }
  for (const auto& s : out) check_printable(s, where);
  return out;
}

// The same for a JSON list, whose items must be strings.
Synonyms clean_json_synonyms(const Json& raw, const std::string& where) {
  Synonyms items;
  for (const Json& s : raw) {
    if (!s.is_string()) {
      refuse(where + ": expected class names as strings, received " + py_type_name(s) + " " +
             py_repr_json(s));
    }
    items.push_back(utf8_name(s.get_ref<const std::string&>(), where));
  }
  if (items.empty()) {
    refuse(where + ": expected non-empty class names, received " + py_repr_json(raw) +
           "; remove empty names and doubled or trailing commas");
  }
  Synonyms out;
  for (const auto& s : items) out.push_back(py_strip(s));
  if (std::any_of(out.begin(), out.end(), [](const auto& s) { return s.empty(); })) {
    refuse(where + ": expected non-empty class names, received " + py_repr_json(raw) +
           "; remove empty names and doubled or trailing commas");
  }
  for (const auto& s : out) check_printable(s, where);
  return out;
}

// A name as CLIP's tokenizer sees it (lower case, whitespace runs collapsed).
std::u32string text_key(const std::u32string& name) { return join(py_split(py_lower(name)), U" "); }

void check_duplicates(const std::vector<Synonyms>& names, bool allow) {
  if (allow) return;
  std::map<std::u32string, size_t> first_seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto [it, inserted] = first_seen.emplace(text_key(names[i][0]), i);
    if (inserted) continue;
    const size_t j = it->second;
    const bool same = names[j][0] == names[i][0];
    const std::string shown =
        same ? py_repr(names[i][0]) : py_repr(names[j][0]) + " and " + py_repr(names[i][0]);
    const std::string why = same ? "" : " (the text encoder ignores case and repeated spaces)";
    refuse("expected distinct class names, received " + shown + " as class " +
           std::to_string(j) + " and class " + std::to_string(i) + why +
           "; remove or rename one (vocabularies that reuse a display name with other synonyms, "
           "such as ADE20K-847, need allow_duplicate_names=True)");
  }
}

Vocabulary build(const std::vector<Synonyms>& names, const std::vector<bool>& isthing,
                 const std::string& source, bool allow_dup) {
  if (names.empty()) {
    refuse("expected at least one class, received an empty vocabulary from " + source);
  }
  check_duplicates(names, allow_dup);
  Vocabulary out;
  for (const auto& syn : names) {
    std::vector<std::string> utf8;
    for (const auto& s : syn) utf8.push_back(encode_utf8(s));
    out.names.push_back(std::move(utf8));
  }
  out.isthing = isthing;
  return out;
}

std::string key_misused(const std::string& key, const std::string& what) {
  return "expected key only with a JSON dict of vocabularies (a .json file, JSON text or a "
         "dict), received key=" + py_repr_utf8(key) + " with " + what + "; drop key";
}

// _parse_isthing: booleans or the integers 0/1 (categories.json uses 0/1).
bool parse_isthing(const Json& value, const std::string& where) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer() || value.is_number_unsigned()) {
    if (value.is_number_unsigned() ? value.get<uint64_t>() <= 1
                                   : (value.get<int64_t>() == 0 || value.get<int64_t>() == 1)) {
      return value.get<int64_t>() == 1;
    }
  }
  refuse(where + ": expected 'isthing' true/false or 0/1, received " + py_type_name(value) + " " +
         py_repr_json(value) + "; write a JSON boolean: \"isthing\": true");
}

// Catch misspelt keys ('isThing', 'is_thing', 'name'); extra keys such as 'id' are fine.
void check_entry_keys(const Json& entry, const std::string& where) {
  for (const auto& [k, v] : entry.items()) {
    std::u32string folded = py_lower(utf8_name(k, where));
    for (char32_t drop : {U'_', U'-', U' '}) folded.erase(std::remove(folded.begin(), folded.end(), drop), folded.end());
    const std::string target = folded == U"name" ? "names" : encode_utf8(folded);
    if ((target == "names" || target == "isthing") && k != target && !entry.contains(target)) {
      refuse(where + ": expected the key " + py_repr_utf8(target) + ", received " +
             py_repr_utf8(k) + " in " + py_repr_json(entry) + "; rename it to " +
             py_repr_utf8(target));
    }
  }
}

std::pair<Synonyms, bool> parse_entry(const Json& entry, const std::string& where) {
  if (entry.is_object()) check_entry_keys(entry, where);
  if (!entry.is_object() || !entry.contains("names")) {
    refuse(where + ": expected an object like {\"names\": [\"cat\", \"kitty\"], \"isthing\": "
           "true}, received " + py_repr_json(entry));
  }
  const Json& raw = entry["names"];
  Synonyms syn;
  if (raw.is_string()) {
    syn = clean_synonyms(split_u32(utf8_name(raw.get_ref<const std::string&>(), where)), where);
  } else if (raw.is_array()) {
    syn = clean_json_synonyms(raw, where);
  } else {
    refuse(where + ": expected 'names' as a list of strings, received " + py_repr_json(raw));
  }
  const bool isthing = entry.contains("isthing") ? parse_isthing(entry["isthing"], where) : true;
  return {std::move(syn), isthing};
}

Vocabulary parse_entries(const Json& entries, const std::string& source, bool allow_dup) {
  if (!entries.is_array()) {
    refuse(source + ": expected a list of class objects, received " + py_type_name(entries));
  }
  std::vector<Synonyms> names;
  std::vector<bool> isthing;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto [syn, thing] = parse_entry(entries[i], source + ", entry " + std::to_string(i));
    names.push_back(std::move(syn));
    isthing.push_back(thing);
  }
  return build(names, isthing, source, allow_dup);
}

const Json& pick_vocabulary(const Json& data, const std::optional<std::string>& key,
                            const std::string& source) {
  if (data.contains("names")) {
    refuse(source + ": expected a list of class objects, received a single object " +
           py_repr_json(data) + "; wrap it in a list: [{\"names\": [...]}]");
  }
  if (data.empty()) refuse(source + ": expected vocabularies, received an empty object {}");
  if (!key || !data.contains(*key)) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : data.items()) keys.push_back(k);
    const std::string first = keys.front();
    std::sort(keys.begin(), keys.end());
    std::string listed = "[";
    for (size_t i = 0; i < keys.size(); ++i) listed += (i ? ", " : "") + py_repr_utf8(keys[i]);
    refuse(source + " holds several vocabularies: expected key= naming one of " + listed +
           "], received key=" + (key ? py_repr_utf8(*key) : std::string("None")) +
           "; pick one, e.g. parse_vocabulary(..., key=" + py_repr_utf8(first) + ")");
  }
  return data[*key];
}

Vocabulary parse_json_data(const Json& data, const VocabularyOptions& options,
                           const std::string& source) {
  if (data.is_object()) {
    const Json& picked = pick_vocabulary(data, options.key, source);
    return parse_entries(picked, source + "[" + py_repr_utf8(*options.key) + "]",
                         options.allow_duplicate_names);
  }
  if (options.key) {
    refuse(source + ": expected a dict of vocabularies for key=" + py_repr_utf8(*options.key) +
           ", received a list (one vocabulary); drop key");
  }
  return parse_entries(data, source, options.allow_duplicate_names);
}

// Deepest nesting of [ and { outside strings: Python's json gives up on very deep nesting.
size_t json_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Json decode_json(std::string_view text, const std::string& source) {
  if (json_depth(text) > kMaxJsonDepth) {
    refuse(source + ": expected a JSON list of class objects, received JSON nested too deeply "
           "to parse");
  }
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e400
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line ..."
    if (const size_t end = what.find("] "); what.starts_with("[json.") && end != std::string::npos) {
      what.erase(0, end + 2);
    }
    refuse(source + ": expected valid JSON, parsing failed: " + what);
  }
}

std::string read_text(const std::string& path) {
  std::string error;
  const auto bytes = read_bytes(path, error);
  const std::string shown = python_path_string(path);
  if (!bytes) refuse(shown + ": expected a readable vocabulary file, reading failed: " + error);
  std::string_view text = *bytes;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // utf-8-sig
  if (const auto bad = find_utf8_error(text)) {
    refuse(shown + ": expected a UTF-8 text file, but byte " + std::to_string(bad->start) +
           " is not UTF-8 (" + bad->reason + "); re-save the file as UTF-8 (or check that it is "
           "a vocabulary, not an image or archive)");
  }
  return std::string(text);
}

// One 'ID:name,synonym,...' line -> synonyms, or nothing for placeholders and blank lines.
std::optional<Synonyms> parse_txt_line(const std::u32string& line, size_t lineno,
                                       const std::string& path) {
  if (py_strip(line).empty()) return std::nullopt;
  const size_t colon = line.find(U':');
  std::u32string id = colon == std::u32string::npos ? U"" : py_strip(line.substr(0, colon));
  id.erase(0, id.find_first_not_of(U'-') == std::u32string::npos ? id.size()
                                                                  : id.find_first_not_of(U'-'));
  const std::string where = path + ":" + std::to_string(lineno);
  if (colon == std::u32string::npos || !py_isdigit(id)) {
    refuse(where + ": expected a line 'ID:name,synonym,...' with an integer ID, received " +
           py_repr(line));
  }
  const std::u32string rest = line.substr(colon + 1);
  if (py_strip(rest) == kInvalid) return std::nullopt;
  return clean_synonyms(split_u32(rest), where);
}

Vocabulary parse_txt(const std::string& path, bool allow_dup) {
  const std::string shown = python_path_string(path);
  std::vector<Synonyms> names;
  size_t lineno = 0;
  for (const std::u32string& line : py_splitlines(decode_utf8(read_text(path)))) {
    if (auto syn = parse_txt_line(line, ++lineno, shown)) names.push_back(std::move(*syn));
  }
  return build(names, std::vector<bool>(names.size(), true), shown, allow_dup);
}

Vocabulary parse_path(const std::string& raw_path, const VocabularyOptions& options) {
  const std::string path = expand_user(raw_path);
  const std::string shown = python_path_string(path);
  if (is_directory(path)) {
    refuse("expected a vocabulary file, received the folder " + py_repr_utf8(shown) +
           "; pass one of its .txt or .json files");
  }
  if (!is_regular_file(path)) {
    refuse("expected a vocabulary file at " + py_repr_utf8(shown) + ", but no such file exists; "
           "check the path, or pass class names as 'cat,dog,grass'");
  }
  if (encode_utf8(py_lower(decode_utf8(path_suffix(path)))) == ".json") {
    return parse_json_data(decode_json(read_text(path), shown), options, shown);
  }
  if (options.key) refuse(key_misused(*options.key, "the txt file " + shown));
  return parse_txt(path, options.allow_duplicate_names);
}

bool ends_with(std::u32string_view text, std::u32string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A string is a path when such a file exists, it ends in .txt / .json or '/', or it starts like
// one ('/', './', '../', '~'): never a class name.
bool looks_like_path(std::string_view source, const std::u32string& text) {
  if (is_regular_file(source)) return true;
  const std::u32string lower = py_lower(text);
  return ends_with(lower, U".txt") || ends_with(lower, U".json") || ends_with(lower, U"/") ||
         text.starts_with(U"/") || text.starts_with(U"./") || text.starts_with(U"../") ||
         text.starts_with(U"~");
}

Vocabulary parse_string(const std::u32string& text, bool allow_dup) {
  const Synonyms items = split_u32(text);
  if (std::all_of(items.begin(), items.end(), [](const auto& s) { return s.empty(); })) {
    return build({}, {}, "an empty string", allow_dup);
  }
  if (std::any_of(items.begin(), items.end(), [](const auto& s) { return s.empty(); })) {
    refuse("expected comma-separated class names like 'cat,dog,grass', received " +
           py_repr(text) + " with an empty name; remove doubled or trailing commas");
  }
  std::vector<Synonyms> names;
  for (size_t i = 0; i < items.size(); ++i) {
    check_printable(items[i], "class " + std::to_string(i));
    names.push_back({items[i]});
  }
  return build(names, std::vector<bool>(names.size(), true), "a string", allow_dup);
}

std::pair<Synonyms, bool> parse_list_item(const Json& item, size_t i) {
  const std::string where = "class " + std::to_string(i);
  if (item.is_string()) {
    return {clean_synonyms(split_u32(utf8_name(item.get_ref<const std::string&>(), where)), where),
            true};
  }
  if (item.is_array()) return {clean_json_synonyms(item, where), true};
  if (item.is_object()) return parse_entry(item, where);
  refuse(where + ": expected a string, a list of synonyms or a class object, received " +
         py_type_name(item) + " " + py_repr_json(item));
}

Vocabulary parse_list(const Json& items, bool allow_dup) {
  std::vector<Synonyms> names;
  std::vector<bool> isthing;
  for (size_t i = 0; i < items.size(); ++i) {
    auto [syn, thing] = parse_list_item(items[i], i);
    names.push_back(std::move(syn));
    isthing.push_back(thing);
  }
  return build(names, isthing, "a list", allow_dup);
}

}  // namespace

size_t Vocabulary::max_synonyms() const {
  size_t most = 0;
  for (const auto& syn : names) most = std::max(most, syn.size());
  return most;
}

std::vector<std::string> Vocabulary::display_names() const {
  std::vector<std::string> out;
  for (const auto& syn : names) out.push_back(syn.front());
  return out;
}

std::vector<std::string> split_synonyms(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& s : split_u32(utf8_name(text, "class names"))) out.push_back(encode_utf8(s));
  return out;
}

Vocabulary parse_vocabulary(std::string_view source, const VocabularyOptions& options) {
  const std::u32string text = utf8_name(source, "the vocabulary");
  const std::u32string stripped = py_lstrip(text);
  const bool json_like = stripped.starts_with(U"[") || stripped.starts_with(U"{");
  if (json_like && !is_regular_file(source)) {
    return parse_json_data(decode_json(source, "JSON text"), options, "JSON text");
  }
  if (looks_like_path(source, text)) return parse_path(std::string(source), options);
  if (options.key) refuse(key_misused(*options.key, "comma-separated class names"));
  return parse_string(text, options.allow_duplicate_names);
}

Vocabulary parse_vocabulary_file(const std::filesystem::path& path,
                                 const VocabularyOptions& options) {
  return parse_path(path.string(), options);
}

Vocabulary parse_vocabulary_list(const std::vector<std::string>& classes,
                                 bool allow_duplicate_names) {
  Json items = Json::array();
  for (const auto& c : classes) items.push_back(c);
  return parse_list(items, allow_duplicate_names);
}

Vocabulary parse_vocabulary_synonyms(const std::vector<std::vector<std::string>>& classes,
                                     bool allow_duplicate_names) {
  Json items = Json::array();
  for (const auto& c : classes) items.push_back(c);
  return parse_list(items, allow_duplicate_names);
}

Vocabulary parse_vocabulary_json(const Json& source, const VocabularyOptions& options) {
  if (source.is_string()) return parse_vocabulary(source.get_ref<const std::string&>(), options);
  if (source.is_object()) return parse_json_data(source, options, "the dict");
  if (options.key) refuse(key_misused(*options.key, "a " + py_type_name(source)));
  if (source.is_array()) return parse_list(source, options.allow_duplicate_names);
  refuse("expected a file path, a comma-separated string or a list of class names, received " +
         py_type_name(source));
}

std::vector<bool> seen_flags(const Vocabulary& vocabulary, const Vocabulary& train) {
  std::unordered_set<std::string> known;
  for (const auto& syn : train.names) known.insert(syn.begin(), syn.end());
  std::vector<bool> out;
  for (const auto& syn : vocabulary.names) {
    out.push_back(std::any_of(syn.begin(), syn.end(),
                              [&](const std::string& s) { return known.count(s) > 0; }));
  }
  return out;
}

SynonymIndex padded_synonym_index(const Vocabulary& vocabulary) {
  SynonymIndex out;
  out.classes = vocabulary.num_classes();
  out.synonyms = vocabulary.max_synonyms();
  out.index.assign(out.classes * out.synonyms, -1);
  for (size_t c = 0; c < out.classes; ++c) {
    const auto& syn = vocabulary.names[c];
    for (size_t s = 0; s < syn.size(); ++s) {
      out.index[c * out.synonyms + s] = static_cast<int64_t>(out.flat.size());
      out.flat.push_back(syn[s]);
    }
  }
  for (int64_t i : out.index) out.mask.push_back(i >= 0 ? 1 : 0);
  return out;
}

Vocabulary vocabulary_from_record(const nlohmann::json& record) {
  return vocabulary_from_record(Json::parse(record.dump()));
}

Vocabulary vocabulary_from_record(const Json& record) {
  const std::string where = "the manifest's train_vocabulary";
  const Json empty = Json::object();
  const Json& rec = record.is_object() ? record : empty;
  const Json none;
  const Json& names = rec.contains("names") ? rec["names"] : none;
  const Json& isthing = rec.contains("isthing") ? rec["isthing"] : none;
  auto describe = [](const Json& v) {
    return v.is_array() ? "a list of " + std::to_string(v.size()) : py_type_name(v);
  };
  if (!names.is_array() || !isthing.is_array() || names.size() != isthing.size()) {
    refuse(where + ": expected 'names' (a list of synonym lists) and 'isthing' (a list of "
           "booleans) of equal length, received " + describe(names) + " and " +
           describe(isthing) + "; re-export the model to rewrite the manifest");
  }
  std::vector<Synonyms> syns;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string at = where + ", class " + std::to_string(i);
    if (!names[i].is_array()) {
      refuse(at + ": expected a list of synonyms, received " + py_repr_json(names[i]));
    }
    syns.push_back(clean_json_synonyms(names[i], at));
  }
  std::vector<bool> flags;
  for (size_t i = 0; i < isthing.size(); ++i) {
    flags.push_back(parse_isthing(isthing[i], where + ", class " + std::to_string(i)));
  }
  return build(syns, flags, where, true);
}

}  // namespace frozenseg::text
