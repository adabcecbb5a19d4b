#include "core/manifest.hpp"

#include <algorithm>
#include <sstream>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/json_number.hpp"
#include "common/sha256.hpp"

namespace frozenseg {
namespace {

using json = nlohmann::json;

// What both runtimes read (runtime/manifest.py _REQUIRED), by section.
const std::vector<std::pair<std::string, std::vector<std::string>>>& required_keys() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
      {"", {"schema_version", "preset", "constants", "graphs", "versions", "weights", "runtime"}},
      {"constants.preprocessing",
       {"clip_mean", "clip_std", "sam_mean", "sam_std", "pad_multiple", "sam_size", "resize_short",
        "resize_max"}},
      {"constants.text",
       {"templates", "context_length", "bpe_sha256", "sot_token", "eot_token", "pad_token"}},
      {"constants.inference",
       {"object_mask_threshold", "overlap_threshold", "instance_topk", "log_eps",
        "instance_score_eps"}},
      {"constants.train_vocabulary", {"names", "isthing"}},
      {"runtime", {"graphs", "prompts_per_text_call", "encoder_schedule"}},
      {"runtime.encoder_schedule", {"schedules", "cpu_backend", "many_cores"}},
  };
  return keys;
}

// Python's repr of a list of strings: ['a', 'b'].
std::string repr_list(const std::vector<std::string>& items) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < items.size(); ++i) out << (i ? ", " : "") << '\'' << items[i] << '\'';
  out << ']';
  return out.str();
}

const json& section(const json& data, const std::string& dotted) {
  const json* node = &data;
  std::string part;
  std::istringstream parts(dotted);
  while (std::getline(parts, part, '.')) {
    if (part.empty()) continue;
    if (!node->is_object() || !node->contains(part))
      fail_artifact("manifest lacks section '" + dotted + "'");
    node = &(*node)[part];
  }
  if (!node->is_object())
    fail_artifact("manifest section '" + (dotted.empty() ? "top level" : dotted) +
                  "' must be an object");
  return *node;
}

std::vector<TensorSpec> tensors(const json& items, const std::string& where) {
  if (!items.is_array()) fail_artifact(where + " must be a list of tensors");
  std::vector<TensorSpec> out;
  for (const json& item : items) {
    std::vector<std::string> missing;
    for (const char* key : {"name", "dtype", "shape"})
      if (!item.is_object() || !item.contains(key)) missing.emplace_back(key);
    if (!missing.empty()) fail_artifact(where + ": tensor entry " + item.dump() + " lacks " + repr_list(missing));
    TensorSpec spec;
    spec.name = item["name"].get<std::string>();
    auto dtype = dtype_from_name(item["dtype"].get<std::string>());
    if (!dtype)
      fail_artifact(where + ": tensor '" + spec.name + "' has dtype '" + item["dtype"].get<std::string>() +
                    "'; expected one of float32, float16, int64, int32, bool (re-export)");
    spec.dtype = *dtype;
    for (const json& dim : item["shape"]) {
      if (dim.is_number_integer()) spec.shape.emplace_back(json_integer(dim));
      else if (dim.is_string()) spec.shape.emplace_back(dim.get<std::string>());
      else fail_artifact(where + ": tensor '" + spec.name + "' has a dim that is neither an int nor a name");
    }
    out.push_back(std::move(spec));
  }
  return out;
}

std::vector<ExternalData> external(const json& entry, const std::string& where) {
  std::vector<ExternalData> out;
  if (!entry.contains("external_data")) return out;
  const json& items = entry["external_data"];
  bool ok = items.is_array();
  if (ok)
    for (const json& e : items) ok = ok && e.is_object() && e.contains("file") && e.contains("sha256");
  if (!ok) fail_artifact(where + ".external_data must be a list of {file, sha256}");
  for (const json& e : items) out.push_back({e["file"].get<std::string>(), e["sha256"].get<std::string>()});
  return out;
}

