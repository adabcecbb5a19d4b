// output/files, png, npz, visualize against what the Python runtime's save_result writes for the
// same results (runtime/cpp/tests/data/postprocess/files, from make_postprocess_cases.py):
// decoded PNG pixels, .npy entries of the .npz and JSON text equal; overlay equal outside the
// legend's text.
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/atomic_file.hpp"
#include "output/files.hpp"
#include "output/legend_font.hpp"
#include "common/npy.hpp"
#include "common/zip.hpp"
#include "output/numpy_math.hpp"
#include "output/png.hpp"
#include "output/visualize.hpp"
#include "output_fixtures.hpp"

namespace out = frozenseg::output;
namespace fsys = std::filesystem;

namespace {

std::vector<std::uint8_t> read_bytes(const fsys::path& path) {
  const std::string s = fs_test::read_text(path);
  return {s.begin(), s.end()};
}

out::DecodedPng decode_file(const fsys::path& path) { return out::decode_png(read_bytes(path)); }

// Entries of a ZIP (stored or deflated), in central-directory order, CRC-checked.
std::vector<std::pair<std::string, std::vector<std::uint8_t>>> unzip(const std::vector<std::uint8_t>& zip) {
  auto u16 = [&](std::size_t at) { return static_cast<std::uint32_t>(zip.at(at) | (zip.at(at + 1) << 8)); };
  auto u32 = [&](std::size_t at) { return u16(at) | (u16(at + 2) << 16); };
  std::size_t end = zip.size() - 22;
  while (u32(end) != 0x06054b50) --end;
  const std::size_t count = u16(end + 10);
  std::size_t at = u32(end + 16);
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> entries;
  for (std::size_t i = 0; i < count; ++i) {
    EXPECT_EQ(u32(at), 0x02014b50u);
    const std::uint32_t method = u16(at + 10), crc = u32(at + 16), packed = u32(at + 20), size = u32(at + 24);
    const std::size_t name_len = u16(at + 28), extra_len = u16(at + 30), comment_len = u16(at + 32);
    const std::size_t local = u32(at + 42);
    const std::string name(zip.begin() + at + 46, zip.begin() + at + 46 + name_len);
    at += 46 + name_len + extra_len + comment_len;
    EXPECT_EQ(u32(local), 0x04034b50u) << name;
    const std::size_t data = local + 30 + u16(local + 26) + u16(local + 28);
    std::vector<std::uint8_t> content(size);
    if (method == 0) {
      std::copy_n(zip.begin() + data, size, content.begin());
    } else {
      EXPECT_EQ(method, 8u);
      z_stream z{};
      std::uint8_t none = 0;
      inflateInit2(&z, -15);
      z.next_in = const_cast<Bytef*>(zip.data() + data);
      z.avail_in = packed;
      z.next_out = size ? content.data() : &none;
      z.avail_out = size;
      EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END) << name;
      inflateEnd(&z);
    }
    EXPECT_EQ(crc32(0, content.data(), size), crc) << name;
    entries.emplace_back(name, std::move(content));
  }
  return entries;
}

const std::vector<std::string> kNames = {"person", "car", "café crème", "sky",
                                         "a very long class name that is cut", "road"};

// make_postprocess_cases.py's test_image.
std::vector<std::uint8_t> test_image(out::Size2 size) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(size.height) * size.width * 3);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      std::uint8_t* p = rgb.data() + (static_cast<std::size_t>(y) * size.width + x) * 3;
      p[0] = static_cast<std::uint8_t>((7 * x + 3 * y) % 256);
      p[1] = static_cast<std::uint8_t>((x * y) % 256);
      p[2] = static_cast<std::uint8_t>(((200 - 2 * x) % 256 + 256) % 256);
    }
  return rgb;
}

