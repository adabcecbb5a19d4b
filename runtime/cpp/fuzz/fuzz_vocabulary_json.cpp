// text::parse_vocabulary_json on any JSON document: nlohmann's parse of the bytes (input that is
// not JSON is nlohmann's to refuse, not a finding), then the vocabulary rules on the value; for an
// object, also with its first key picking one vocabulary (VocabularyOptions::key).
#include "fuzz_support.hpp"
#include "text/vocabulary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using frozenseg::text::VocabularyOptions;
  const auto json = nlohmann::ordered_json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  frozenseg::fuzz::run([&] { (void)frozenseg::text::parse_vocabulary_json(json); });
  if (json.is_object() && !json.empty()) {
    VocabularyOptions options;
    options.key = json.begin().key();
    options.allow_duplicate_names = true;
    frozenseg::fuzz::run([&] { (void)frozenseg::text::parse_vocabulary_json(json, options); });
  }
  return 0;
}