std::vector<GraphVariant> variants(const json& entry, const std::string& where) {
  std::vector<GraphVariant> out;
  if (!entry.contains("variants")) return out;
  const json& items = entry["variants"];
  bool ok = items.is_array();
  if (ok) {
    for (const json& v : items) {
      ok = ok && v.is_object() && v.contains("file") && v.contains("sha256") && v.contains("backends") &&
           v["file"].is_string() && v["sha256"].is_string() && v["backends"].is_array();
      if (ok)
        for (const json& b : v["backends"]) ok = ok && b.is_string();
    }
  }
  if (!ok) fail_artifact(where + ".variants must be a list of {file, sha256, backends, ...}");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json& v = items[i];
    out.push_back({v["file"].get<std::string>(), v["sha256"].get<std::string>(),
                   v["backends"].get<std::vector<std::string>>(),
                   external(v, where + ".variants[" + std::to_string(i) + "]")});
  }
  return out;
}

std::vector<std::string> names_of(const std::vector<TensorSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& t : specs) names.push_back(t.name);
  return names;
}

GraphSpec graph(const GraphFacts& facts, const json& entry) {
  const std::string& name = facts.name;
  const std::string where = "graphs." + name;
  std::vector<std::string> missing;
  for (const char* key : {"file", "sha256", "inputs", "outputs", "dims", "opset"})
    if (!entry.is_object() || !entry.contains(key)) missing.emplace_back(key);
  if (!missing.empty()) fail_artifact(where + " lacks " + repr_list(missing));
  GraphSpec spec;
  spec.name = name;
  spec.file = entry["file"].get<std::string>();
  spec.sha256 = entry["sha256"].get<std::string>();
  spec.inputs = tensors(entry["inputs"], where + ".inputs");
  spec.outputs = tensors(entry["outputs"], where + ".outputs");
  spec.opset = json_integer<int>(entry["opset"]);
  spec.external_data = external(entry, where);
  if (!entry["dims"].is_object()) fail_artifact(where + ".dims must be an object");
  for (const auto& [dim, range] : entry["dims"].items()) {
    DimRange r;
    r.min = json_integer(range.at("min"));
    r.opt = json_integer(range.at("opt"));
    r.max = json_integer(range.at("max"));
    if (range.contains("multiple")) r.multiple = json_integer(range["multiple"]);
    spec.dims.emplace(dim, r);
  }
  if (names_of(spec.inputs) != facts.inputs)
    fail_artifact(where + ": inputs " + repr_list(names_of(spec.inputs)) + " != " + repr_list(facts.inputs));
  if (names_of(spec.outputs) != facts.outputs)
    fail_artifact(where + ": outputs " + repr_list(names_of(spec.outputs)) + " != " + repr_list(facts.outputs));
  for (const auto* list : {&spec.inputs, &spec.outputs})
    for (const auto& t : *list)
      for (const auto& d : t.shape)
        if (const auto* dim = std::get_if<std::string>(&d); dim && !spec.dims.count(*dim))
          fail_artifact(where + ": tensor " + t.name + " uses dim '" + *dim + "' with no range in dims");
  return spec;
}

// runtime.backend_choice (since stop 31), checked as Python's backends/factory.py backend_choice
// checks it, with its messages.
BackendChoice backend_choice(const json& record) {
  std::vector<std::string> lists[2];
  const char* keys[2] = {"auto_order", "fp32_files_only"};
  for (int i = 0; i < 2; ++i) {
    const json* value = record.is_object() && record.contains(keys[i]) ? &record.at(keys[i]) : nullptr;
    if (value == nullptr || !value->is_array() ||
        !std::all_of(value->begin(), value->end(), [](const json& v) { return v.is_string(); }))
      fail_artifact(std::string("manifest runtime.backend_choice.") + keys[i] + " must be a list of backend names");
    lists[i] = value->get<std::vector<std::string>>();
  }
  for (const auto& names : lists)
    for (const std::string& name : names)
      if (name == "auto" || name == "tensorrt" || std::find(kBackends.begin(), kBackends.end(), name) == kBackends.end())
        fail_artifact("manifest runtime.backend_choice names backend '" + name + "', which auto may not pick");
  if (lists[0].empty()) fail_artifact("manifest runtime.backend_choice.auto_order is empty");
  return {std::move(lists[0]), std::move(lists[1])};
}

