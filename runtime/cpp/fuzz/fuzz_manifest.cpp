// load_manifest on the input written as ARTIFACTS/manifest.json: the library's own JSON parse,
// then validate_manifest (an empty artifacts folder of this process as the root), then every
// precision the manifest lists applied (Manifest::with_precision). The graph files are not read:
// verify_artifacts hashes whatever paths a manifest names, which is for trusted artifacts.
#include "core/manifest.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto folder = frozenseg::fuzz::scratch_dir() / "artifacts";
  frozenseg::fuzz::write_file(folder / frozenseg::kManifestName, data, size);
  return frozenseg::fuzz::run([&] {
    const frozenseg::Manifest manifest = frozenseg::load_manifest(folder);
    for (const std::string& precision : manifest.precisions()) {
      frozenseg::fuzz::run([&] { (void)manifest.with_precision(precision); });
    }
  });
}
