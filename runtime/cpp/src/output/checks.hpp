// Input checks shared by the inferences, with runtime/output/postprocess.py's messages.
#pragma once

#include <vector>

#include "output/postprocess.hpp"

namespace frozenseg::output {

// Python's _check_inputs: class_probs (Q, C+1) and masks (Q, h, w) with the same Q; also data
// present and at least one class. Throws Error(FS_INVALID_ARGUMENT).
void check_inputs(ClassProbsView probs, MaskLogitsView masks);
void check_probs(ClassProbsView probs);
// Python's _check_isthing: one flag per class (void excluded).
void check_isthing(const std::vector<bool>& isthing, int num_classes);

// Index of the largest of n floats as numpy's argmax: first index on ties, first NaN wins.
inline int numpy_argmax(const float* v, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    const float b = v[best];
    if (b != b) break;
    if (!(v[i] <= b)) best = i;
  }
  return best;
}

}  // namespace frozenseg::output