class OutputSaveResult : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { fsys::remove_all(dir_); }
  static void SetUpTestSuite() {
    const fs_test::CaseInputs in = fs_test::load_case(fs_test::find_case("resized"));
    const out::DecoderOutputs raw{in.probs_view(), in.masks_view()};
    // One folder per process: ctest runs each test of this suite in its own process, in parallel.
    dir_ = fsys::path(::testing::TempDir()) / ("fs_output_files_" + std::to_string(::getpid()));
    fsys::remove_all(dir_);
    const std::vector<std::uint8_t> image = test_image(in.geometry.output);
    for (const auto task : {out::Task::semantic, out::Task::panoptic, out::Task::instance}) {
      out::SegmentationResult r = out::segmentation_result(raw, in.geometry, kNames, in.isthing, task,
                                                               fs_test::official_constants());
      r.timings = {{"decode", 0.25}, {"postprocess", 0.125}};
      const std::string stem(out::task_name(task));
      written_[stem] = out::save_result(r, {image.data(), in.geometry.output.height, in.geometry.output.width},
                                        dir_, stem);
    }
  }
  static fsys::path ours(const std::string& file) { return dir_ / file; }
  static fsys::path python(const std::string& file) { return fs_test::fixture_dir() / "files" / file; }
  static void expect_same_png(const std::string& file) {
    const out::DecodedPng a = decode_file(ours(file)), b = decode_file(python(file));
    EXPECT_EQ(a.width, b.width) << file;
    EXPECT_EQ(a.height, b.height) << file;
    EXPECT_EQ(a.channels, b.channels) << file;
    EXPECT_EQ(a.bit_depth, b.bit_depth) << file;
    EXPECT_TRUE(a.samples == b.samples) << file;
  }
  static void expect_same_text(const std::string& file) {
    const std::string a = fs_test::read_text(ours(file)), b = fs_test::read_text(python(file));
    if (out::npmath::uses_numpy_simd_algorithm()) {
      EXPECT_EQ(a, b) << file;
    } else {  // numpy's libm floats (aarch64) differ from the x86 fixture in the last bits
      expect_json_near(nlohmann::json::parse(a), nlohmann::json::parse(b), file);
    }
  }
  static void expect_json_near(const nlohmann::json& a, const nlohmann::json& b, const std::string& at) {
    if (a.is_number_float() || b.is_number_float()) {
      EXPECT_NEAR(a.get<double>(), b.get<double>(), 1e-5) << at;
    } else if (a.is_structured()) {
      ASSERT_EQ(a.size(), b.size()) << at;
      for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
        expect_json_near(*i, *j, at + "/" + (a.is_object() ? i.key() : std::string("[]")));
    } else {
      EXPECT_EQ(a, b) << at;
    }
  }
  static inline fsys::path dir_;
  static inline std::map<std::string, std::vector<fsys::path>> written_;
};

}  // namespace

TEST_F(OutputSaveResult, WritesPythonsFileNamesAndNothingElse) {
  EXPECT_EQ(written_["semantic"], (std::vector<fsys::path>{ours("semantic_labels.png"), ours("semantic_overlay.png"),
                                                           ours("semantic_summary.json")}));
  EXPECT_EQ(written_["panoptic"], (std::vector<fsys::path>{ours("panoptic_panoptic.png"), ours("panoptic_panoptic.json"),
                                                           ours("panoptic_overlay.png"), ours("panoptic_summary.json")}));
  EXPECT_EQ(written_["instance"], (std::vector<fsys::path>{ours("instance_instances.npz"), ours("instance_overlay.png"),
                                                           ours("instance_summary.json")}));
  std::vector<std::string> here, there;
  for (const auto& e : fsys::directory_iterator(dir_)) here.push_back(e.path().filename());
  for (const auto& e : fsys::directory_iterator(fs_test::fixture_dir() / "files"))
    if (e.path().filename() != "labels16.png") there.push_back(e.path().filename());
  std::sort(here.begin(), here.end());
  std::sort(there.begin(), there.end());
  EXPECT_EQ(here, there);  // no temporary file left behind
}

TEST_F(OutputSaveResult, LabelAndPanopticPngsDecodeToPythonsPixels) {
  expect_same_png("semantic_labels.png");
  expect_same_png("panoptic_panoptic.png");
  const out::DecodedPng labels = decode_file(ours("semantic_labels.png"));
  EXPECT_EQ(labels.channels, 1);
  EXPECT_EQ(labels.bit_depth, 8);
  EXPECT_EQ(decode_file(ours("panoptic_panoptic.png")).channels, 3);
}

TEST_F(OutputSaveResult, JsonTextIsPythons) {
  expect_same_text("semantic_summary.json");
  expect_same_text("panoptic_panoptic.json");
  expect_same_text("panoptic_summary.json");
  expect_same_text("instance_summary.json");
}

