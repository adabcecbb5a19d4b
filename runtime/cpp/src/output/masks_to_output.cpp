// masks_to_output: the full (Q, H, W) stack, for callers that want the masks themselves.
#include <cstddef>

#include "common/error.hpp"
#include "output/mask_resize.hpp"
#include "output/parallel.hpp"
#include "output/postprocess.hpp"

namespace frozenseg::output {

FloatBuffer masks_to_output(MaskLogitsView masks, const MaskGeometry& geometry,
                            const PostprocessOptions& options) {
  if (masks.queries < 0 || (masks.data == nullptr && masks.queries > 0))
    fail_argument("masks_to_output needs mask logits (Q, h, w), got none");
  const MaskResizePlan plan(masks.size, geometry);
  const std::size_t in_size = static_cast<std::size_t>(masks.size.height) * masks.size.width;
  const std::size_t out_size =
      static_cast<std::size_t>(geometry.output.height) * geometry.output.width;
  FloatBuffer out(out_size * masks.queries);
  parallel_ranges(worker_count(options.threads, masks.queries), masks.queries,
                  [&](int, long begin, long end) {
                    MaskRowStream stream(plan);
                    for (long q = begin; q < end; ++q) {
                      stream.reset(masks.data + q * in_size);
                      stream.write_all(out.data() + q * out_size);
                    }
                  });
  return out;
}

}  // namespace frozenseg::output
