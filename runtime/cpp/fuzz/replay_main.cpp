// Replays inputs through the fuzz targets' LLVMFuzzerTestOneInput without libFuzzer, so the seed
// corpora and regression inputs run in the ordinary (g++) and sanitizer ctest builds. Every target
// is linked in, its entry point renamed fs_fuzz_<name> (fuzz.cmake lists them in fuzz_targets.inc).
// Usage: fuzz_replay TARGET FILE_OR_FOLDER...; a folder means every regular file in it, sorted.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#define FS_FUZZ_TARGET(name) extern "C" int fs_fuzz_##name(const std::uint8_t* data, std::size_t size);
#include "fuzz_targets.inc"
#undef FS_FUZZ_TARGET

namespace {

struct Target {
  const char* name;
  int (*test_one_input)(const std::uint8_t* data, std::size_t size);
};

constexpr Target kTargets[] = {
#define FS_FUZZ_TARGET(name) {#name, fs_fuzz_##name},
#include "fuzz_targets.inc"
#undef FS_FUZZ_TARGET
};

const Target* find_target(const char* name) {
  for (const auto& target : kTargets) {
    if (std::strcmp(target.name, name) == 0) return &target;
  }
  return nullptr;
}

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& given) {
  if (!std::filesystem::is_directory(given)) return {given};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(given)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  const Target* target = argc > 1 ? find_target(argv[1]) : nullptr;
  if (target == nullptr) {
    std::fprintf(stderr, "usage: fuzz_replay TARGET FILE_OR_FOLDER...; the targets:");
    for (const auto& known : kTargets) std::fprintf(stderr, " %s", known.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  std::size_t count = 0;
  for (int i = 2; i < argc; ++i) {
    for (const auto& path : inputs_of(argv[i])) {
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        return 1;
      }
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::fprintf(stderr, "replay: %s\n", path.c_str());  // names the input a crash comes from
      // A copy of exactly the input's size, so reads past its end are seen by AddressSanitizer.
      std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
      target->test_one_input(copy.empty() ? nullptr : copy.data(), copy.size());
      ++count;
    }
  }
  if (count == 0) {
    std::fprintf(stderr, "replay: no inputs (pass files or folders of them)\n");
    return 1;
  }
  std::printf("replay %s: %zu inputs, no finding\n", target->name, count);
  return 0;
}
