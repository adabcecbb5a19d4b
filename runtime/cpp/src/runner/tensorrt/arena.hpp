// One device buffer for the activations of TensorRT contexts that never run at the same time
// (runtime/backends/tensorrt/arena.py): an engine's contexts (one per captured graph) always share
// one; clip_text (set_vocabulary) and decoder (after both encoders) share one across engines. Sized
// for the shapes run and grown on demand: on a Jetson, GPU and CPU share one memory. The image
// encoders run at once on two streams and keep their own. A member holds the arena's lock from
// its first enqueue to its stream sync, so sharing is safe, not merely likely; growing re-points
// every member and bumps generation(), which tells engines to drop CUDA graphs captured on the
// old address. Compiled only with FROZENSEG_HAVE_TENSORRT.
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runner/tensorrt/cuda_runtime.hpp"

namespace frozenseg::tensorrt {

class ActivationArena {
 public:
  explicit ActivationArena(std::string name) : name_(std::move(name)) {}
  ActivationArena(const ActivationArena&) = delete;
  ActivationArena& operator=(const ActivationArena&) = delete;

  // A USER_MANAGED context of `engine`, a member; fit() gives it memory once its shapes are set.
  // The caller destroys it, then calls release() with its address (nothing runs in between).
  std::unique_ptr<nvinfer1::IExecutionContext> create_context(nvinfer1::ICudaEngine& engine);
  // Memory for the shapes just set on `context` (updateDeviceMemorySizeForShapes), the buffer
  // grown by next_capacity up to the members' getDeviceMemorySizeV2 if needed (every bound member
  // re-pointed, generation() bumped).
  void fit(nvinfer1::IExecutionContext& context);
  // Forget a member; the buffer is freed with the last one.
  void release(nvinfer1::IExecutionContext* context) noexcept;

  std::recursive_mutex& mutex() noexcept { return mutex_; }
  std::uint64_t generation() const noexcept { return generation_; }
  std::size_t size() const noexcept { return buffer_ ? buffer_->size() : 0; }

 private:
  void grow(std::size_t bytes);

  std::string name_;
  std::recursive_mutex mutex_;
  std::uint64_t generation_ = 0;
  std::unique_ptr<cuda::DeviceBuffer> buffer_;
  struct Member {
    std::int64_t limit = 0;  // its engine's getDeviceMemorySizeV2: the profile max
    bool bound = false;      // fit() has given it the buffer
  };
  std::map<nvinfer1::IExecutionContext*, Member> members_;
};

// The process-wide arena of `key` (artifacts folder and device), alive while an engine holds it.
std::shared_ptr<ActivationArena> shared_arena(const std::string& key);

}  // namespace frozenseg::tensorrt
