// The masks' way to the output size, as masks_to_output in runtime/output/postprocess.py does it
// and bit for bit the same: bilinear resize (torch's align_corners=False, width pass then height
// pass, runtime/image/ops.py) of the mask logits to the padded input size, crop to the image,
// bilinear resize to the output size. Specialised for post-processing: rows come out one at a
// time through a MaskRowStream, which keeps only the few intermediate rows the next output row
// needs, so no padded-size or full output stack ever exists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace frozenseg::output {

struct Size2 {
  int height = 0;
  int width = 0;
  friend bool operator==(Size2, Size2) = default;
};

// PreparedImage's sizes (runtime/image/preprocess.py): the decoder input's padded size, the image
// inside the padding, and the size results come back at.
struct MaskGeometry {
  Size2 padded;
  Size2 image;
  Size2 output;
  // Masks already at their final size: nothing is resized or cropped.
  static MaskGeometry identity(Size2 size) { return {size, size, size}; }
};

// One axis of a resize from `in` to `out` samples: per output index the two source taps and
// their float32 weights, computed exactly as ops.py's _source_taps. `identity` (in == out) means
// the axis is copied, as ops.py skips it.
struct AxisTaps {
  AxisTaps(int in, int out);
  int in = 0;
  int out = 0;
  bool identity = false;
  std::vector<std::int32_t> i0, i1;
  std::vector<float> lam0, lam1;
};

// The four resize axes of one (mask size, geometry) pair; shared read-only by every stream.
class MaskResizePlan {
 public:
  // Throws Error(FS_INVALID_ARGUMENT) for an empty mask or non-positive sizes. An image larger
  // than the padded size is cropped to what exists, as numpy slicing does.
  MaskResizePlan(Size2 mask, const MaskGeometry& geometry);

  Size2 mask_size() const { return mask_; }
  Size2 output_size() const { return output_; }
  Size2 crop_size() const { return crop_; }

 private:
  friend class MaskRowStream;
  Size2 mask_, crop_, output_;
  AxisTaps width1_, height1_;  // mask -> padded (only the cropped part is evaluated)
  AxisTaps width2_, height2_;  // crop -> output
};

namespace detail {

// Two rows of one intermediate stage of a MaskRowStream, keyed by row index.
class RowPair {
 public:
  void init(int width);
  void clear() { key_[0] = key_[1] = -1; }
  // Rows a and b (equal or not) both cached, computing missing ones with compute(row, dst);
  // `compute` may use other stages but not this one.
  template <typename Compute>
  void fetch(int a, int b, Compute&& compute, const float*& ra, const float*& rb) {
    int sa = find(a);
    int sb = find(b);
    if (sa < 0) {
      sa = sb >= 0 ? 1 - sb : (key_[0] <= key_[1] ? 0 : 1);  // keep the later row
      compute(a, slot(sa));
      key_[sa] = a;
    }
    if (a == b) {
      sb = sa;
    } else if (sb < 0) {
      sb = 1 - sa;
      compute(b, slot(sb));
      key_[sb] = b;
    }
    ra = slot(sa);
    rb = slot(sb);
  }

 private:
  int find(int row) const { return key_[0] == row ? 0 : key_[1] == row ? 1 : -1; }
  float* slot(int s) { return data_.data() + static_cast<std::size_t>(s) * width_; }
  std::vector<float> data_;
  int width_ = 0;
  int key_[2] = {-1, -1};
};

}  // namespace detail

// Output rows of one mask at a time. Rows may be asked for in any order; asking in increasing
// order (the normal sweep) computes every intermediate row once. Not thread-safe: one stream
// per thread and mask.
class MaskRowStream {
 public:
  explicit MaskRowStream(const MaskResizePlan& plan);
  // Starts a new mask: `logits` points to mask_size().height * width floats, kept by the caller.
  void reset(const float* logits);
  // Output row y (output_size().width floats); valid until the next row() or reset().
  const float* row(int y);
  // The whole mask at the output size into `out` (height * width floats).
  void write_all(float* out);

 private:
  // Rows a and b (a == b allowed) of each intermediate stage, valid together until the next
  // call on that stage: mask rows width-resized to the crop width; padded rows (< crop height,
  // crop width); padded rows width-resized to the output width.
  void width1_pair(int a, int b, const float*& ra, const float*& rb);
  void padded_pair(int a, int b, const float*& ra, const float*& rb);
  void width2_pair(int a, int b, const float*& ra, const float*& rb);

  const MaskResizePlan* plan_;
  const float* logits_ = nullptr;
  detail::RowPair width1_, padded_, width2_;
  std::vector<float> out_row_;
};

}  // namespace frozenseg::output
