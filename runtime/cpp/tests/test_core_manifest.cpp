// manifest.json read and checked as runtime/manifest.py does: the tiny export's manifest loads,
// and each kind of damage is refused with the Python runtime's message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/sha256.hpp"
#include "core/manifest.hpp"

namespace fs = std::filesystem;
using frozenseg::Error;
using frozenseg::GraphSpec;
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

// An integer field given a float beyond its type's range was cast (undefined behaviour; found by
// CI's fuzz in the engine sidecar, the same reading here): integers in range only.
TEST(Manifest, IntegersOutOfRangeOrNotIntegersAreRefused) {
  auto data = tiny();
  data["graphs"]["sam_image"]["opset"] = json::parse("1e19");
  expect_refused(data, "wrong type");
  data = tiny();
  data["runtime"]["encoder_schedule"]["many_cores"] = json::parse("4294967296");
  expect_refused(data, "out of range");
  data = tiny();
  data["runtime"]["prompts_per_text_call"] = 2.5;
  expect_refused(data, "expected an integer");
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

// An int8 section as quantize writes it: each graph's int8 file, and its CPU variant.
json with_int8(json data) {
  for (const char* name : {"clip_image", "sam_image", "clip_text", "decoder"}) {
    const std::string graph(name);
    data["precisions"]["int8"]["graphs"][graph] = {
        {"file", graph + ".int8.onnx"}, {"sha256", std::string(64, 'a')}, {"precision", "int8"},
        {"variants", json::array({{{"file", graph + ".int8-cpu.onnx"}, {"sha256", std::string(64, 'b')},
                                   {"backends", {"onnxruntime-cpu"}}, {"activations", "uint8"}}})}};
  }
  return data;
}

TEST(Manifest, VariantsServeTheBackendsTheyAreMadeFor) {
  const auto m = frozenseg::validate_manifest(with_int8(tiny()), "/art").with_precision("int8");
  const GraphSpec& sam = m.graphs.at("sam_image");
  ASSERT_EQ(sam.variants.size(), 1u);
  EXPECT_EQ(sam.for_backend("onnxruntime-cpu").file, "sam_image.int8-cpu.onnx");
  EXPECT_EQ(sam.for_backend("onnxruntime-cpu").sha256, std::string(64, 'b'));
  EXPECT_TRUE(sam.for_backend("onnxruntime-cpu").variants.empty());
  EXPECT_EQ(sam.for_backend("openvino-cpu").file, "sam_image.int8.onnx");  // the int8 file elsewhere
  EXPECT_EQ(sam.for_backend("tensorrt").file, "sam_image.int8.onnx");
  const auto files = sam.files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].file, "sam_image.int8-cpu.onnx");
  auto bad = with_int8(tiny());
  bad["precisions"]["int8"]["graphs"]["decoder"]["variants"][0]["backends"] = "onnxruntime-cpu";
  try {
    frozenseg::validate_manifest(bad, "/art").with_precision("int8");
    FAIL() << "a variant whose backends are not a list was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
    EXPECT_NE(std::string(e.what()).find("precisions.int8.graphs.decoder.variants must be a list"),
              std::string::npos) << e.what();
  }
}