TEST_F(OutputSaveResult, NpzEntriesAreNumpys) {
  const auto a = unzip(read_bytes(ours("instance_instances.npz")));
  const auto b = unzip(read_bytes(python("instance_instances.npz")));
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    if (a[i].first == "scores.npy" && !out::npmath::uses_numpy_simd_algorithm()) {
      // numpy's libm floats (aarch64) differ from the x86 fixture in the last bits: the same
      // header, and each float32 score on the floor of exp(sum of logs) that
      // test_output_postprocess.cpp explains (2 * 2^-23 * (1 + |ln s|) relatively).
      const auto& x = a[i].second;
      const auto& y = b[i].second;
      ASSERT_EQ(x.size(), y.size());
      ASSERT_GT(x.size(), 10u);
      const std::size_t data = 10 + (x[8] | (x[9] << 8));
      ASSERT_TRUE(std::equal(x.begin(), x.begin() + data, y.begin())) << "scores.npy header";
      for (std::size_t k = data; k + 4 <= x.size(); k += 4) {
        float got = 0, want = 0;
        std::memcpy(&got, &x[k], 4);
        std::memcpy(&want, &y[k], 4);
        const double bound = 2.0 * std::ldexp(1.0, -23) *
                             (1.0 + std::abs(std::log(std::abs(double(want)) + 1e-300))) * std::abs(double(want));
        EXPECT_NEAR(got, want, bound) << "scores.npy value " << (k - data) / 4;
      }
      continue;
    }
    EXPECT_TRUE(a[i].second == b[i].second) << a[i].first;
  }
}

TEST_F(OutputSaveResult, OverlayMatchesPythonOutsideTheLegendText) {
  for (const char* task : {"semantic", "panoptic", "instance"}) {
    const std::string file = std::string(task) + "_overlay.png";
    const out::DecodedPng ours_png = decode_file(ours(file)), py = decode_file(python(file));
    ASSERT_EQ(ours_png.width, py.width) << file;
    ASSERT_EQ(ours_png.height, py.height) << file;
    ASSERT_EQ(ours_png.channels, 3);
    const int image_width = py.width - 200;
    long text_ink = 0;
    for (int y = 0; y < py.height; ++y)
      for (int x = 0; x < py.width; ++x) {
        // Pillow's glyphs (from x + 24, antialiased a pixel further left) vs the built-in font.
        const bool text = x > image_width + 18;
        for (int c = 0; c < 3; ++c) {
          const std::size_t i = (static_cast<std::size_t>(y) * py.width + x) * 3 + c;
          if (!text) {
            ASSERT_EQ(ours_png.samples[i], py.samples[i]) << file << " at " << x << "," << y;
          } else {
            text_ink += ours_png.samples[i] == 0;
          }
        }
      }
    EXPECT_GT(text_ink, 0) << file << ": the legend has names";
  }
}

TEST(OutputLabelPng, SixteenBitLabelsAsPillow) {
  std::vector<std::int32_t> labels(35);
  for (int i = 0; i < 35; ++i) labels[i] = i * 29 - 3;  // -3 .. 983, as the fixture
  const out::DecodedPng ours = out::decode_png(out::label_png(labels, {5, 7}));
  const out::DecodedPng py = decode_file(fs_test::fixture_dir() / "files" / "labels16.png");
  EXPECT_EQ(ours.bit_depth, 16);
  EXPECT_EQ(py.bit_depth, 16);
  EXPECT_EQ(ours.samples, py.samples);
  EXPECT_EQ(ours.samples[0], 65533);  // -3 as uint16, like numpy's astype
}

TEST(OutputNpy, HeadersAsNumpySave) {
  // np.save's first 128 bytes for these arrays: magic, version 1.0, header length 118, the dict,
  // spaces to 127 and a newline.
  auto expected = [](const std::string& dict) {
    std::string h = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
    return h + std::string(127 - h.size(), ' ') + "\n";
  };
  auto header = [](const std::string& npy) { return npy.substr(0, 128); };
  EXPECT_EQ(header(frozenseg::write_npy({"<f4", false, {0}, ""})),
            expected("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }"));
  EXPECT_EQ(header(frozenseg::write_npy({"|b1", false, {2, 40, 57}, std::string(4560, '\0')})),
            expected("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 40, 57), }"));
  EXPECT_EQ(header(frozenseg::write_npy({"<f4", false, {}, std::string(4, '\0')})),
            expected("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"));
  EXPECT_EQ(frozenseg::write_npy({"<i8", false, {3}, std::string(24, '\1')}).size(), 128u + 24u);
}

