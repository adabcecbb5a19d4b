#include "output/mask_resize.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.hpp"
#include "output/resize_kernels.hpp"

namespace frozenseg::output {

AxisTaps::AxisTaps(int in_size, int out_size)
    : in(in_size), out(out_size), identity(in_size == out_size) {
  if (identity) return;
  // ops.py's _source_taps: src = scale * (dst + 0.5) - 0.5 in float64, one cast to float32
  // (torch evaluates it as one fused multiply-add), clamped at 0; scale = in / out in float32.
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  i0.resize(out_size);
  i1.resize(out_size);
  lam0.resize(out_size);
  lam1.resize(out_size);
  for (int dst = 0; dst < out_size; ++dst) {
    const double exact = static_cast<double>(scale) * (static_cast<double>(dst) + 0.5) - 0.5;
    const float src = std::max(static_cast<float>(exact), 0.0f);
    const int first = std::min(static_cast<int>(std::floor(src)), in_size - 1);
    i0[dst] = first;
    i1[dst] = std::min(first + 1, in_size - 1);
    lam1[dst] = src - static_cast<float>(first);
    lam0[dst] = 1.0f - lam1[dst];
  }
}

namespace {

Size2 checked(Size2 size, const char* what) {
  if (size.height <= 0 || size.width <= 0)
    fail_argument(std::string("mask post-processing needs a positive ") + what + " size, got " +
                  std::to_string(size.height) + "x" + std::to_string(size.width));
  return size;
}

Size2 crop_of(Size2 image, Size2 padded) {
  return {std::min(image.height, padded.height), std::min(image.width, padded.width)};
}

}  // namespace

MaskResizePlan::MaskResizePlan(Size2 mask, const MaskGeometry& geometry)
    : mask_(checked(mask, "mask")),
      crop_(crop_of(checked(geometry.image, "image"), checked(geometry.padded, "padded"))),
      output_(checked(geometry.output, "output")),
      width1_(mask.width, geometry.padded.width),
      height1_(mask.height, geometry.padded.height),
      width2_(crop_.width, output_.width),
      height2_(crop_.height, output_.height) {}

namespace detail {

void RowPair::init(int width) {
  width_ = width;
  data_.assign(2 * static_cast<std::size_t>(width), 0.0f);
  clear();
}

}  // namespace detail

MaskRowStream::MaskRowStream(const MaskResizePlan& plan) : plan_(&plan) {
  if (!plan.width1_.identity) width1_.init(plan.crop_.width);
  if (!plan.height1_.identity) padded_.init(plan.crop_.width);
  if (!plan.width2_.identity) width2_.init(plan.output_.width);
  if (!plan.height2_.identity) out_row_.resize(plan.output_.width);
}

void MaskRowStream::reset(const float* logits) {
  logits_ = logits;
  width1_.clear();
  padded_.clear();
  width2_.clear();
}

void MaskRowStream::width1_pair(int a, int b, const float*& ra, const float*& rb) {
  const int w = plan_->mask_.width;
  if (plan_->width1_.identity) {
    ra = logits_ + static_cast<std::size_t>(a) * w;
    rb = logits_ + static_cast<std::size_t>(b) * w;
    return;
  }
  const AxisTaps& t = plan_->width1_;
  width1_.fetch(a, b, [&](int s, float* dst) {
    kernels::lerp_gather(logits_ + static_cast<std::size_t>(s) * w, t.i0.data(), t.i1.data(),
                         t.lam0.data(), t.lam1.data(), dst, plan_->crop_.width);
  }, ra, rb);
}

void MaskRowStream::padded_pair(int a, int b, const float*& ra, const float*& rb) {
  if (plan_->height1_.identity) return width1_pair(a, b, ra, rb);
  const AxisTaps& t = plan_->height1_;
  padded_.fetch(a, b, [&](int r, float* dst) {
    const float* top = nullptr;
    const float* bottom = nullptr;
    width1_pair(t.i0[r], t.i1[r], top, bottom);
    kernels::lerp_rows(top, bottom, t.lam0[r], t.lam1[r], dst, plan_->crop_.width);
  }, ra, rb);
}

void MaskRowStream::width2_pair(int a, int b, const float*& ra, const float*& rb) {
  if (plan_->width2_.identity) return padded_pair(a, b, ra, rb);
  const AxisTaps& t = plan_->width2_;
  width2_.fetch(a, b, [&](int r, float* dst) {
    const float* src = nullptr;
    const float* same = nullptr;
    padded_pair(r, r, src, same);
    kernels::lerp_gather(src, t.i0.data(), t.i1.data(), t.lam0.data(), t.lam1.data(), dst,
                         plan_->output_.width);
  }, ra, rb);
}

const float* MaskRowStream::row(int y) {
  const float* top = nullptr;
  const float* bottom = nullptr;
  if (plan_->height2_.identity) {
    width2_pair(y, y, top, bottom);
    return top;
  }
  const AxisTaps& t = plan_->height2_;
  width2_pair(t.i0[y], t.i1[y], top, bottom);
  kernels::lerp_rows(top, bottom, t.lam0[y], t.lam1[y], out_row_.data(), plan_->output_.width);
  return out_row_.data();
}

void MaskRowStream::write_all(float* out) {
  const int w = plan_->output_.width;
  for (int y = 0; y < plan_->output_.height; ++y) {
    const float* r = row(y);
    std::copy(r, r + w, out + static_cast<std::size_t>(y) * w);
  }
}

}  // namespace frozenseg::output
