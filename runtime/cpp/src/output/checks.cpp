#include "output/checks.hpp"

#include <string>

#include "common/error.hpp"

namespace frozenseg::output {

namespace {

std::string shape(int a, int b) { return "(" + std::to_string(a) + ", " + std::to_string(b) + ")"; }

}  // namespace

void check_probs(ClassProbsView probs) {
  if (probs.queries < 0 || probs.columns < 2 || (probs.data == nullptr && probs.queries > 0))
    fail_argument("expected class_probs (Q, C+1) with at least one class besides void, got " +
                  shape(probs.queries, probs.columns) +
                  (probs.data == nullptr ? " without data" : ""));
}

void check_inputs(ClassProbsView probs, MaskLogitsView masks) {
  check_probs(probs);
  if (masks.queries != probs.queries || masks.size.height <= 0 || masks.size.width <= 0 ||
      (masks.data == nullptr && masks.queries > 0))
    fail_argument("expected class_probs (Q, C+1) and masks (Q, H, W) with the same Q, got " +
                  shape(probs.queries, probs.columns) + " and (" + std::to_string(masks.queries) +
                  ", " + std::to_string(masks.size.height) + ", " +
                  std::to_string(masks.size.width) + ")");
}

void check_isthing(const std::vector<bool>& isthing, int num_classes) {
  if (static_cast<int>(isthing.size()) != num_classes)
    fail_argument("expected " + std::to_string(num_classes) + " isthing flags, got " +
                  std::to_string(isthing.size()));
}

}  // namespace frozenseg::output
