// fs_tokenize: token ids of texts read from stdin, one JSON line out per line in, so that a
// Python test can compare the C++ tokenizer with runtime/text/tokenizer.py on any corpus.
//
//   fs_tokenize [--json] [--padded] [--fallback | --no-encoding-fix] [--context N] [--bpe PATH]
//
// Each input line is one text (raw UTF-8 without its line break, or with --json a JSON string,
// so that texts may hold line breaks). Output per line: the ids of ClipTokenizer::encode as a
// JSON list, or with --padded the whole row (start, ids, end, padding to the context length),
// or {"error": message, "status": fs_status} when the text is refused. --fallback cleans like
// the Python runtime without ftfy, --no-encoding-fix like ftfy.fix_text(fix_encoding=False).
// Exit status 0 unless the arguments or the merges are bad.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "text/tokenizer.hpp"

namespace {

int usage(const std::string& problem) {
  std::cerr << "fs_tokenize: " << problem
            << "\nusage: fs_tokenize [--json] [--padded] [--fallback | --no-encoding-fix] "
               "[--context N] [--bpe PATH]"
            << std::endl;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using frozenseg::text::ClipTokenizer;
  bool json_input = false, padded = false;
  frozenseg::text::Cleaning cleaning = frozenseg::text::Cleaning::kFtfy;
  int context = 77;
  std::filesystem::path bpe = frozenseg::text::default_bpe_path();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json_input = true;
    } else if (arg == "--padded") {
      padded = true;
    } else if (arg == "--fallback") {
      cleaning = frozenseg::text::Cleaning::kFallback;
    } else if (arg == "--no-encoding-fix") {
      cleaning = frozenseg::text::Cleaning::kFtfyWithoutEncodingFix;
    } else if ((arg == "--context" || arg == "--bpe") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--bpe") {
        bpe = value;
      } else {
        try {
          context = std::stoi(value);
        } catch (const std::exception&) {
          return usage("--context takes an integer, received '" + value + "'");
        }
      }
    } else {
      return usage("unknown or incomplete argument '" + arg + "'");
    }
  }
  try {
    const ClipTokenizer tokenizer(bpe, context, cleaning);
    std::string line;
    while (std::getline(std::cin, line)) {
      nlohmann::json out;
      try {
        std::string text = line;
        if (json_input) text = nlohmann::json::parse(line).get<std::string>();
        if (padded) {
          out = tokenizer({text}).ids;
        } else {
          out = tokenizer.encode(text);
        }
      } catch (const frozenseg::Error& e) {
        out = {{"error", e.what()}, {"status", static_cast<int>(e.status())}};
      } catch (const nlohmann::json::exception& e) {
        out = {{"error", std::string("expected a JSON string per line: ") + e.what()},
               {"status", static_cast<int>(FS_INVALID_ARGUMENT)}};
      }
      std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    std::cout.flush();
  } catch (const frozenseg::Error& e) {
    std::cerr << "fs_tokenize: error: " << e.what() << std::endl;
    return 3;
  }
  return 0;
}
