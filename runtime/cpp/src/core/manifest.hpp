// manifest.json, read and checked as runtime/manifest.py does (schema 1): the one source of every
// constant and graph fact both runtimes use.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/graph_spec.hpp"

namespace frozenseg {

inline constexpr int kManifestSchemaVersion = 1;
inline constexpr const char* kManifestName = "manifest.json";

// The graph registry's names and tensor names (runtime/graphs.py), in its order. The manifest
// must declare exactly these; the C++ stages feed and read them by name.
struct GraphNames {
  static constexpr const char* clip_image = "clip_image";
  static constexpr const char* sam_image = "sam_image";
  static constexpr const char* clip_text = "clip_text";
  static constexpr const char* decoder = "decoder";
};
const std::vector<std::string>& registry_graphs();
const std::vector<std::string>& registry_inputs(const std::string& graph);
// Whether a graph may share one activation buffer with the other sharing graphs (the registry's
// shares_activations: they never run at the same time).
bool registry_shares_activations(const std::string& graph);
const std::vector<std::string>& registry_outputs(const std::string& graph);

struct Manifest {
  nlohmann::json raw;                       // the whole document (constants are read from it)
  std::map<std::string, GraphSpec> graphs;  // by registry name
  std::filesystem::path root;               // the artifacts folder
  std::string precision = "fp32";

  const nlohmann::json& constants() const { return raw.at("constants"); }
  std::filesystem::path graph_path(const std::string& name) const { return root / graphs.at(name).file; }
  // fp32 and every precision `quantize` wrote.
  std::vector<std::string> precisions() const;
  // This manifest with each graph swapped for its `precision` variant (I/O and ranges unchanged).
  Manifest with_precision(const std::string& precision) const;
};

// Parses and validates; throws frozenseg::Error(FS_ARTIFACT_ERROR) with runtime/manifest.py's
// messages.
Manifest validate_manifest(nlohmann::json data, const std::filesystem::path& root);
Manifest load_manifest(const std::filesystem::path& folder);

// Every graph file (and external-data file) exists and matches its sha256.
void verify_artifacts(const Manifest& manifest);

}  // namespace frozenseg
