// frozenseg-segment: `frozenseg-deploy segment` without Python. Same arguments (plus --threads) and
// the same files per image: labels / panoptic PNG + JSON / instances NPZ, overlay, summary JSON.
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "core/segmenter.hpp"
#include "output/files.hpp"

namespace {

const char* kUsage =
    "usage: frozenseg-segment IMAGES... --artifacts DIR --vocabulary CLASSES --out DIR\n"
    "       [--task semantic|panoptic|instance] [--backend auto|onnxruntime-cpu|...]\n"
    "       [--precision fp32|fp16|int8|mixed] [--threads N] [--cache-dir DIR] [--no-cache]\n"
    "       [--max-image-pixels N|none] [--resize SHORT,MAX|none] [--train-vocabulary CLASSES]\n"
    "       [--cuda-graph] [--encoder-schedule auto|concurrent|sequential]\n";

struct Args {
  std::vector<std::string> images;
  std::string artifacts, vocabulary, train_vocabulary, out, task = "semantic";
  frozenseg::core::SegmenterOptions options;
  bool default_resize = true;                         // the manifest's rule
  std::optional<frozenseg::image::ResizeRule> resize;  // otherwise: this rule, or none
};

// A whole decimal integer in [low, high], or nullopt.
std::optional<long long> whole_number(const std::string& text, long long low, long long high) {
  long long value = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc() || end != text.data() + text.size() || value < low || value > high) return std::nullopt;
  return value;
}

std::string lowered(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

int usage_error(const std::string& message) {
  std::cerr << kUsage << "frozenseg-segment: error: " << message << "\n";
  return 2;
}

bool parse(int argc, char** argv, Args& args, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) { error = "argument " + a + ": expected one argument"; return false; }
      into = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--artifacts") { if (!value(args.artifacts)) return false; }
    else if (a == "--vocabulary") { if (!value(args.vocabulary)) return false; }
    else if (a == "--out") { if (!value(args.out)) return false; }
    else if (a == "--task") { if (!value(args.task)) return false; }
    else if (a == "--backend") { if (!value(args.options.backend)) return false; }
    else if (a == "--precision") { if (!value(args.options.precision)) return false; }
    else if (a == "--cache-dir") { if (!value(v)) return false; args.options.cache_dir = v; }
    else if (a == "--no-cache") { args.options.memory_cache_only = true; }
    else if (a == "--train-vocabulary") { if (!value(args.train_vocabulary)) return false; }
    else if (a == "--cuda-graph") { args.options.cuda_graph = true; }
    else if (a == "--encoder-schedule") { if (!value(args.options.encoder_schedule)) return false; }
    else if (a == "--threads") {
      if (!value(v)) return false;
      const auto n = whole_number(v, 0, 1024);
      if (!n) { error = "argument --threads: a count from 0 to 1024, got '" + v + "'"; return false; }
      args.options.threads = static_cast<int>(*n);
    }
    else if (a == "--max-image-pixels") {
      if (!value(v)) return false;
      const auto n = whole_number(v, 1, std::numeric_limits<long long>::max());
      if (lowered(v) == "none") args.options.max_image_pixels = std::nullopt;
      else if (n) args.options.max_image_pixels = static_cast<std::uint64_t>(*n);
      else { error = "argument --max-image-pixels: --max-image-pixels takes a positive count or none, got '" + v + "'"; return false; }
    }
    else if (a == "--resize") {
      if (!value(v)) return false;
      args.default_resize = false;
      if (lowered(v) == "none") { args.resize = std::nullopt; continue; }
      const auto comma = v.find(',');
      const auto short_edge = comma == std::string::npos ? std::nullopt : whole_number(v.substr(0, comma), -(1LL << 31), (1LL << 31) - 1);
      const auto max_size = comma == std::string::npos ? std::nullopt : whole_number(v.substr(comma + 1), -(1LL << 31), (1LL << 31) - 1);
      if (!short_edge || !max_size) { error = "argument --resize: --resize takes SHORT,MAX (e.g. 800,1333) or none, got '" + v + "'"; return false; }
      if (*short_edge <= 0 || *max_size < *short_edge) { error = "argument --resize: --resize needs 0 < SHORT <= MAX, got '" + v + "'"; return false; }
      args.resize = frozenseg::image::ResizeRule{static_cast<int>(*short_edge), static_cast<int>(*max_size)};
    }
    else if (a == "-h" || a == "--help") { std::cout << kUsage; std::exit(0); }
    else if (a.rfind("--", 0) == 0) { error = "unrecognized argument " + a; return false; }
    else args.images.push_back(a);
  }
  if (args.images.empty()) error = "at least one image is required";
  else if (args.artifacts.empty() || args.vocabulary.empty() || args.out.empty())
    error = "--artifacts, --vocabulary and --out are required";
  return error.empty();
}

