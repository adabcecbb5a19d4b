// ARTIFACTS/engines/index.json: which engine file serves each (graph, precision), and the record
// of one graph's engine found through it (runtime/backends/tensorrt/{engine_index,loader}.py).
// The runtime never guesses engine file names. No TensorRT needed: built and tested everywhere.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include "runner/graph_spec.hpp"
#include "runner/tensorrt/engine_metadata.hpp"

namespace frozenseg::tensorrt {

inline constexpr const char* kEnginesDir = "engines";
inline constexpr const char* kIndexName = "index.json";
inline constexpr int kIndexSchema = 1;

struct IndexEntry {
  std::string graph;
  std::string precision;
  std::string engine;    // file name in the engines folder
  std::string metadata;  // its JSON sidecar
  std::string content_key;
};

// The index of an engines folder; empty when it has none. Throws frozenseg::Error
// (FS_ARTIFACT_ERROR) for an unreadable index, saying how to start over.
std::map<std::pair<std::string, std::string>, IndexEntry> read_index(const std::filesystem::path& engines_folder);

// The entry of (graph, precision); FS_ARTIFACT_ERROR with the build command when there is none.
IndexEntry find_engine(const std::filesystem::path& artifacts, const std::string& graph,
                       const std::string& precision);

// The artifacts folder of a graph file: `graph_path` minus the manifest's relative `spec.file`.
std::filesystem::path artifacts_root(const std::filesystem::path& graph_path, const GraphSpec& spec);

// A built engine as the artifacts record it.
struct EngineRecord {
  std::filesystem::path path;  // the engine file
  EngineMetadata metadata;
  std::filesystem::path artifacts;

  std::string rebuild_command() const;
};

// The engine recorded for `spec`, its sidecar read and checked to name the manifest's ONNX sha256.
EngineRecord locate_engine(const GraphSpec& spec, const std::filesystem::path& artifacts);

}  // namespace frozenseg::tensorrt
