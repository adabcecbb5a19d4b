// The TensorRT engine's decisions that need no GPU (runtime/backends/tensorrt/schedule.py): which
// execution context serves which input shapes, when its CUDA graph replays, how far a reused
// buffer grows. Header-only and TensorRT-free: built and tested everywhere
// (test_runner_tensorrt_artifacts.cpp, "ContextSchedule" tests).
//
// NVIDIA (developer guide, "CUDA Graphs"; issue #3798): a graph captured on a context is valid only
// for the shapes it was captured with; one execution context per captured graph, memory shared.
// So a context is dedicated to one shape key while it holds a graph; a new key takes a fresh
// context (up to kMaxContexts) or the least recently used one (its graph dropped). A graph is
// stale once the memory it was captured on moved (Stamp). A failed capture turns graphs off.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runner/tensor.hpp"

namespace frozenseg::tensorrt {

inline constexpr std::size_t kMaxContexts = 8;  // contexts (each with its graph) kept per engine

using ShapeKey = std::vector<std::pair<std::string, Shape>>;  // a call's input shapes, in input order
using Stamp = std::pair<std::uint64_t, std::uint64_t>;       // (activation generation, I/O generation)

enum class Action { kEnqueue, kCapture, kReplay };

struct Choice {
  std::size_t slot = 0;
  bool new_context = false;  // create context `slot`
  bool set_shapes = false;   // set the call's input shapes on it (and size its activations)
  bool drop_graph = false;   // destroy its graph first: captured for other shapes
};

class ContextSchedule {
 public:
  explicit ContextSchedule(bool cuda_graph, std::size_t capacity = kMaxContexts)
      : cuda_graph_(cuda_graph), capacity_(cuda_graph ? capacity : 1) {
    if (capacity < 1) throw std::invalid_argument("capacity must be at least 1");
  }

  bool cuda_graph() const noexcept { return cuda_graph_; }
  std::size_t contexts() const noexcept { return slots_.size(); }
  const ShapeKey& key_of(std::size_t slot) const { return slots_.at(slot).key; }

  Choice choose(const ShapeKey& key) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].valid && slots_[i].key == key) {
        touch(i);
        return {i, false, false, false};
      }
    }
    if (slots_.size() < capacity_) {
      slots_.push_back({key, true, std::nullopt});
      order_.push_back(slots_.size() - 1);
      return {slots_.size() - 1, true, true, false};
    }
    const std::size_t i = order_.front();
    const bool dropped = slots_[i].graph.has_value();
    slots_[i] = {key, true, std::nullopt};
    touch(i);
    return {i, false, true, dropped};
  }

  Action action(std::size_t slot, const Stamp& stamp) const {
    if (!cuda_graph_) return Action::kEnqueue;
    return slots_.at(slot).graph == stamp ? Action::kReplay : Action::kCapture;
  }

  void captured(std::size_t slot, const Stamp& stamp) { slots_.at(slot).graph = stamp; }

  // Graphs off for good; the slots whose graphs must be destroyed. No more contexts are made.
  std::vector<std::size_t> capture_failed() {
    cuda_graph_ = false;
    capacity_ = std::max<std::size_t>(slots_.size(), 1);
    std::vector<std::size_t> holding;
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].graph) {
        holding.push_back(i);
        slots_[i].graph.reset();
      }
    return holding;
  }

  // A call on `slot` failed part-way: it matches no key again; `created`: its context was never
  // made, the slot goes. Returns whether it held a graph (the caller destroys it).
  bool abandon(std::size_t slot, bool created) {
    const bool had_graph = slots_.at(slot).graph.has_value();
    if (created && slot + 1 == slots_.size()) {
      slots_.pop_back();
      order_.erase(std::find(order_.begin(), order_.end(), slot));
    } else {
      slots_[slot] = {{}, false, std::nullopt};
    }
    return had_graph;
  }

 private:
  struct Slot {
    ShapeKey key;
    bool valid = true;
    std::optional<Stamp> graph;
  };
  void touch(std::size_t i) {
    order_.erase(std::find(order_.begin(), order_.end(), i));
    order_.push_back(i);
  }

  bool cuda_graph_;
  std::size_t capacity_;
  std::vector<Slot> slots_;
  std::vector<std::size_t> order_;  // least recently used first
};

// schedule.next_capacity: a reused buffer's size for a call needing `needed` bytes: itself when it
// fits, else at least half again, capped at `limit` (the profile max), never less than `needed`.
inline std::size_t next_capacity(std::size_t needed, std::size_t current, std::size_t limit) {
  if (needed <= current) return current;
  return std::max(needed, std::min(std::max(needed, current + current / 2), limit));
}

}  // namespace frozenseg::tensorrt
