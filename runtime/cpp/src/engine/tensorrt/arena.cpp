#include "engine/tensorrt/arena.hpp"

#include "common/error.hpp"

namespace frozenseg::tensorrt {

std::unique_ptr<nvinfer1::IExecutionContext> ActivationArena::create_context(nvinfer1::ICudaEngine& engine) {
  const std::int64_t bytes = engine.getDeviceMemorySizeV2();
  std::unique_ptr<nvinfer1::IExecutionContext> context(
      engine.createExecutionContext(nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED));
  if (!context) fail_backend("TensorRT could not create an execution context (" + name_ + " arena)");
  std::lock_guard lock(mutex_);
  members_.emplace(context.get(), bytes);
  try {
    if (!buffer_ || static_cast<std::size_t>(bytes) > buffer_->size()) grow(static_cast<std::size_t>(bytes));
    else context->setDeviceMemoryV2(buffer_->get(), static_cast<std::int64_t>(buffer_->size()));
  } catch (...) {  // out of memory: the context never joined
    release(context.get());
    throw;
  }
  return context;
}

void ActivationArena::grow(std::size_t bytes) {
  auto larger = std::make_unique<cuda::DeviceBuffer>(bytes);
  for (const auto& [member, _] : members_)
    member->setDeviceMemoryV2(larger->get(), static_cast<std::int64_t>(larger->size()));
  buffer_ = std::move(larger);  // the old buffer is freed here, after every member moved
  ++generation_;
}

void ActivationArena::release(nvinfer1::IExecutionContext* context) noexcept {
  std::lock_guard lock(mutex_);
  members_.erase(context);
  if (members_.empty()) buffer_.reset();
}

std::shared_ptr<ActivationArena> shared_arena(const std::string& key) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<ActivationArena>> arenas;
  std::lock_guard lock(mutex);
  if (auto existing = arenas[key].lock()) return existing;
  auto created = std::make_shared<ActivationArena>(key);
  arenas[key] = created;
  return created;
}

}  // namespace frozenseg::tensorrt
