// The CUDA runtime as the TensorRT engine uses it: RAII device buffers, streams and graphs, and
// errors as frozenseg::Error naming the call and CUDA's reason (cuda_runtime.py's counterpart).
// Compiled only with FROZENSEG_HAVE_TENSORRT.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "frozenseg/frozenseg.h"

namespace frozenseg::cuda {

// Throws frozenseg::Error(status) "<what> failed: cudaErrorX (meaning)" unless err is cudaSuccess.
void check(cudaError_t err, const char* what, fs_status status = FS_INFERENCE_ERROR);

struct DeviceInfo {
  int index = 0;
  std::string name;                // as the builder records it (NUL-trimmed, stripped)
  std::string compute_capability;  // "major.minor"
  std::int64_t sm_count = 0;       // multiprocessors: tells Jetson Orin modules apart (all "Orin", 8.7)
  std::int64_t total_memory = 0;   // bytes
};

// Clears the thread's last CUDA error, which a failed capture leaves behind (trtexec does too).
void clear_error() noexcept;

// Devices present; 0 (and `why`) when there is no driver or GPU, without throwing.
int device_count(std::string* why = nullptr);
DeviceInfo device_info(int index);
// The current device is per thread in CUDA: set it on each thread that enqueues work.
void set_device(int index);

class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes);  // FS_OUT_OF_MEMORY when the GPU has no room
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const noexcept { return ptr_; }
  std::size_t size() const noexcept { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Page-locked host memory: cudaMemcpyAsync from pageable memory is staged by the driver and
// effectively synchronous; from pinned memory it is a real asynchronous DMA.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(std::size_t bytes);  // FS_OUT_OF_MEMORY when it cannot be had
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void* get() const noexcept { return ptr_; }
  std::size_t size() const noexcept { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// A non-blocking stream: work on it does not wait for the legacy default stream, so two engines
// on two streams (CLIP and SAM) run at once.
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const noexcept { return stream_; }
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
};

// A captured, instantiated CUDA graph: the kernels of one enqueue, replayed with one launch.
class Graph {
 public:
  // Captures what `enqueue` puts on `stream` (thread-local capture mode: other threads' CUDA
  // calls are unaffected). Throws frozenseg::Error(FS_INFERENCE_ERROR) when capture fails, having
  // left capture mode, destroyed any partial graph and cleared the sticky error.
  static Graph capture(const Stream& stream, const std::function<void()>& enqueue);
  Graph(Graph&& other) noexcept;
  Graph& operator=(Graph&& other) noexcept;
  ~Graph();
  void launch(const Stream& stream) const;

 private:
  explicit Graph(cudaGraphExec_t exec) noexcept : exec_(exec) {}
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace frozenseg::cuda