// The `runtime` section (its keys are checked before): what this library reads instead of copies.
RuntimeFacts runtime_facts(const json& section) {
  RuntimeFacts facts;
  for (const json& g : section.at("graphs")) {
    GraphFacts graph;
    graph.name = g.at("name").get<std::string>();
    graph.inputs = g.at("inputs").get<std::vector<std::string>>();
    graph.outputs = g.at("outputs").get<std::vector<std::string>>();
    graph.stage = g.at("stage").get<std::string>();
    graph.shares_activations = g.at("shares_activations").get<bool>();
    facts.graphs.push_back(std::move(graph));
  }
  facts.prompts_per_text_call = json_integer(section.at("prompts_per_text_call"));
  const json& rule = section.at("encoder_schedule");
  facts.encoder_schedule.schedules = rule.at("schedules").get<std::vector<std::string>>();
  // cpu_backends since openvino-cpu; a manifest before it names its one CPU backend.
  facts.encoder_schedule.cpu_backends = rule.contains("cpu_backends")
                                            ? rule.at("cpu_backends").get<std::vector<std::string>>()
                                            : std::vector<std::string>{rule.at("cpu_backend").get<std::string>()};
  facts.encoder_schedule.many_cores = json_integer<int>(rule.at("many_cores"));
  facts.backend_choice = unrecorded_backend_choice();
  if (section.contains("backend_choice")) facts.backend_choice = backend_choice(section.at("backend_choice"));
  // What this library's stages run by name must be there, each stage's graphs where it runs them.
  std::vector<std::string> absent;
  for (const char* name : {GraphNames::clip_image, GraphNames::sam_image, GraphNames::clip_text, GraphNames::decoder})
    if (std::none_of(facts.graphs.begin(), facts.graphs.end(), [&](const GraphFacts& g) { return g.name == name; }))
      absent.emplace_back(name);
  if (!absent.empty())
    fail_artifact("manifest runtime.graphs lacks " + repr_list(absent) + ", which this library runs: re-export "
                  "with the frozenseg-deploy that matches this library");
  return facts;
}

}  // namespace

const GraphFacts& RuntimeFacts::graph(std::string_view name) const {
  for (const GraphFacts& g : graphs)
    if (g.name == name) return g;
  fail_artifact("manifest runtime.graphs has no graph '" + std::string(name) + "'");
}

std::vector<std::string> RuntimeFacts::graphs_of_stage(std::string_view stage) const {
  std::vector<std::string> out;
  for (const GraphFacts& g : graphs)
    if (g.stage == stage) out.push_back(g.name);
  return out;
}

std::vector<std::string> Manifest::precisions() const {
  std::vector<std::string> out = {"fp32"};
  if (raw.contains("precisions") && raw["precisions"].is_object())
    for (const auto& [name, _] : raw["precisions"].items()) out.push_back(name);
  return out;
}

