// core::Segmenter: FrozenSeg over exported artifacts, stage by stage as runtime/segmenter.py.
// (Inside the library; applications use the C API or its wrapper, frozenseg::Segmenter.)
//
//   auto seg = core::Segmenter::from_artifacts("artifacts/", {});
//   seg->set_vocabulary(text::parse_vocabulary("cat,dog,grass"));
//   auto result = seg->segment(image::load_image("photo.jpg"), output::Task::panoptic);
//
// Thread-safety: every const stage, `segment` and `set_vocabulary` may run from many threads at
// once; set_vocabulary swaps the current vocabulary whole (a segment in flight keeps the one it
// started with).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/manifest.hpp"
#include "core/schedule.hpp"
#include "runner/runner.hpp"
#include "image/image.hpp"
#include "image/loading.hpp"
#include "image/preprocess.hpp"
#include "output/postprocess.hpp"
#include "output/result.hpp"
#include "text/cache.hpp"
#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"

namespace frozenseg::core {

struct SegmenterOptions {
  std::string backend = "auto";
  std::string precision = "fp32";
  std::optional<int> threads;                        // ONNX Runtime intra-op threads
  std::optional<std::filesystem::path> cache_dir;    // nullopt: the default folder
  bool memory_cache_only = false;                    // true: no disk cache at all
  bool verify = true;                                // sha256 of every graph at load
  bool cuda_graph = false;                           // TensorRT only
  std::optional<std::uint64_t> max_image_pixels = image::kDefaultMaxImagePixels;
  std::string encoder_schedule = "auto";              // auto, concurrent, sequential (schedule.hpp)
};

// Seconds per stage, in the order Python's timings dict would hold them (a key recorded again keeps
// its place and takes the new value); the type of output::SegmentationResult::timings.
using Timings = std::vector<std::pair<std::string, double>>;

// Everything the decoder needs about one encoded vocabulary (immutable, swapped whole).
struct VocabularyState {
  text::Vocabulary vocabulary;
  Tensor text_embeddings;  // (K, S, E) float32
  Tensor synonym_mask;     // (K, S) bool
  Tensor seen;             // (K,) bool
};

class Segmenter {
 public:
  static std::unique_ptr<Segmenter> from_artifacts(const std::filesystem::path& folder,
                                                   const SegmenterOptions& options = {});
  Segmenter(Manifest manifest, const SegmenterOptions& options);

  const std::string& backend() const noexcept { return backend_; }
  const EncoderPlan& encoder_plan() const noexcept { return encoder_plan_; }
  const Manifest& manifest() const noexcept { return manifest_; }

  // Stage 1: a vocabulary encoded for the decoder (the text graph; cached by content). `train`:
  // the classes the decoder was trained on, which decide each class's `seen` flag (default: the
  // manifest's train_vocabulary).
  std::shared_ptr<const VocabularyState> encode_vocabulary(const text::Vocabulary& vocabulary,
                                                           const text::Vocabulary* train = nullptr);
  text::CacheStats set_vocabulary(const text::Vocabulary& vocabulary, const text::Vocabulary* train = nullptr);
  std::shared_ptr<const VocabularyState> vocabulary_state() const;
  std::optional<std::int64_t> max_classes() const;

  // Stage 2: both encoders' inputs, resized by the manifest's rule (the official 800, 1333) or by
  // `resize` (nullopt: the image's own size).
  image::PreparedImage prepare(const image::RgbImage& image) const;
  image::PreparedImage prepare(const image::RgbImage& image, std::optional<image::ResizeRule> resize) const;
  // Stage 3: CLIP's res2..res5 and SAM's embedding, at once or one after the other (encoder_plan).
  // `timings` (optional): each encoder's seconds, "clip_image" and "sam_image", recorded as they
  // finish (concurrent: SAM, on the calling thread, first), as Python's encode_image does.
  TensorMap encode_image(const image::PreparedImage& prepared, Timings* timings = nullptr) const;
  // Stage 4: the decoder (batch kept in the tensors; postprocess reads query-major data).
  // `timings` (optional): the decoder's seconds, "decoder".
  TensorMap decode(const TensorMap& features, const VocabularyState& state, Timings* timings = nullptr) const;
  // Stage 5: the official post-processing of one task.
  output::SegmentationResult postprocess(const TensorMap& raw, const image::PreparedImage& prepared,
                                         const VocabularyState& state, output::Task task) const;

  // All stages with the current vocabulary (resize as in prepare). The result's timings are
  // Python's: preprocess, the encoders (encode_image's order), decoder, graphs (encoders and
  // decoder together), postprocess.
  output::SegmentationResult segment(const image::RgbImage& image, output::Task task) const;
  output::SegmentationResult segment(const image::RgbImage& image, output::Task task,
                                     std::optional<image::ResizeRule> resize) const;

  std::optional<std::uint64_t> max_image_pixels() const noexcept { return max_image_pixels_; }

 private:
  text::FloatMatrix encode_synonyms(const std::vector<std::string>& synonyms) const;
  void check_vocabulary_size(const text::Vocabulary& vocabulary) const;

  Manifest manifest_;
  std::string backend_;
  EncoderPlan encoder_plan_;
  image::PreprocessConstants preprocessing_;
  output::InferenceConstants inference_;
  std::vector<std::string> templates_;
  text::ClipTokenizer tokenizer_;
  text::Vocabulary train_vocabulary_;
  std::unique_ptr<text::VocabularyCache> cache_;
  std::int64_t prompts_per_call_ = 0;  // the manifest's prompts_per_text_call, capped by the text graph
  std::optional<std::uint64_t> max_image_pixels_;
  std::map<std::string, std::unique_ptr<Runner>> runners_;

  mutable std::mutex vocabulary_mutex_;
  std::shared_ptr<const VocabularyState> vocabulary_;
};

}  // namespace frozenseg::core
