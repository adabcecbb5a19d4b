// fs_soak: the C library under long load, through its C ABI only. Several threads segment on one
// segmenter while one of them replaces the vocabulary every so often; the process's resident
// memory, live heap (glibc's mallinfo2: what malloc handed out and did not get back), open file
// descriptors and threads are read when the process starts ("process"), at the soak's start (after
// one segmenter was made and destroyed), after the warm-up and at the end (both with no call in
// flight), and after the segmenter is destroyed ("closed"). Prints one JSON object; the judging
// (growth after warm-up, descriptors and threads back to their start) is benchmarks/soak.py's.
//
//   fs_soak ARTIFACTS [--threads N] [--segments N] [--replace-every N] [--warmup N]
//           [--size H,W] [--image FILE]... [--vocabulary TEXT]... [--ort-threads N]
//           [--backend NAME]   (default onnxruntime-cpu, the backend the Python soak runs)
//           [--hold-kb N]      (keep N kB per segment until the end: a leak, to prove the judge sees one)
//
// Images are drawn in memory (gradients and shapes, a different one per segment) at --size and
// segmented at their own size; each --image file is also segmented, decoded every time, in turn.
// Tasks rotate semantic, panoptic, instance. Exit 0 when every call succeeded, 1 on the first
// failed call (its status and message on stderr), 2 on bad arguments.
#include <frozenseg/frozenseg.h>

#include <dirent.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Sample {
  long rss_kb = 0;
  long heap_kb = -1;  // bytes malloc has handed out and not had back; -1 where glibc cannot say
  int fds = 0;
  int threads = 0;
};

int count_entries(const char* folder) {
  DIR* dir = opendir(folder);
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - (std::string(folder) == "/proc/self/fd" ? 1 : 0);  // the one opendir holds
}

Sample sample() {
  Sample s;
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> s.rss_kb;
      break;
    }
    status.ignore(4096, '\n');
  }
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  const struct mallinfo2 heap = mallinfo2();  // every arena: in use, plus what is mmapped directly
  s.heap_kb = static_cast<long>((heap.uordblks + heap.hblkhd) / 1024);
#endif
  s.fds = count_entries("/proc/self/fd");
  s.threads = count_entries("/proc/self/task");
  return s;
}

std::string json(const Sample& s) {
  return "{\"rss_kb\": " + std::to_string(s.rss_kb) + ", \"heap_kb\": " + std::to_string(s.heap_kb) +
         ", \"fds\": " + std::to_string(s.fds) + ", \"threads\": " + std::to_string(s.threads) + "}";
}

std::vector<std::uint8_t> drawn_image(int height, int width, int seed) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(height) * width * 3);
  const int cy = (seed * 37) % height, cx = (seed * 53) % width, radius = 4 + seed % (height / 3 + 1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
      const bool inside = (y - cy) * (y - cy) + (x - cx) * (x - cx) < radius * radius;
      p[0] = inside ? 200 : static_cast<std::uint8_t>(x * 255 / width);
      p[1] = inside ? static_cast<std::uint8_t>(seed * 29) : static_cast<std::uint8_t>(y * 255 / height);
      p[2] = static_cast<std::uint8_t>((x + y + seed * 7) % 256);
    }
  }
  return rgb;
}

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr, "fs_soak: %s\nusage: fs_soak ARTIFACTS [--threads N] [--segments N] [--replace-every N] "
                       "[--warmup N] [--size H,W] [--image FILE]... [--vocabulary TEXT]... [--ort-threads N] "
                       "[--backend NAME] [--hold-kb N]\n",
               problem);
  std::exit(2);
}

int positive(const char* text, const char* what) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1 || value > 1000000) usage((std::string(what) + " must be a positive integer").c_str());
  return static_cast<int>(value);
}

}  // namespace