Manifest Manifest::with_precision(const std::string& wanted) const {
  if (wanted == "fp32") return *this;
  const auto available = precisions();
  if (std::find(available.begin(), available.end(), wanted) == available.end()) {
    std::string listed;
    for (std::size_t i = 0; i < available.size(); ++i) listed += (i ? ", " : "") + available[i];
    fail_artifact("precision '" + wanted + "' is not in " + (root / kManifestName).string() + " (has " +
                  listed + "): run frozenseg-deploy quantize --artifacts " + root.string() +
                  " --precision " + wanted);
  }
  const json& entries = section(raw["precisions"], wanted + ".graphs");
  Manifest out = *this;
  out.precision = wanted;
  for (auto& [name, spec] : out.graphs) {
    const std::string where = "precisions." + wanted + ".graphs." + name;
    const json entry = entries.contains(name) ? entries[name] : json();
    std::vector<std::string> missing;
    for (const char* key : {"file", "sha256", "precision"})
      if (!entry.is_object() || !entry.contains(key)) missing.emplace_back(key);
    if (!missing.empty()) fail_artifact(where + " lacks " + repr_list(missing));
    spec.file = entry["file"].get<std::string>();
    spec.sha256 = entry["sha256"].get<std::string>();
    spec.external_data = external(entry, where);
    spec.precision = entry["precision"].get<std::string>();
    spec.variants = variants(entry, where);
  }
  return out;
}

Manifest validate_manifest(json data, const std::filesystem::path& root) {
  if (!data.is_object()) fail_artifact("manifest must be a JSON object");
  const json version = data.contains("schema_version") ? data["schema_version"] : json();
  if (version != json(kManifestSchemaVersion))
    fail_artifact("manifest schema_version " + (version.is_null() ? std::string("None") : version.dump()) +
                  " is not supported (this runtime reads " + std::to_string(kManifestSchemaVersion) +
                  "); re-export with the matching frozenseg-deploy");
  try {
    for (const auto& [dotted, keys] : required_keys()) {
      const json& node = section(data, dotted);
      std::vector<std::string> missing;
      for (const auto& key : keys)
        if (!node.contains(key)) missing.push_back(key);
      if (!missing.empty())
        fail_artifact("manifest section '" + (dotted.empty() ? "top level" : dotted) + "' lacks " +
                      repr_list(missing));
    }
    Manifest manifest;
    manifest.facts = runtime_facts(section(data, "runtime"));
    const json& graphs_raw = section(data, "graphs");
    std::vector<std::string> absent;
    for (const auto& facts : manifest.facts.graphs)
      if (!graphs_raw.contains(facts.name)) absent.push_back(facts.name);
    if (!absent.empty()) fail_artifact("manifest lacks graphs " + repr_list(absent));
    for (const auto& facts : manifest.facts.graphs) manifest.graphs.emplace(facts.name, graph(facts, graphs_raw[facts.name]));
    manifest.raw = std::move(data);
    manifest.root = root;
    return manifest;
  } catch (const json::exception& e) {  // a value of the wrong JSON type
    fail_artifact(std::string("manifest.json has a value of the wrong type: ") + e.what() + "; re-export");
  }
}

Manifest load_manifest(const std::filesystem::path& folder) {
  const auto path = folder / kManifestName;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    fail_artifact("no " + std::string(kManifestName) + " in " + folder.string() + ": export artifacts first");
  json data;
  try {
    data = json::parse(read_file_text(path, FS_ARTIFACT_ERROR));
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    fail_artifact("cannot read " + path.string() + ": " + e.what());
  }
  return validate_manifest(std::move(data), path.parent_path());
}

void verify_artifacts(const Manifest& manifest) {
  for (const auto& [name, graph] : manifest.graphs) {
    for (const GraphSpec& spec : graph.files()) {  // the graph's file and each variant's
      std::vector<std::pair<std::string, std::string>> files = {{spec.file, spec.sha256}};
      for (const auto& e : spec.external_data) files.emplace_back(e.file, e.sha256);
      for (const auto& [file, digest] : files) {
        const auto path = manifest.root / file;
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec))
          fail_artifact("artifact " + path.string() + " is missing: re-run frozenseg-deploy export");
        if (sha256_file(path) != digest)
          fail_artifact("artifact " + path.string() +
                        " does not match the sha256 in manifest.json (corrupt or replaced): re-run "
                        "frozenseg-deploy export --force");
      }
    }
  }
}

}  // namespace frozenseg