TEST(OutputZip, DeflatedRoundTripsManyAndEmptyEntries) {
  std::vector<frozenseg::ZipMember> entries = {{"empty.npy", {}}, {"a.npy", std::string(100000, '\7')}};
  for (int i = 0; i < 300; ++i) entries[1].data[i * 97] = static_cast<char>(i);
  const std::string zip = frozenseg::write_zip(entries, frozenseg::ZipMethod::deflated);
  const auto back = unzip(std::vector<std::uint8_t>(zip.begin(), zip.end()));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].first, "empty.npy");
  EXPECT_TRUE(back[0].second.empty());
  EXPECT_EQ(std::string(back[1].second.begin(), back[1].second.end()), entries[1].data);
}

TEST(OutputPalette, IsThePaletteFilesColours) {
  const auto six = out::palette(6);
  const std::vector<std::array<std::uint8_t, 3>> want = {
      {157, 102, 233}, {243, 182, 94}, {165, 129, 187}, {198, 212, 187}, {233, 122, 48}, {164, 120, 112}};
  EXPECT_EQ(six, want);
  const auto many = out::palette(150);
  std::vector<std::uint8_t> flat;
  for (const auto& c : many) flat.insert(flat.end(), c.begin(), c.end());
  EXPECT_EQ(fs_test::sha256_of(flat), "aedabbf4ef2db22148eaaa43da313f388e691bf7b279a25768b48f3577dd360f");
  EXPECT_EQ(out::palette(0), (std::vector<std::array<std::uint8_t, 3>>{{157, 102, 233}}));
}

TEST(OutputPythonJson, SameTextAsJsonDumpsIndent1) {
  nlohmann::ordered_json d;
  d["a"] = 1e-05;
  d["b"] = nlohmann::ordered_json::array();
  d["c"] = nlohmann::ordered_json::object();
  d["d"] = "café 😀";
  d["e"] = 1.0;
  d["f"] = 0.1 + 0.2;
  d["g"] = nlohmann::ordered_json::array({1, 2.5, -0.0});
  d["h"] = true;
  d["i"] = nullptr;
  d["j"] = 1e16;
  d["k"] = 123456.789;
  d["l"] = 1.5e-7;
  EXPECT_EQ(out::python_json_text(d),
            "{\n \"a\": 1e-05,\n \"b\": [],\n \"c\": {},\n \"d\": \"caf\\u00e9 \\ud83d\\ude00\",\n \"e\": 1.0,\n"
            " \"f\": 0.30000000000000004,\n \"g\": [\n  1,\n  2.5,\n  -0.0\n ],\n \"h\": true,\n \"i\": null,\n"
            " \"j\": 1e+16,\n \"k\": 123456.789,\n \"l\": 1.5e-07\n}");
}

TEST(OutputAtomicFile, ReplacesAndReportsUnwritableFolders) {
  const fsys::path dir = fsys::path(::testing::TempDir()) / ("fs_output_atomic_" + std::to_string(::getpid()));
  fsys::remove_all(dir);
  fsys::create_directories(dir);
  frozenseg::write_text_atomic(dir / "a.txt", "old");
  frozenseg::write_text_atomic(dir / "a.txt", "new");
  EXPECT_EQ(fs_test::read_text(dir / "a.txt"), "new");
  EXPECT_EQ(std::distance(fsys::directory_iterator(dir), fsys::directory_iterator()), 1);
  try {
    frozenseg::write_text_atomic(dir / "missing" / "b.txt", "x");
    FAIL() << "no error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_NE(std::string(e.what()).find("missing/b.txt: No such file or directory"), std::string::npos) << e.what();
  }
  const fsys::path blocker = dir / "file";
  frozenseg::write_text_atomic(blocker, "x");
  out::SegmentationResult r;
  r.image_size = {1, 1};
  r.semantic_labels = {0};
  r.class_names = {"a"};
  const std::uint8_t px[3] = {1, 2, 3};
  EXPECT_THROW(out::save_result(r, {px, 1, 1}, blocker / "sub", "x"), frozenseg::Error);
  fsys::remove_all(dir);
}

TEST(OutputLegendFont, EveryGlyphIsFiveBySeven) {
  for (char32_t c = 0; c < 200; ++c) {
    const char* const* rows = out::legend_font::glyph(c);
    for (int r = 0; r < out::legend_font::kHeight; ++r) {
      ASSERT_NE(rows[r], nullptr) << static_cast<int>(c);
      EXPECT_EQ(std::strlen(rows[r]), 5u) << static_cast<int>(c) << " row " << r;
    }
  }
}
