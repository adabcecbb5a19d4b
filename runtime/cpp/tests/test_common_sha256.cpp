// SHA-256 against FIPS 180-4's examples and against Python's hashlib (sha256_vectors.txt, written
// by data/make_sha256_vectors.py): one-shot, split at every kind of boundary, and over files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/sha256.hpp"

namespace fs = std::filesystem;
using frozenseg::Sha256;
using frozenseg::sha256_file;
using frozenseg::sha256_hex;
using frozenseg::to_hex;

namespace {

const fs::path kRepo = FS_SOURCE_DIR;

std::vector<std::byte> pattern(std::size_t length) {
  std::vector<std::byte> out(length);
  for (std::size_t i = 0; i < length; ++i) out[i] = static_cast<std::byte>((i * 31 + 7) % 256);
  return out;
}

struct Vector {
  std::string kind;  // pattern or file
  std::string subject;
  std::string hex;
};

std::vector<Vector> python_vectors() {
  std::ifstream in(kRepo / "runtime/cpp/tests/data/sha256_vectors.txt");
  std::vector<Vector> out;
  for (Vector v; in >> v.kind >> v.subject >> v.hex;) out.push_back(v);
  return out;
}

constexpr Sha256::Kernel kKernels[] = {Sha256::Kernel::fastest, Sha256::Kernel::portable};

std::string hex_with(Sha256::Kernel kernel, std::span<const std::byte> data) {
  Sha256 hasher(kernel);
  hasher.update(data);
  return to_hex(hasher.digest());
}

std::string hex_with(Sha256::Kernel kernel, std::string_view text) {
  return hex_with(kernel, std::as_bytes(std::span(text.data(), text.size())));
}

const char* kernel_name(Sha256::Kernel kernel) {
  return kernel == Sha256::Kernel::portable ? "portable" : "fastest";
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("frozenseg_test_sha256_" + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST(Sha256, FipsExamples) {
  RecordProperty("sha_extensions", Sha256::hardware_accelerated() ? "yes" : "no");
  for (const auto kernel : kKernels) {
    SCOPED_TRACE(kernel_name(kernel));
    EXPECT_EQ(hex_with(kernel, ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex_with(kernel, "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex_with(kernel, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex_with(kernel, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                               "klmnopqrlmnopqrsmnopqrstnopqrstu"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    EXPECT_EQ(hex_with(kernel, std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, MatchesPythonOnPatterns) {
  int checked = 0;
  for (const Vector& v : python_vectors()) {
    if (v.kind != "pattern") continue;
    const auto data = pattern(std::stoul(v.subject));
    for (const auto kernel : kKernels) EXPECT_EQ(hex_with(kernel, data), v.hex) << "length " << v.subject << " " << kernel_name(kernel);
    EXPECT_EQ(sha256_hex(data), v.hex);
    ++checked;
  }
  EXPECT_GE(checked, 20) << "sha256_vectors.txt is missing or short: run data/make_sha256_vectors.py";
}

TEST(Sha256, KernelsAgreeOnPseudoRandomData) {
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;  // splitmix64: the same bytes on every run
  auto next = [&seed] {
    std::uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  for (int round = 0; round < 50; ++round) {
    std::vector<std::byte> data(next() % 5000);
    for (auto& b : data) b = static_cast<std::byte>(next());
    ASSERT_EQ(hex_with(Sha256::Kernel::fastest, data), hex_with(Sha256::Kernel::portable, data))
        << "length " << data.size();
  }
}

TEST(Sha256, IncrementalEqualsOneShotAtEverySplit) {
  const auto data = pattern(200);
  const std::string whole = sha256_hex(data);
  for (const auto kernel : kKernels) {
    for (std::size_t split = 0; split <= data.size(); ++split) {
      Sha256 hasher(kernel);
      hasher.update(std::span(data).first(split));
      hasher.update(std::span(data).subspan(split));
      ASSERT_EQ(to_hex(hasher.digest()), whole) << "split at " << split << " " << kernel_name(kernel);
    }
    Sha256 bytewise(kernel);  // one byte at a time: every buffering path
    for (const std::byte b : data) bytewise.update(std::span(&b, 1));
    EXPECT_EQ(to_hex(bytewise.digest()), whole);
  }
}

TEST(Sha256, ResetStartsOver) {
  Sha256 hasher;
  hasher.update("something else");
  (void)hasher.digest();
  hasher.reset();
  hasher.update("abc");
  EXPECT_EQ(to_hex(hasher.digest()), sha256_hex("abc"));
}

TEST(Sha256, FileMatchesPythonAcrossReadChunks) {
  int checked = 0;
  for (const Vector& v : python_vectors()) {
    if (v.kind == "file") {
      EXPECT_EQ(sha256_file(kRepo / v.subject), v.hex) << v.subject;
      ++checked;
    } else if (std::stoul(v.subject) >= (1u << 20) - 1) {  // around the 1 MiB read chunk
      const fs::path path = temp_file(v.subject);
      const auto data = pattern(std::stoul(v.subject));
      {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
      }
      EXPECT_EQ(sha256_file(path), v.hex) << "file of length " << v.subject;
      fs::remove(path);
      ++checked;
    }
  }
  EXPECT_GE(checked, 5);
}

TEST(Sha256, MissingFileIsAnArtifactErrorNamingIt) {
  const fs::path missing = kRepo / "no/such/graph.onnx";
  try {
    sha256_file(missing);
    FAIL() << "expected frozenseg::Error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  try {
    sha256_file(kRepo, FS_INVALID_INPUT);
    FAIL() << "expected frozenseg::Error for a directory";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos) << e.what();
  }
}
