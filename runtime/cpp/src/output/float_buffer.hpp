// Large float outputs (semantic scores, mask stacks) without the zero-fill std::vector does on
// resize: every element is written by the post-processing anyway, and clearing 150 x 512 x 512
// floats first costs as much as computing them. At least 64-byte aligned, so whole 16-float
// blocks of rows can be written with streaming stores.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace frozenseg::output {

// Buffers of 4 MiB or more are 2 MiB aligned and offered transparent huge pages, as numpy does
// for its arrays of that size: first-touch page faults of a 150 MB score stack otherwise cost
// more than writing it (especially under virtualisation).
inline constexpr std::size_t kHuge = std::size_t{4} << 20;
inline constexpr std::size_t kHugeAlign = std::size_t{2} << 20;
void advise_huge_pages(void* p, std::size_t bytes) noexcept;

template <typename T>
struct UninitializedAllocator {
  using value_type = T;
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    const std::size_t align = bytes >= kHuge ? kHugeAlign : 64;
    void* p = ::operator new(bytes, std::align_val_t(align));
    if (bytes >= kHuge) advise_huge_pages(p, bytes);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ::operator delete(p, std::align_val_t(n * sizeof(T) >= kHuge ? kHugeAlign : 64));
  }
  // Value-initialisation (resize, the size constructor) leaves the memory as it is.
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  friend bool operator==(const UninitializedAllocator&, const UninitializedAllocator<U>&) noexcept {
    return true;
  }
};

// A std::vector<float> whose resize() does not clear; otherwise the same.
using FloatBuffer = std::vector<float, UninitializedAllocator<float>>;

}  // namespace frozenseg::output
