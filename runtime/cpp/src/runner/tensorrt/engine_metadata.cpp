#include "runner/tensorrt/engine_metadata.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/json_number.hpp"

namespace frozenseg::tensorrt {
namespace {

using json = nlohmann::json;

Shape shape_of(const json& values) { return json_integers(values); }

ShapeRange range_from_json(const json& data) {
  ShapeRange r{shape_of(data.at("min")), shape_of(data.at("opt")), shape_of(data.at("max")), {}};
  r.multiple = data.contains("multiple") ? shape_of(data["multiple"]) : Shape(r.min.size(), 1);
  return r;
}

// shlex.quote: words of [A-Za-z0-9_@%+=:,./-] stay bare; others are single-quoted.
std::string shell_quote(const std::string& word) {
  if (word.empty()) return "''";
  bool safe = true;
  for (const unsigned char c : word) {
    const bool word_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word_char && std::string_view("@%+=:,./-").find(static_cast<char>(c)) == std::string_view::npos) {
      safe = false;
      break;
    }
  }
  if (safe) return word;
  std::string out = "'";
  for (const char c : word) out += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> split_dots(const std::string& text) {
  std::vector<std::string> parts(1);
  for (const char c : text) {
    if (c == '.') parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

}  // namespace

EngineMetadata read_engine_metadata(const std::filesystem::path& path) {
  const std::string where = path.string();
  json data;
  try {
    data = json::parse(read_file_text(path));
  } catch (const json::exception& e) {
    fail_artifact("cannot read engine metadata " + where + ": " + e.what());
  } catch (const Error& e) {
    fail_artifact("cannot read engine metadata " + where + ": " + e.what());
  }
  if (!data.is_object() || data.value("schema_version", json()) != json(kMetadataSchema))
    fail_artifact(where + ": not engine metadata of schema " + std::to_string(kMetadataSchema));
  std::string missing;  // in sorted order, as Python lists them
  for (const char* key : {"builder_optimization_level", "compute_capability", "external_data", "gpu_name", "graph",
                          "onnx_file", "onnx_sha256", "precision", "profiles", "tensorrt_version", "workspace_bytes"})
    if (!data.contains(key)) missing += (missing.empty() ? "'" : ", '") + std::string(key) + "'";
  if (!missing.empty()) fail_artifact(where + " lacks [" + missing + "]");
  try {
    EngineMetadata m;
    m.graph = data.at("graph").get<std::string>();
    m.precision = data.at("precision").get<std::string>();
    m.onnx_file = data.at("onnx_file").get<std::string>();
    m.onnx_sha256 = data.at("onnx_sha256").get<std::string>();
    for (const json& e : data.at("external_data"))
      m.external_data.emplace_back(e.at("file").get<std::string>(), e.at("sha256").get<std::string>());
    for (const auto& [name, range] : data.at("profiles").items()) m.profiles.emplace(name, range_from_json(range));
    m.tensorrt_version = data.at("tensorrt_version").get<std::string>();
    m.gpu_name = data.at("gpu_name").get<std::string>();
    m.compute_capability = data.at("compute_capability").get<std::string>();
    m.workspace_bytes = json_integer(data.at("workspace_bytes"));
    m.builder_optimization_level = json_integer(data.at("builder_optimization_level"));
    m.sm_count = json_integer_or(data, "sm_count", std::int64_t{0});
    m.gpu_memory_bytes = json_integer_or(data, "gpu_memory_bytes", std::int64_t{0});
    m.tf32 = data.value("tf32", true);
    m.activation_resize = data.value("activation_resize", false);
    m.device_memory_bytes = json_integer_or(data, "device_memory_bytes", std::int64_t{0});
    m.build_recipe = json_integer_or(data, "build_recipe", std::int64_t{1});
    m.manifest_precision = data.value("manifest_precision", "");
    m.engine_file = data.value("engine_file", "");
    m.engine_sha256 = data.value("engine_sha256", "");
    m.engine_bytes = json_integer_or(data, "engine_bytes", std::int64_t{0});
    return m;
  } catch (const json::exception& e) {
    fail_artifact(where + " is malformed: " + e.what());
  }
}

std::string rebuild_command(const std::filesystem::path& artifacts, const std::string& precision,
                            const std::vector<std::string>& graphs, bool force) {
  std::vector<std::string> words = {"frozenseg-deploy", "build", "--artifacts", artifacts.string(),
                                    "--precision", precision};
  if (!graphs.empty()) {
    words.emplace_back("--graphs");
    words.insert(words.end(), graphs.begin(), graphs.end());
  }
  if (force) words.emplace_back("--force");
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + shell_quote(w);
  return out;
}

bool tensorrt_version_matches(const std::string& recorded, const std::string& running) {
  const auto want = split_dots(recorded), have = split_dots(running);
  if (want.size() < 3 || want.size() > have.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (want[i] != have[i]) return false;
  return true;
}

bool memory_matches(std::int64_t recorded, std::int64_t running) {
  if (recorded <= 0 || running <= 0) return true;
  return static_cast<double>(std::llabs(recorded - running)) <= static_cast<double>(recorded) * kMemoryTolerance;
}

std::string tensorrt_version_problem(const std::string& version) {
  const auto parts = split_dots(version);
  int major = 0, minor = 0;
  try {
    std::size_t used = 0;
    if (parts.size() < 2) throw std::invalid_argument(version);
    major = std::stoi(parts[0], &used);
    if (used != parts[0].size()) throw std::invalid_argument(version);
    minor = std::stoi(parts[1], &used);
    if (used != parts[1].size()) throw std::invalid_argument(version);
  } catch (const std::exception&) {
    return "TensorRT reports an unreadable version '" + version + "'";
  }
  if (major > kMinTensorRTMajor || (major == kMinTensorRTMajor && minor >= kMinTensorRTMinor)) return "";
  const std::string need = std::to_string(kMinTensorRTMajor) + "." + std::to_string(kMinTensorRTMinor);
  return "TensorRT " + version + " is too old: FrozenSeg needs TensorRT >= " + need +
         " (strongly typed networks, device_memory_size_v2, user-managed context memory). On a Jetson that is "
         "JetPack 6.1 or later (TensorRT 10.3; JetPack 6.0 has TensorRT 8.6); elsewhere pip install 'tensorrt>=" +
         need + "'";
}

namespace {

std::string gib(std::int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", static_cast<double>(bytes) / static_cast<double>(std::int64_t{1} << 30));
  return text;
}

}  // namespace

void check_engine_compatible(const EngineMetadata& meta, const EngineTarget& target,
                             const std::filesystem::path& artifacts) {
  std::vector<std::string> differences;
  if (meta.build_recipe < kBuildRecipe)
    differences.push_back("it was built by build recipe " + std::to_string(meta.build_recipe) +
                          ", this runtime needs " + std::to_string(kBuildRecipe) +
                          " (recipe 1 left TF32 on: FP32 layers ran in TF32)");
  if (target.tensorrt_version && !tensorrt_version_matches(meta.tensorrt_version, *target.tensorrt_version))
    differences.push_back("it was built with TensorRT " + meta.tensorrt_version + ", this is TensorRT " +
                          *target.tensorrt_version + " (engines are not portable across TensorRT versions)");
  if (target.compute_capability && meta.compute_capability != *target.compute_capability)
    differences.push_back("it was built for compute capability " + meta.compute_capability + ", this GPU has " +
                          *target.compute_capability);
  if (target.gpu_name && meta.gpu_name != *target.gpu_name)
    differences.push_back("it was built on GPU '" + meta.gpu_name + "', this is '" + *target.gpu_name + "'");
  if (target.sm_count && meta.sm_count && meta.sm_count != *target.sm_count)
    differences.push_back("it was built on a GPU with " + std::to_string(meta.sm_count) + " SMs, this one has " +
                          std::to_string(*target.sm_count) + " (another module of the same family)");
  if (target.gpu_memory_bytes && !memory_matches(meta.gpu_memory_bytes, *target.gpu_memory_bytes))
    differences.push_back("it was built on a GPU with " + gib(meta.gpu_memory_bytes) + " GiB, this one has " +
                          gib(*target.gpu_memory_bytes) + " GiB (another module of the same family)");
  if (target.onnx_sha256 && meta.onnx_sha256 != *target.onnx_sha256)
    differences.push_back("it was built from an ONNX graph with sha256 " + meta.onnx_sha256.substr(0, 12) +
                          "..., the manifest's graph has " + target.onnx_sha256->substr(0, 12) +
                          "... (re-exported or re-quantized since)");
  if (differences.empty()) return;
  std::string joined;
  for (const auto& d : differences) joined += (joined.empty() ? "" : "; ") + d;
  const std::string precision = meta.manifest_precision.empty() ? meta.precision : meta.manifest_precision;
  fail_artifact("TensorRT engine " + (meta.engine_file.empty() ? meta.graph : meta.engine_file) + " (" + meta.graph +
                ", " + meta.precision + ") cannot be used: " + joined + ". Rebuild it on this machine: " +
                rebuild_command(artifacts, precision, {meta.graph}));
}

}  // namespace frozenseg::tensorrt