// The CLI's exit status per kind, as `frozenseg-deploy` (runtime/errors.py EXIT_CODES).
int exit_status(fs_status status) {
  switch (status) {
    case FS_INVALID_INPUT: case FS_INVALID_ARGUMENT: return 2;
    case FS_ARTIFACT_ERROR: return 3;
    case FS_BACKEND_ERROR: return 4;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // ONNX Runtime's telemetry fully off (no database under ~/.cache, no log in /tmp, no uploader
  // thread) unless the user asked otherwise: this program owns its environment.
  setenv("ORT_DISABLE_TELEMETRY", "1", /*overwrite=*/0);
  Args args;
  std::string error;
  if (!parse(argc, argv, args, error)) return usage_error(error);
  try {
    const auto task = frozenseg::output::parse_task(args.task);
    const auto t0 = std::chrono::steady_clock::now();
    auto seg = frozenseg::core::Segmenter::from_artifacts(args.artifacts, args.options);
    const auto seconds = [](auto since) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    };
    std::fprintf(stderr, "[segment] backend %s, precision %s, image encoders %s; artifacts verified in %.1f s\n",
                 seg->backend().c_str(), args.options.precision.c_str(), seg->encoder_plan().schedule.c_str(),
                 seconds(t0));
    const auto t1 = std::chrono::steady_clock::now();
    std::optional<frozenseg::text::Vocabulary> train;
    if (!args.train_vocabulary.empty()) train = frozenseg::text::parse_vocabulary(args.train_vocabulary);
    const auto stats = seg->set_vocabulary(frozenseg::text::parse_vocabulary(args.vocabulary), train ? &*train : nullptr);
    std::fprintf(stderr, "[segment] vocabulary of %zu classes ready in %.1f s (cache misses %lld)\n",
                 seg->vocabulary_state()->vocabulary.num_classes(), seconds(t1),
                 static_cast<long long>(stats.misses));
    frozenseg::image::LoadOptions load;
    load.max_pixels = args.options.max_image_pixels;
    for (std::size_t i = 0; i < args.images.size(); ++i) {
      const auto t = std::chrono::steady_clock::now();
      const auto image = frozenseg::image::load_image(args.images[i], load);
      const auto result = args.default_resize ? seg->segment(image, task) : seg->segment(image, task, args.resize);
      const auto stem = std::filesystem::path(args.images[i]).stem().string();
      const auto files = frozenseg::output::save_result(
          result, {image.data(), image.height(), image.width()}, args.out, stem);
      std::string names;
      for (const auto& f : files) names += (names.empty() ? "" : ", ") + f.filename().string();
      std::fprintf(stderr, "[segment] [%zu/%zu] %s: %.1f s -> %s\n", i + 1, args.images.size(),
                   args.images[i].c_str(), seconds(t), names.c_str());
    }
    return 0;
  } catch (const frozenseg::Error& e) {
    std::cerr << "frozenseg-segment: error: " << e.what() << "\n";
    return exit_status(e.status());
  }
}
