// frozenseg-segment: `frozenseg-deploy segment` without Python. Same arguments (those it has) and
// the same files per image: labels / panoptic PNG + JSON / instances NPZ, overlay, summary JSON.
#include <chrono>
#include <cstdio>
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
    "       [--max-image-pixels N|none]\n";

struct Args {
  std::vector<std::string> images;
  std::string artifacts, vocabulary, out, task = "semantic";
  frozenseg::SegmenterOptions options;
};

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
    else if (a == "--threads") { if (!value(v)) return false; args.options.threads = std::stoi(v); }
    else if (a == "--max-image-pixels") {
      if (!value(v)) return false;
      if (v == "none") args.options.max_image_pixels = std::nullopt;
      else args.options.max_image_pixels = std::stoull(v);
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
  Args args;
  std::string error;
  if (!parse(argc, argv, args, error)) return usage_error(error);
  try {
    const auto task = frozenseg::output::parse_task(args.task);
    const auto t0 = std::chrono::steady_clock::now();
    auto seg = frozenseg::Segmenter::from_artifacts(args.artifacts, args.options);
    const auto seconds = [](auto since) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    };
    std::fprintf(stderr, "[segment] backend %s, precision %s; artifacts verified in %.1f s\n",
                 seg->backend().c_str(), args.options.precision.c_str(), seconds(t0));
    const auto t1 = std::chrono::steady_clock::now();
    const auto stats = seg->set_vocabulary(frozenseg::text::parse_vocabulary(args.vocabulary));
    std::fprintf(stderr, "[segment] vocabulary of %zu classes ready in %.1f s (cache misses %lld)\n",
                 seg->vocabulary_state()->vocabulary.num_classes(), seconds(t1),
                 static_cast<long long>(stats.misses));
    frozenseg::image::LoadOptions load;
    load.max_pixels = args.options.max_image_pixels;
    for (std::size_t i = 0; i < args.images.size(); ++i) {
      const auto t = std::chrono::steady_clock::now();
      const auto image = frozenseg::image::load_image(args.images[i], load);
      const auto result = seg->segment(image, task);
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
