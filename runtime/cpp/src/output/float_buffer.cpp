#include "output/float_buffer.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace frozenseg::output {

void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure only means small pages
#endif
}

}  // namespace frozenseg::output
