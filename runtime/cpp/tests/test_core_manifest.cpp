// manifest.json read and checked as runtime/manifest.py does: the tiny export's manifest loads,
// and each kind of damage is refused with the Python runtime's message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "common/file.hpp"
#include "core/manifest.hpp"

namespace fs = std::filesystem;
using frozenseg::Error;
using json = nlohmann::json;

namespace {

json tiny() {
  return json::parse(frozenseg::read_file_text(fs::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data/manifest_tiny.json"));
}

void expect_refused(const json& data, const std::string& fragment) {
  try {
    frozenseg::validate_manifest(data, ".");
    FAIL() << "accepted a manifest that should be refused for: " << fragment;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Manifest, TinyExportLoadsWithEveryGraph) {
  const auto m = frozenseg::validate_manifest(tiny(), "/art");
  ASSERT_EQ(m.graphs.size(), 4u);
  const auto& decoder = m.graphs.at("decoder");
  EXPECT_EQ(decoder.inputs.size(), 8u);
  EXPECT_EQ(decoder.dims.at("classes").max, 2048);
  EXPECT_EQ(m.graph_path("decoder"), fs::path("/art") / "decoder.onnx");
  EXPECT_EQ(m.constants()["text"]["sot_token"], 49406);
  EXPECT_EQ(m.precisions(), std::vector<std::string>{"fp32"});
}

TEST(Manifest, SchemaVersionIsChecked) {
  auto data = tiny();
  data["schema_version"] = 99;
  expect_refused(data, "schema_version 99 is not supported");
}

TEST(Manifest, MissingEntriesAreNamed) {
  auto data = tiny();
  data["constants"]["preprocessing"].erase("sam_mean");
  expect_refused(data, "'constants.preprocessing' lacks ['sam_mean']");
  data = tiny();
  data["graphs"].erase("decoder");
  expect_refused(data, "manifest lacks graphs ['decoder']");
  data = tiny();
  data.erase("versions");
  expect_refused(data, "lacks ['versions']");
}

TEST(Manifest, TensorNamesMustBeTheRegistrys) {
  auto data = tiny();
  data["graphs"]["clip_text"]["inputs"][0]["name"] = "input_ids";
  expect_refused(data, "graphs.clip_text: inputs ['input_ids'] != ['tokens']");
}

TEST(Manifest, UnknownDtypeAndUndeclaredDimAreRefused) {
  auto data = tiny();
  data["graphs"]["clip_text"]["inputs"][0]["dtype"] = "bfloat16";
  expect_refused(data, "has dtype 'bfloat16'");
  data = tiny();
  data["graphs"]["clip_text"]["dims"].erase("batch");
  expect_refused(data, "uses dim 'batch' with no range in dims");
}

TEST(Manifest, WrongJsonTypesAreArtifactErrors) {
  auto data = tiny();
  data["graphs"]["decoder"]["opset"] = "eighteen";
  expect_refused(data, "wrong type");
}

TEST(Manifest, UnknownPrecisionNamesTheQuantizeCommand) {
  const auto m = frozenseg::validate_manifest(tiny(), "/art");
  try {
    m.with_precision("int8");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("frozenseg-deploy quantize --artifacts /art --precision int8"),
              std::string::npos) << e.what();
  }
}

TEST(Manifest, ArtifactsAreCheckedBySha256) {
  const fs::path dir = fs::temp_directory_path() / "fs_manifest_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto m = frozenseg::validate_manifest(tiny(), dir);
  try {
    frozenseg::verify_artifacts(m);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("clip_image.onnx is missing"), std::string::npos) << e.what();
  }
  for (const auto& [name, spec] : m.graphs) std::ofstream(dir / spec.file) << "not the graph";
  try {
    frozenseg::verify_artifacts(m);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the sha256"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(Manifest, MissingFolderSaysExportFirst) {
  try {
    frozenseg::load_manifest("/nonexistent/artifacts");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
    EXPECT_NE(std::string(e.what()).find("export artifacts first"), std::string::npos);
  }
}

TEST(Manifest, RegistryIsThePythonRuntimes) {
  // graph_registry.json is runtime/graphs.py's REGISTRY (make_graph_registry.py; tests/cpp/
  // test_cpp_fixtures.py keeps it current), so the two registries cannot drift apart.
  const json want = json::parse(frozenseg::read_file_text(fs::path(FS_SOURCE_DIR) /
                                                          "runtime/cpp/tests/data/graph_registry.json"));
  std::vector<std::string> names;
  for (const json& g : want["graphs"]) {
    const std::string name = g["name"];
    names.push_back(name);
    EXPECT_EQ(frozenseg::registry_inputs(name), g["inputs"].get<std::vector<std::string>>()) << name;
    EXPECT_EQ(frozenseg::registry_outputs(name), g["outputs"].get<std::vector<std::string>>()) << name;
    EXPECT_EQ(frozenseg::registry_shares_activations(name), g["shares_activations"].get<bool>()) << name;
  }
  EXPECT_EQ(frozenseg::registry_graphs(), names);
}
