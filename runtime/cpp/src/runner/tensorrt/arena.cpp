#include "runner/tensorrt/arena.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "runner/tensorrt/schedule.hpp"

namespace frozenseg::tensorrt {

std::unique_ptr<nvinfer1::IExecutionContext> ActivationArena::create_context(nvinfer1::ICudaEngine& engine) {
  const std::int64_t limit = engine.getDeviceMemorySizeV2();
  std::unique_ptr<nvinfer1::IExecutionContext> context(
      engine.createExecutionContext(nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED));
  if (!context) fail_backend("TensorRT could not create an execution context (" + name_ + " arena)");
  std::lock_guard lock(mutex_);
  members_[context.get()] = Member{limit, false};
  return context;
}

void ActivationArena::fit(nvinfer1::IExecutionContext& context) {
  std::size_t needed = context.updateDeviceMemorySizeForShapes();
  std::lock_guard lock(mutex_);
  Member& member = members_.at(&context);
  member.bound = true;
  if (needed == 0) needed = static_cast<std::size_t>(member.limit);  // TensorRT's "error": the maximum
  const std::size_t current = size();
  if (!buffer_ || needed > current) {
    std::int64_t cap = 0;
    for (const auto& [_, m] : members_) cap = std::max(cap, m.limit);
    grow(next_capacity(needed, current, static_cast<std::size_t>(cap)));
  } else {
    context.setDeviceMemoryV2(buffer_->get(), static_cast<std::int64_t>(buffer_->size()));
  }
}

void ActivationArena::grow(std::size_t bytes) {
  auto larger = std::make_unique<cuda::DeviceBuffer>(bytes);
  for (const auto& [member, state] : members_)
    if (state.bound) member->setDeviceMemoryV2(larger->get(), static_cast<std::int64_t>(larger->size()));
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