int main(int argc, char** argv) {
  // ONNX Runtime's telemetry fully off (no database under ~/.cache, no log in /tmp, no uploader
  // thread) unless the user asked otherwise: this program owns its environment.
  setenv("ORT_DISABLE_TELEMETRY", "1", /*overwrite=*/0);
  if (argc < 2 || argv[1][0] == '-') usage("the artifacts folder comes first");
  const char* artifacts = argv[1];
  int threads = 4, segments = 2000, replace_every = 50, warmup = 250, ort_threads = 1, height = 96, width = 128;
  int hold_kb = 0;
  std::vector<std::string> images, vocabularies;
  std::string backend = "onnxruntime-cpu";
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage((flag + " needs a value").c_str());
    const char* value = argv[++i];
    if (flag == "--threads") threads = positive(value, "--threads");
    else if (flag == "--segments") segments = positive(value, "--segments");
    else if (flag == "--replace-every") replace_every = positive(value, "--replace-every");
    else if (flag == "--warmup") warmup = positive(value, "--warmup");
    else if (flag == "--ort-threads") ort_threads = positive(value, "--ort-threads");
    else if (flag == "--image") images.emplace_back(value);
    else if (flag == "--backend") backend = value;
    else if (flag == "--hold-kb") hold_kb = positive(value, "--hold-kb");
    else if (flag == "--vocabulary") vocabularies.emplace_back(value);
    else if (flag == "--size") {
      if (std::sscanf(value, "%d,%d", &height, &width) != 2 || height < 8 || width < 8) usage("--size is H,W of at least 8");
    } else usage(("unknown option " + flag).c_str());
  }
  if (warmup >= segments) usage("--warmup must be below --segments");
  if (vocabularies.empty()) {
    vocabularies = {"cat,dog,grass,sky", "person,car,road,tree,building", "wall,floor,ceiling",
                    R"([{"names": ["boat", "ship"], "isthing": true}, {"names": ["water"], "isthing": false}])"};
  }

  fs_segmenter_options options = fs_segmenter_options_default();
  // Named, not "auto" (which picks openvino-cpu in a build with OpenVINO): both soaks measure the
  // same backend, and OpenVINO keeps a thread for the process's life (1 at the start, 2 once closed).
  options.backend = backend.c_str();
  options.threads = ort_threads;
  options.cache_dir = "";  // memory only: the soak measures the process, not a cache folder
  // One segmenter made and destroyed first: ONNX Runtime keeps process-wide state from its first
  // environment to the process's end (its environment, and with telemetry on, 1.29's database
  // and log with their descriptors and a thread). That is measured apart ("process"); the soak's
  // start is after it.
  const Sample before = sample();
  fs_segmenter_t segmenter = nullptr;
  if (fs_segmenter_create(artifacts, &options, &segmenter) != FS_OK) {
    std::fprintf(stderr, "fs_soak: fs_segmenter_create: %s\n", fs_last_error());
    return 1;
  }
  fs_segmenter_destroy(segmenter);
  segmenter = nullptr;

  const Sample start = sample();
  const auto began = std::chrono::steady_clock::now();
  if (fs_segmenter_create(artifacts, &options, &segmenter) != FS_OK) {
    std::fprintf(stderr, "fs_soak: fs_segmenter_create: %s\n", fs_last_error());
    return 1;
  }
  if (fs_segmenter_set_vocabulary_text(segmenter, vocabularies[0].c_str()) != FS_OK) {
    std::fprintf(stderr, "fs_soak: vocabulary 0: %s\n", fs_last_error());
    return 1;
  }

  std::atomic<int> next{0}, done{0}, replaced{0};
  std::atomic<bool> failed{false};
  std::mutex report;
  // The warm-up sample is taken with nothing in flight, as the end sample is: a worker that draws a
  // segment past the warm-up waits until it is taken, so both compare the memory the segmenter
  // holds, not whatever 3 other calls happened to hold at that instant.
  std::condition_variable warm_taken_signal;
  bool warm_taken = false;
  Sample warm;
  std::vector<std::unique_ptr<char[]>> held;  // --hold-kb's blocks, freed only at the end
  auto work = [&] {
    for (int i = next++; i < segments && !failed; i = next++) {
      if (i >= warmup) {
        std::unique_lock<std::mutex> lock(report);
        warm_taken_signal.wait(lock, [&] { return warm_taken || failed.load(); });
        if (failed) return;
      }
      if (i > 0 && i % replace_every == 0) {
        const auto& text = vocabularies[(i / replace_every) % vocabularies.size()];
        if (fs_segmenter_set_vocabulary_text(segmenter, text.c_str()) != FS_OK) {
          std::lock_guard<std::mutex> lock(report);
          std::fprintf(stderr, "fs_soak: set_vocabulary at segment %d: %s\n", i, fs_last_error());
          failed = true;
          warm_taken_signal.notify_all();
          return;
        }
        ++replaced;
      }
      const auto task = static_cast<fs_task>(i % 3);
      fs_result_t result = nullptr;
      fs_status status;
      const bool from_file = !images.empty() && i % 4 == 3;
      if (from_file) {
        status = fs_segment_file(segmenter, images[(i / 4) % images.size()].c_str(), task, &result);
      } else {
        const auto rgb = drawn_image(height, width, i);
        const fs_image image{rgb.data(), height, width, static_cast<int64_t>(width) * 3, FS_PIXEL_RGB};
        status = fs_segment_resized(segmenter, &image, task, 0, 0, &result);
      }
      if (status != FS_OK) {
        std::lock_guard<std::mutex> lock(report);
        std::fprintf(stderr, "fs_soak: segment %d (status %d): %s\n", i, static_cast<int>(status), fs_last_error());
        failed = true;
        warm_taken_signal.notify_all();
        return;
      }
      fs_result_release(result);
      if (hold_kb > 0) {
        auto kept = std::make_unique<char[]>(static_cast<std::size_t>(hold_kb) * 1024);
        std::memset(kept.get(), 1, static_cast<std::size_t>(hold_kb) * 1024);  // resident, not just reserved
        std::lock_guard<std::mutex> lock(report);
        held.push_back(std::move(kept));
      }
      if (++done == warmup) {  // every segment before the warm-up's end is done; the rest wait
        std::lock_guard<std::mutex> lock(report);
        warm = sample();
        warm_taken = true;
        warm_taken_signal.notify_all();
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(work);
  for (auto& worker : workers) worker.join();
  const Sample end = sample();
  fs_segmenter_destroy(segmenter);
  const Sample destroyed = sample();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  if (failed) return 1;

  std::printf("{\"runtime\": \"cpp\", \"threads\": %d, \"segments\": %d, \"replace_every\": %d, \"warmup\": %d, "
              "\"vocabularies_set\": %d, \"seconds\": %.3f,\n \"process\": %s,\n \"start\": %s,\n \"warm\": %s,\n \"end\": %s,\n"
              " \"closed\": %s}\n",
              threads, done.load(), replace_every, warmup, replaced.load() + 1, seconds, json(before).c_str(), json(start).c_str(),
              json(warm).c_str(), json(end).c_str(), json(destroyed).c_str());
  return 0;
}
