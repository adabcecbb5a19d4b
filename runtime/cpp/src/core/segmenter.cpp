#include "core/segmenter.hpp"

#include <algorithm>
#include <chrono>
#include <future>

#include "common/error.hpp"
#include "common/json_number.hpp"
#include "runner/factory.hpp"
#include "text/embedding.hpp"

namespace frozenseg::core {
namespace {

// Whether every graph is an FP32 file (what `auto` may give OpenVINO).
bool fp32_files(const Manifest& manifest) {
  for (const auto& [name, spec] : manifest.graphs) {
    if (spec.precision != "fp32") return false;
  }
  return true;
}

using json = nlohmann::json;

std::array<double, 3> triple(const json& value) {
  return {value.at(0).get<double>(), value.at(1).get<double>(), value.at(2).get<double>()};
}

image::PreprocessConstants preprocessing_from(const json& p) {
  image::PreprocessConstants c;
  c.clip_mean = triple(p.at("clip_mean"));
  c.clip_std = triple(p.at("clip_std"));
  c.sam_mean = triple(p.at("sam_mean"));
  c.sam_std = triple(p.at("sam_std"));
  c.pad_multiple = json_integer<int>(p.at("pad_multiple"));
  c.sam_size = json_integer<int>(p.at("sam_size"));
  c.resize_short = json_integer<int>(p.at("resize_short"));
  c.resize_max = json_integer<int>(p.at("resize_max"));
  return c;
}

nlohmann::ordered_json ordered(const json& value) { return nlohmann::ordered_json::parse(value.dump()); }

Tensor float_tensor(Shape shape, const std::vector<float>& values) {
  return Tensor::from_values<float>(std::move(shape), values);
}

Tensor bool_tensor(Shape shape, const std::vector<std::uint8_t>& values) {
  Tensor out(DType::boolean, std::move(shape));
  auto data = out.data<bool>();
  for (std::size_t i = 0; i < values.size(); ++i) data[i] = values[i] != 0;
  return out;
}

Tensor bool_tensor(Shape shape, const std::vector<bool>& values) {
  Tensor out(DType::boolean, std::move(shape));
  auto data = out.data<bool>();
  for (std::size_t i = 0; i < values.size(); ++i) data[i] = values[i];
  return out;
}

const Tensor& tensor(const TensorMap& map, const std::string& name) {
  auto it = map.find(name);
  if (it == map.end()) throw Error(FS_INTERNAL_ERROR, "no tensor '" + name + "' among the stage's outputs");
  return it->second;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Python's `timings[name] = seconds`: a new key goes last, a known one keeps its place.
void record(Timings& timings, const std::string& name, double seconds) {
  for (auto& [key, value] : timings)
    if (key == name) {
      value = seconds;
      return;
    }
  timings.emplace_back(name, seconds);
}

// One runner's infer and its seconds (Python's _timed).
TensorMap timed_infer(const Runner& runner, const TensorMap& feed, double& seconds) {
  const auto start = Clock::now();
  TensorMap out = runner.infer(feed);
  seconds = seconds_since(start);
  return out;
}

}  // namespace

std::unique_ptr<Segmenter> Segmenter::from_artifacts(const std::filesystem::path& folder,
                                                     const SegmenterOptions& options) {
  Manifest manifest = load_manifest(folder).with_precision(options.precision);
  if (options.verify) verify_artifacts(manifest);
  return std::make_unique<Segmenter>(std::move(manifest), options);
}

Segmenter::Segmenter(Manifest manifest, const SegmenterOptions& options)
    : manifest_(std::move(manifest)),
      backend_(resolve_backend(options.backend, fp32_files(manifest_), manifest_.facts.backend_choice)),
      encoder_plan_(plan_encoders(manifest_.facts.encoder_schedule, options.encoder_schedule, backend_,
                                  options.threads)),
      tokenizer_(text::tokenizer_for(manifest_.constants().at("text"))),
      max_image_pixels_(options.max_image_pixels) {
  if (options.cuda_graph && backend_ != "tensorrt")
    fail_input("CUDA graphs replay TensorRT engines: use backend 'tensorrt' with cuda_graph, not '" +
               backend_ + "'");
  const json& c = manifest_.constants();
  try {  // manifest-only work first: a bad manifest leaves no runner loaded
    preprocessing_ = preprocessing_from(c.at("preprocessing"));
    inference_ = output::InferenceConstants::from_record(c.at("inference"));
    templates_ = c.at("text").at("templates").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    fail_artifact(std::string("manifest.json has a constant of the wrong type: ") + e.what());
  }
  try {
    train_vocabulary_ = text::vocabulary_from_record(ordered(c.at("train_vocabulary")));
  } catch (const Error& e) {
    fail_artifact(std::string("manifest.json's train_vocabulary: ") + e.what());
  }
  const GraphSpec& text_graph = manifest_.graphs.at(GraphNames::clip_text);
  const std::string key = text::encoder_key(text_graph.sha256, templates_,
                                            c.at("text").at("bpe_sha256").get<std::string>(),
                                            json_integer(c.at("text").at("context_length")));
  std::optional<std::filesystem::path> directory;
  if (!options.memory_cache_only) directory = options.cache_dir.value_or(text::default_cache_dir());
  cache_ = std::make_unique<text::VocabularyCache>(key, directory);
  prompts_per_call_ = std::min(manifest_.facts.prompts_per_text_call, text_graph.dims.at("batch").max);

  RunnerOptions runner_options;
  runner_options.threads = options.threads;
  // OpenVINO's compiled blobs beside the vocabulary cache (compiled_cache_folder in Python).
  if (!options.memory_cache_only) {
    runner_options.openvino_cache = options.cache_dir ? *options.cache_dir / "openvino"
                                                      : text::default_cache_dir().parent_path() / "openvino";
  }
  runner_options.cuda_graph = options.cuda_graph;
  for (const GraphFacts& graph : manifest_.facts.graphs) {  // runners last; a failure frees those made
    runner_options.share_activations = graph.shares_activations;
    const bool image_encoder = graph.stage == StageNames::image;
    runner_options.threads = image_encoder ? encoder_plan_.image_threads : options.threads;
    // A variant file made for this backend, if any (quantize's CPU INT8 file on onnxruntime-cpu).
    const GraphSpec spec = manifest_.graphs.at(graph.name).for_backend(backend_);
    runners_.emplace(graph.name, make_runner(manifest_.root / spec.file, spec, backend_, runner_options));
  }
}

// -- stage 1 -----------------------------------------------------------------------------------
text::FloatMatrix Segmenter::encode_synonyms(const std::vector<std::string>& synonyms) const {
  std::vector<std::string> prompts;
  prompts.reserve(synonyms.size() * templates_.size());
  for (const auto& s : synonyms)
    for (const auto& t : templates_) {
      std::string prompt = t;
      const auto at = prompt.find("{}");
      if (at == std::string::npos) fail_artifact("prompt template '" + t + "' has no {} for the class name");
      prompt.replace(at, 2, s);
      prompts.push_back(std::move(prompt));
    }
  const text::TokenMatrix tokens = tokenizer_(prompts);
  const Runner& runner = *runners_.at(GraphNames::clip_text);
  text::FloatMatrix features;
  for (std::size_t start = 0; start < tokens.rows; start += prompts_per_call_) {
    const std::size_t rows = std::min<std::size_t>(prompts_per_call_, tokens.rows - start);
    text::TokenMatrix batch;
    batch.rows = rows;
    batch.cols = tokens.cols;
    batch.ids.assign(tokens.ids.begin() + start * tokens.cols, tokens.ids.begin() + (start + rows) * tokens.cols);
    const text::TokenMatrix trimmed = text::drop_padding(batch);
    TensorMap feed;
    feed.emplace("tokens", Tensor::from_values<std::int64_t>(
                               {static_cast<std::int64_t>(trimmed.rows), static_cast<std::int64_t>(trimmed.cols)},
                               trimmed.ids));
    const Tensor out = tensor(runner.infer(feed), "text_features");
    const auto values = out.data<float>();
    features.cols = static_cast<std::size_t>(out.shape().at(1));
    features.rows += rows;
    features.data.insert(features.data.end(), values.begin(), values.end());
  }
  return text::average_templates(features, templates_.size());
}

void Segmenter::check_vocabulary_size(const text::Vocabulary& vocabulary) const {
  const auto largest = runners_.at(GraphNames::decoder)->max_shape("text_embeddings");
  if (!largest) return;
  const std::pair<const char*, std::pair<std::size_t, std::int64_t>> checks[] = {
      {"classes", {vocabulary.num_classes(), largest->at(0)}},
      {"synonyms in one class", {vocabulary.max_synonyms(), largest->at(1)}}};
  for (const auto& [what, counts] : checks)
    if (static_cast<std::int64_t>(counts.first) > counts.second)
      fail_input("the vocabulary has " + std::to_string(counts.first) + " " + what + ", but the " + backend_ +
                 " decoder engine was built for at most " + std::to_string(counts.second) +
                 ": use fewer, or raise the range at build time (re-export with a larger range in the "
                 "manifest, then `frozenseg-deploy build` again)");
}

std::shared_ptr<const VocabularyState> Segmenter::encode_vocabulary(const text::Vocabulary& vocabulary,
                                                                   const text::Vocabulary* train) {
  if (vocabulary.num_classes() == 0) fail_input("expected at least one class, received an empty vocabulary");
  check_vocabulary_size(vocabulary);
  const text::SynonymIndex index = text::padded_synonym_index(vocabulary);
  const text::FloatMatrix rows =
      cache_->rows(index.flat, [this](const std::vector<std::string>& s) { return encode_synonyms(s); });
  auto state = std::make_shared<VocabularyState>();
  state->vocabulary = vocabulary;
  const auto k = static_cast<std::int64_t>(index.classes), s = static_cast<std::int64_t>(index.synonyms);
  state->text_embeddings = float_tensor({k, s, static_cast<std::int64_t>(rows.cols)},
                                        text::padded_embeddings(rows, index));
  state->synonym_mask = bool_tensor({k, s}, index.mask);
  state->seen = bool_tensor({k}, text::seen_flags(vocabulary, train ? *train : train_vocabulary_));
  return state;
}

text::CacheStats Segmenter::set_vocabulary(const text::Vocabulary& vocabulary, const text::Vocabulary* train) {
  auto state = encode_vocabulary(vocabulary, train);  // raises before anything is replaced
  std::lock_guard lock(vocabulary_mutex_);
  vocabulary_ = std::move(state);
  return cache_->stats();
}

std::shared_ptr<const VocabularyState> Segmenter::vocabulary_state() const {
  std::lock_guard lock(vocabulary_mutex_);
  return vocabulary_;
}

std::optional<std::int64_t> Segmenter::max_classes() const {
  const auto largest = runners_.at(GraphNames::decoder)->max_shape("text_embeddings");
  return largest ? std::optional<std::int64_t>(largest->at(0)) : std::nullopt;
}

// -- stages 2-5 --------------------------------------------------------------------------------
image::PreparedImage Segmenter::prepare(const image::RgbImage& image) const {
  return image::preprocess_with_constants(image, preprocessing_);
}

image::PreparedImage Segmenter::prepare(const image::RgbImage& image, std::optional<image::ResizeRule> resize) const {
  return image::preprocess(image, preprocessing_, resize);
}

TensorMap Segmenter::encode_image(const image::PreparedImage& prepared, Timings* timings) const {
  const auto clip_shape = prepared.clip_shape();
  const auto sam_shape = prepared.sam_shape();
  double clip_seconds = 0.0, sam_seconds = 0.0;
  if (encoder_plan_.schedule == "sequential") {
    TensorMap features;
    TensorMap clip_feed, sam_feed;
    clip_feed.emplace("image", float_tensor(Shape(clip_shape.begin(), clip_shape.end()), prepared.clip_input));
    features.merge(timed_infer(*runners_.at(GraphNames::clip_image), clip_feed, clip_seconds));
    if (timings) record(*timings, GraphNames::clip_image, clip_seconds);
    sam_feed.emplace("image", float_tensor(Shape(sam_shape.begin(), sam_shape.end()), prepared.sam_input));
    features.merge(timed_infer(*runners_.at(GraphNames::sam_image), sam_feed, sam_seconds));
    if (timings) record(*timings, GraphNames::sam_image, sam_seconds);
    return features;
  }
  // CLIP's seconds go to a local of its own: the task writes it, this thread reads it after get().
  auto clip = std::async(std::launch::async, [&] {
    TensorMap feed;
    feed.emplace("image", float_tensor(Shape(clip_shape.begin(), clip_shape.end()), prepared.clip_input));
    return timed_infer(*runners_.at(GraphNames::clip_image), feed, clip_seconds);
  });
  TensorMap feed;  // SAM on the calling thread: one caller overlaps both encoders
  feed.emplace("image", float_tensor(Shape(sam_shape.begin(), sam_shape.end()), prepared.sam_input));
  TensorMap features = timed_infer(*runners_.at(GraphNames::sam_image), feed, sam_seconds);
  if (timings) record(*timings, GraphNames::sam_image, sam_seconds);  // Python's order: the caller's encoder first
  features.merge(clip.get());
  if (timings) record(*timings, GraphNames::clip_image, clip_seconds);
  return features;
}

TensorMap Segmenter::decode(const TensorMap& features, const VocabularyState& state, Timings* timings) const {
  TensorMap feed;
  for (const auto& name : manifest_.facts.graph(GraphNames::decoder).inputs) {
    if (name == "text_embeddings") feed.emplace(name, state.text_embeddings);
    else if (name == "synonym_mask") feed.emplace(name, state.synonym_mask);
    else if (name == "seen") feed.emplace(name, state.seen);
    else feed.emplace(name, tensor(features, name));
  }
  double seconds = 0.0;
  TensorMap out = timed_infer(*runners_.at(GraphNames::decoder), feed, seconds);
  if (timings) record(*timings, GraphNames::decoder, seconds);
  return out;
}

output::SegmentationResult Segmenter::postprocess(const TensorMap& raw, const image::PreparedImage& prepared,
                                                  const VocabularyState& state, output::Task task) const {
  const Tensor& probs = tensor(raw, "class_probs");  // (1, Q, K + 1)
  const Tensor& masks = tensor(raw, "pred_masks");   // (1, Q, h, w)
  output::DecoderOutputs outputs;
  outputs.class_probs = {probs.data<float>().data(), static_cast<int>(probs.shape().at(1)),
                         static_cast<int>(probs.shape().at(2))};
  outputs.pred_masks = {masks.data<float>().data(), static_cast<int>(masks.shape().at(1)),
                        {static_cast<int>(masks.shape().at(2)), static_cast<int>(masks.shape().at(3))}};
  output::MaskGeometry geometry{{prepared.padded_size.height, prepared.padded_size.width},
                                {prepared.image_size.height, prepared.image_size.width},
                                {prepared.output_size.height, prepared.output_size.width}};
  return output::segmentation_result(outputs, geometry, state.vocabulary.display_names(),
                                     state.vocabulary.isthing, task, inference_);
}

output::SegmentationResult Segmenter::segment(const image::RgbImage& image, output::Task task) const {
  return segment(image, task, image::ResizeRule{preprocessing_.resize_short, preprocessing_.resize_max});
}

output::SegmentationResult Segmenter::segment(const image::RgbImage& image, output::Task task,
                                              std::optional<image::ResizeRule> resize) const {
  const auto state = vocabulary_state();
  if (!state) throw Error(FS_INVALID_ARGUMENT, "call set_vocabulary(...) before segment(...)");
  Timings timings;  // Python's segment: the stages' seconds, the graphs' own recorded inside
  auto start = Clock::now();
  const auto prepared = prepare(image, resize);
  record(timings, "preprocess", seconds_since(start));
  start = Clock::now();
  const auto raw = decode(encode_image(prepared, &timings), *state, &timings);
  record(timings, "graphs", seconds_since(start));
  start = Clock::now();
  auto result = postprocess(raw, prepared, *state, task);
  record(timings, "postprocess", seconds_since(start));
  result.timings = std::move(timings);
  return result;
}

}  // namespace frozenseg::core
