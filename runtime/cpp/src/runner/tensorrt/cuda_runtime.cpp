#include "runner/tensorrt/cuda_runtime.hpp"

#include <cstring>
#include <utility>

#include "common/error.hpp"

namespace frozenseg::cuda {

void check(cudaError_t err, const char* what, fs_status status) {
  if (err == cudaSuccess) return;
  throw Error(err == cudaErrorMemoryAllocation ? FS_OUT_OF_MEMORY : status,
              std::string(what) + " failed: " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

int device_count(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    if (why) *why = std::string(cudaGetErrorName(err)) + " (" + cudaGetErrorString(err) + ")";
    static_cast<void>(cudaGetLastError());  // clear the sticky error for later calls
    return 0;
  }
  return count;
}

DeviceInfo device_info(int index) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties", FS_BACKEND_ERROR);
  std::string name(prop.name, strnlen(prop.name, sizeof(prop.name)));
  const auto first = name.find_first_not_of(" \t\r\n");
  const auto last = name.find_last_not_of(" \t\r\n");
  name = first == std::string::npos ? std::string() : name.substr(first, last - first + 1);
  return DeviceInfo{index, name, std::to_string(prop.major) + "." + std::to_string(prop.minor),
                    static_cast<std::int64_t>(prop.multiProcessorCount), static_cast<std::int64_t>(prop.totalGlobalMem)};
}

void clear_error() noexcept { static_cast<void>(cudaGetLastError()); }

PinnedBuffer::PinnedBuffer(std::size_t bytes) : bytes_(bytes) {
  check(cudaMallocHost(&ptr_, bytes == 0 ? 1 : bytes), "cudaMallocHost", FS_OUT_OF_MEMORY);
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) static_cast<void>(cudaFreeHost(ptr_));
}

void set_device(int index) { check(cudaSetDevice(index), "cudaSetDevice"); }

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  check(cudaMalloc(&ptr_, bytes == 0 ? 1 : bytes), "cudaMalloc");
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) static_cast<void>(cudaFree(ptr_));
}

Stream::Stream() { check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"); }

Stream::~Stream() {
  if (stream_) static_cast<void>(cudaStreamDestroy(stream_));
}

void Stream::synchronize() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

Graph Graph::capture(const Stream& stream, const std::function<void()>& enqueue) {
  check(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  try {
    enqueue();
  } catch (...) {
    cudaGraph_t abandoned = nullptr;
    if (cudaStreamEndCapture(stream.get(), &abandoned) == cudaSuccess && abandoned) cudaGraphDestroy(abandoned);
    clear_error();
    throw;
  }
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(stream.get(), &graph);
  if (ended != cudaSuccess) {  // cudaErrorStreamCaptureInvalidated: no graph, a sticky error
    if (graph) cudaGraphDestroy(graph);
    clear_error();
    check(ended, "cudaStreamEndCapture");
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t err = cudaGraphInstantiateWithFlags(&exec, graph, 0);
  cudaGraphDestroy(graph);  // the executable graph keeps what it needs
  if (err != cudaSuccess) {
    clear_error();
    check(err, "cudaGraphInstantiateWithFlags");
  }
  return Graph(exec);
}

Graph::Graph(Graph&& other) noexcept : exec_(std::exchange(other.exec_, nullptr)) {}

Graph& Graph::operator=(Graph&& other) noexcept {
  if (this != &other) {
    if (exec_) cudaGraphExecDestroy(exec_);
    exec_ = std::exchange(other.exec_, nullptr);
  }
  return *this;
}

Graph::~Graph() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

void Graph::launch(const Stream& stream) const { check(cudaGraphLaunch(exec_, stream.get()), "cudaGraphLaunch"); }

}  // namespace frozenseg::cuda
