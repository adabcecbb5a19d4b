// What a TensorRT engine was built from and for: the JSON sidecar `frozenseg-deploy build` writes
// next to each engine (runtime/backends/tensorrt/engine_meta.py), read and checked before the
// engine is deserialized. No TensorRT needed: built and tested everywhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/tensorrt/profiles.hpp"

namespace frozenseg::tensorrt {

inline constexpr int kMetadataSchema = 1;
// engine_meta.BUILD_RECIPE: engines of an older recipe are refused (recipe 1 left TF32 on).
inline constexpr std::int64_t kBuildRecipe = 2;
// engine_meta.MEMORY_TOLERANCE: memory sizes further apart than this fraction are other modules.
inline constexpr double kMemoryTolerance = 1.0 / 8.0;
// env.MIN_TENSORRT: strongly typed networks, getDeviceMemorySizeV2, setDeviceMemoryV2.
inline constexpr int kMinTensorRTMajor = 10;
inline constexpr int kMinTensorRTMinor = 1;

struct EngineMetadata {
  std::string graph;
  std::string precision;  // this graph's own precision: the index key with `graph`
  std::string onnx_file;
  std::string onnx_sha256;
  std::vector<std::pair<std::string, std::string>> external_data;  // (file, sha256)
  Profile profiles;
  std::string tensorrt_version;  // as the builder's `tensorrt.__version__`: "10.3.0" or "10.3.0.26"
  std::string gpu_name;
  std::string compute_capability;  // "major.minor"
  std::int64_t workspace_bytes = 0;
  std::int64_t builder_optimization_level = 0;
  std::int64_t sm_count = 0;             // 0: not recorded (Jetson Orin modules all say "Orin", 8.7)
  std::int64_t gpu_memory_bytes = 0;     // 0: not recorded
  bool tf32 = true;                      // absent: recipe 1, which left TF32 on
  bool activation_resize = false;        // PreviewFeature kRUNTIME_ACTIVATION_RESIZE_10_10
  std::int64_t device_memory_bytes = 0;  // a context's activations at the profile max, as built
  std::int64_t build_recipe = 1;         // absent: 1
  std::string manifest_precision;  // what the build was asked for (`mixed` picks per graph)
  std::string engine_file;         // relative to the engines folder
  std::string engine_sha256;
  std::int64_t engine_bytes = 0;
};

// The sidecar at `path`. Throws frozenseg::Error(FS_ARTIFACT_ERROR) naming the file when it cannot
// be read, is not schema 1, lacks a required field or has one of the wrong type.
EngineMetadata read_engine_metadata(const std::filesystem::path& path);

// Python's shlex.join of `frozenseg-deploy build --artifacts A --precision P [--graphs G...]
// [--force]`: the exact command that (re)builds these engines.
std::string rebuild_command(const std::filesystem::path& artifacts, const std::string& precision,
                            const std::vector<std::string>& graphs, bool force = true);

// What the running machine is; an unset field is not checked.
struct EngineTarget {
  std::optional<std::string> tensorrt_version;  // "major.minor.patch.build" of the loaded libnvinfer
  std::optional<std::string> gpu_name;
  std::optional<std::string> compute_capability;
  std::optional<std::string> onnx_sha256;  // the manifest's graph
  std::optional<std::int64_t> sm_count;
  std::optional<std::int64_t> gpu_memory_bytes;
};

// engine_meta.memory_matches: within kMemoryTolerance of the recorded size (0 on either side: unknown).
bool memory_matches(std::int64_t recorded, std::int64_t running);

// env.tensorrt_version_problem: why TensorRT `version` cannot run this code, or "" when it can.
std::string tensorrt_version_problem(const std::string& version);

// Whether the sidecar's version (3 or 4 dot-separated numbers) names this library version: every
// component it gives must match ("10.3.0" matches 10.3.0.26; "10.3.0.26" does not match 10.3.0.30).
bool tensorrt_version_matches(const std::string& recorded, const std::string& running);

// Throws frozenseg::Error(FS_ARTIFACT_ERROR) listing every difference between the engine's
// metadata and `target`, and the command that rebuilds it (engine_meta.check_engine_compatible).
void check_engine_compatible(const EngineMetadata& meta, const EngineTarget& target,
                             const std::filesystem::path& artifacts);

}  // namespace frozenseg::tensorrt