TEST(Manifest, VariantFilesAreCheckedBySha256Too) {
  const fs::path dir = fs::temp_directory_path() / ("fs_manifest_variant_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto data = with_int8(tiny());
  for (auto& [name, entry] : data["precisions"]["int8"]["graphs"].items()) {
    std::ofstream(dir / (name + ".int8.onnx")) << "int8";
    entry["sha256"] = frozenseg::sha256_hex(std::string("int8"));
    entry["variants"][0]["sha256"] = frozenseg::sha256_hex(std::string("cpu"));
  }
  const auto m = frozenseg::validate_manifest(data, dir).with_precision("int8");
  try {
    frozenseg::verify_artifacts(m);
    FAIL() << "a missing variant file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(".int8-cpu.onnx is missing"), std::string::npos) << e.what();
  }
  for (const char* name : {"clip_image", "sam_image", "clip_text", "decoder"}) {
    std::ofstream(dir / (std::string(name) + ".int8-cpu.onnx")) << "cpu";
  }
  frozenseg::verify_artifacts(m);  // every file and variant matches
  fs::remove_all(dir);
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

TEST(Manifest, RuntimeFactsAreTheManifests) {
  // The registry, the prompts per text call and the schedule rule are read from the manifest's
  // `runtime` section (written from runtime/graphs.py, segmenter.py and schedule.py), not kept here.
  const auto m = frozenseg::validate_manifest(tiny(), "/art");
  std::vector<std::string> names;
  for (const auto& g : m.facts.graphs) names.push_back(g.name);
  EXPECT_EQ(names, (std::vector<std::string>{"clip_image", "sam_image", "clip_text", "decoder"}));
  EXPECT_EQ(m.facts.graph("decoder").inputs.size(), 8u);
  EXPECT_EQ(m.facts.graph("clip_text").stage, "vocabulary");
  EXPECT_TRUE(m.facts.graph("clip_text").shares_activations);
  EXPECT_FALSE(m.facts.graph("sam_image").shares_activations);
  EXPECT_EQ(m.facts.graphs_of_stage("image"), (std::vector<std::string>{"clip_image", "sam_image"}));
  EXPECT_EQ(m.facts.prompts_per_text_call, 256);
  EXPECT_EQ(m.facts.encoder_schedule.cpu_backends, (std::vector<std::string>{"onnxruntime-cpu", "openvino-cpu"}));
  EXPECT_EQ(m.facts.encoder_schedule.many_cores, 8);

  auto data = tiny();  // another registry's tensor names are checked against that registry
  data["runtime"]["graphs"][2]["inputs"][0] = "input_ids";
  data["graphs"]["clip_text"]["inputs"][0]["name"] = "input_ids";
  EXPECT_EQ(frozenseg::validate_manifest(data, "/art").graphs.at("clip_text").inputs[0].name, "input_ids");
  data = tiny();
  data["runtime"]["encoder_schedule"]["many_cores"] = 4;
  EXPECT_EQ(frozenseg::validate_manifest(data, "/art").facts.encoder_schedule.many_cores, 4);
  data = tiny();  // written before openvino-cpu: its one CPU backend
  data["runtime"]["encoder_schedule"].erase("cpu_backends");
  EXPECT_EQ(frozenseg::validate_manifest(data, "/art").facts.encoder_schedule.cpu_backends,
            (std::vector<std::string>{"onnxruntime-cpu"}));
}

TEST(Manifest, AutosChoiceIsTheManifests) {
  // runtime.backend_choice, written from Python's AUTO_ORDER and FP32_FILES_ONLY.
  const auto m = frozenseg::validate_manifest(tiny(), "/art");
  EXPECT_EQ(m.facts.backend_choice.auto_order,
            (std::vector<std::string>{"onnxruntime-trt", "onnxruntime-cuda", "openvino-cpu", "onnxruntime-cpu"}));
  EXPECT_EQ(m.facts.backend_choice.fp32_files_only, (std::vector<std::string>{"openvino-cpu"}));
  auto data = tiny();
  data["runtime"]["backend_choice"]["auto_order"] = {"onnxruntime-cpu"};
  EXPECT_EQ(frozenseg::validate_manifest(data, "/art").facts.backend_choice.auto_order,
            (std::vector<std::string>{"onnxruntime-cpu"}));
  data = tiny();  // written before the rule was recorded: that exporter's order
  data["runtime"].erase("backend_choice");
  EXPECT_EQ(frozenseg::validate_manifest(data, "/art").facts.backend_choice.auto_order,
            frozenseg::unrecorded_backend_choice().auto_order);
  // Refused as Python's backend_choice refuses (tests/runtime/test_openvino_backend.py), same messages.
  for (const char* name : {"onnxruntime-gpu", "tensorrt", "auto"}) {
    data = tiny();
    data["runtime"]["backend_choice"]["auto_order"] = {"onnxruntime-cpu", name};
    expect_refused(data, std::string("manifest runtime.backend_choice names backend '") + name +
                             "', which auto may not pick");
  }
  data = tiny();
  data["runtime"]["backend_choice"]["auto_order"] = json::array();
  expect_refused(data, "manifest runtime.backend_choice.auto_order is empty");
  data = tiny();
  data["runtime"]["backend_choice"].erase("fp32_files_only");
  expect_refused(data, "manifest runtime.backend_choice.fp32_files_only must be a list of backend names");
  data = tiny();
  data["runtime"]["backend_choice"] = nullptr;
  expect_refused(data, "manifest runtime.backend_choice.auto_order must be a list of backend names");
  data = tiny();
  data["runtime"]["backend_choice"]["auto_order"] = {"onnxruntime-cpu", 3};
  expect_refused(data, "manifest runtime.backend_choice.auto_order must be a list of backend names");
}

TEST(Manifest, OlderOrIncompleteRuntimeSectionsAreRefused) {
  auto data = tiny();
  data["schema_version"] = 1;  // before the `runtime` section
  expect_refused(data, "schema_version 1 is not supported (this runtime reads 2)");
  data = tiny();
  data.erase("runtime");
  expect_refused(data, "'top level' lacks ['runtime']");
  data = tiny();
  data["runtime"]["encoder_schedule"].erase("many_cores");
  expect_refused(data, "'runtime.encoder_schedule' lacks ['many_cores']");
  data = tiny();
  data["runtime"]["graphs"].erase(2);
  expect_refused(data, "runtime.graphs lacks ['clip_text'], which this library runs");
  data = tiny();
  data["runtime"]["graphs"][0]["shares_activations"] = "no";
  expect_refused(data, "wrong type");
  data = tiny();
  data["runtime"]["graphs"].push_back({{"name", "extra"}, {"inputs", {"x"}}, {"outputs", {"y"}},
                                       {"stage", "image"}, {"shares_activations", false}});
  expect_refused(data, "manifest lacks graphs ['extra']");
}
