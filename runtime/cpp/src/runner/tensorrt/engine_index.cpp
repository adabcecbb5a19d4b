#include "runner/tensorrt/engine_index.hpp"

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"

namespace frozenseg::tensorrt {

namespace {

// Python's repr of a JSON scalar, for the messages that quote what a file held.
std::string python_repr(const nlohmann::json& value) {
  if (value.is_null()) return "None";
  if (value.is_string()) return "'" + value.get<std::string>() + "'";
  return value.dump();
}

}  // namespace

std::map<std::pair<std::string, std::string>, IndexEntry> read_index(const std::filesystem::path& folder) {
  const std::filesystem::path path = folder / kIndexName;
  std::map<std::pair<std::string, std::string>, IndexEntry> out;
  if (!std::filesystem::exists(path)) return out;
  std::string why;  // set when the index cannot be used
  try {
    const auto data = nlohmann::json::parse(read_file_text(path));
    const auto schema = data.is_object() ? data.value("schema_version", nlohmann::json()) : nlohmann::json();
    if (schema != nlohmann::json(kIndexSchema)) {
      why = "schema_version " + python_repr(schema) + " is not " + std::to_string(kIndexSchema);
    } else {
      for (const auto& e : data.at("engines")) {
        IndexEntry entry{e.at("graph").get<std::string>(), e.at("precision").get<std::string>(),
                         e.at("engine").get<std::string>(), e.at("metadata").get<std::string>(),
                         e.at("content_key").get<std::string>()};
        out[{entry.graph, entry.precision}] = std::move(entry);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    why = e.what();
  } catch (const Error& e) {  // the file could not be read
    why = e.what();
  }
  if (!why.empty())
    fail_artifact("cannot read engine index " + path.string() + ": " + why +
                  "; delete it and run frozenseg-deploy build --force");
  return out;
}

IndexEntry find_engine(const std::filesystem::path& artifacts, const std::string& graph,
                       const std::string& precision) {
  const std::filesystem::path folder = artifacts / kEnginesDir;
  const auto entries = read_index(folder);
  const auto it = entries.find({graph, precision});
  if (it != entries.end()) return it->second;
  const std::string mixed =
      precision == "fp32" ? "" : " (or with the manifest precision that uses it, e.g. --precision mixed)";
  fail_artifact("no TensorRT engine for " + graph + " at " + precision + " in " + (folder / kIndexName).string() +
                ": build it on this machine with " + rebuild_command(artifacts, precision, {graph}, false) + mixed);
}

std::filesystem::path artifacts_root(const std::filesystem::path& graph_path, const GraphSpec& spec) {
  const std::filesystem::path relative(spec.file);
  const auto parts = static_cast<std::size_t>(std::distance(relative.begin(), relative.end()));
  std::filesystem::path root = graph_path;
  for (std::size_t i = 0; i < std::max<std::size_t>(parts, 1); ++i) root = root.parent_path();
  return root;
}

std::string EngineRecord::rebuild_command() const {
  const std::string precision = metadata.manifest_precision.empty() ? metadata.precision : metadata.manifest_precision;
  return tensorrt::rebuild_command(artifacts, precision, {metadata.graph});
}

EngineRecord locate_engine(const GraphSpec& spec, const std::filesystem::path& artifacts) {
  const IndexEntry entry = find_engine(artifacts, spec.name, spec.precision);
  const std::filesystem::path folder = artifacts / kEnginesDir;
  EngineMetadata metadata = read_engine_metadata(folder / entry.metadata);
  EngineTarget target;
  target.onnx_sha256 = spec.sha256;
  check_engine_compatible(metadata, target, artifacts);
  return EngineRecord{folder / entry.engine, std::move(metadata), artifacts};
}

}  // namespace frozenseg::tensorrt
