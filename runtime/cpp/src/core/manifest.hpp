// manifest.json, read and checked as runtime/manifest.py does (schema 2): the one source of every
// constant and graph fact both runtimes use. The C++ library keeps no copy of the Python runtime's
// declarations: the graph registry, the text encoder's prompts per call and the encoder-schedule
// rule come from the manifest's `runtime` section, which the exporter writes from them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/factory.hpp"
#include "runner/graph_spec.hpp"

namespace frozenseg {

inline constexpr int kManifestSchemaVersion = 2;
inline constexpr const char* kManifestName = "manifest.json";

// The names by which the stages refer to graphs and stages (runtime/graphs.py's CLIP_IMAGE, ...,
// STAGE_*): the contract's keys, as tensor names are. Which graphs exist, their tensors, stages and
// sharing are the manifest's (RuntimeFacts).
struct GraphNames {
  static constexpr const char* clip_image = "clip_image";
  static constexpr const char* sam_image = "sam_image";
  static constexpr const char* clip_text = "clip_text";
  static constexpr const char* decoder = "decoder";
};
struct StageNames {
  static constexpr const char* vocabulary = "vocabulary";
  static constexpr const char* image = "image";
  static constexpr const char* decode = "decode";
};

// One graph of the registry (manifest runtime.graphs[i], from runtime/graphs.py's GraphInfo).
struct GraphFacts {
  std::string name;
  std::vector<std::string> inputs;   // tensor names, in feed order
  std::vector<std::string> outputs;
  std::string stage;                 // graphs of one stage run concurrently, stages one after another
  bool shares_activations = false;   // may share one activation buffer with the other sharing graphs
};

// The image encoders' schedule rule (manifest runtime.encoder_schedule, from runtime/schedule.py).
struct EncoderScheduleRule {
  std::vector<std::string> schedules;  // the names a caller may ask for; "auto" decides by the rule
  std::vector<std::string> cpu_backends;  // the backends on which the encoders share the CPU's cores
  int many_cores = 0;                  // from this many cores up, a CPU runs the encoders at once
};

// The manifest's `runtime` section.
struct RuntimeFacts {
  std::vector<GraphFacts> graphs;        // in the registry's order
  std::int64_t prompts_per_text_call = 0;  // the text graph's calls, capped by its batch range
  EncoderScheduleRule encoder_schedule;
  BackendChoice backend_choice;          // what "auto" picks (unrecorded_backend_choice() when absent)

  const GraphFacts& graph(std::string_view name) const;  // FS_ARTIFACT_ERROR when absent
  std::vector<std::string> graphs_of_stage(std::string_view stage) const;
};

struct Manifest {
  nlohmann::json raw;                       // the whole document (constants are read from it)
  std::map<std::string, GraphSpec> graphs;  // by registry name
  RuntimeFacts facts;                       // the `runtime` section
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
