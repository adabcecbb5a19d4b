// Bilinear resize of float32 planes equal to PyTorch's
// F.interpolate(x, size, mode="bilinear", align_corners=False) (no antialiasing): the Python
// runtime's image/ops.py resize_bilinear, used for the SAM input and for the mask logits in
// post-processing.
//
// Same numbers as ops.py, bit for bit: per output index the source taps
// src = float32(float64(scale) * (dst + 0.5) - 0.5) clamped at 0, scale = float32(in) / float32(out)
// (one rounding, as PyTorch's fused multiply-add), i0 = floor(src), i1 = min(i0 + 1, in - 1),
// lambda1 = src - i0 and lambda0 = 1 - lambda1 in float32; the width pass runs first, then the
// height pass, each value (a * lambda0) + (b * lambda1) with both products and the sum rounded to
// float32 (this library is built with -ffp-contract=off so no fused multiply-add changes that).
// An axis whose size does not change is copied, as in ops.py.
//
// Speed: taps are computed once per call; each pass walks rows (the height pass is a blend of two
// whole source rows, which compilers vectorise). `threads` > 1 splits the planes (channels /
// masks) over that many std::threads, each with its own width-pass buffer of in_h x out_w floats;
// the result does not depend on the thread count. Thread-safe: no shared state.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace frozenseg::image {

// `input` holds `planes` contiguous in_h x in_w planes; `output` receives planes of out_h x out_w.
// Throws Error(FS_INVALID_ARGUMENT) on a non-positive size or a span of the wrong length.
void resize_bilinear(std::span<const float> input, std::size_t planes, int in_h, int in_w,
                     std::span<float> output, int out_h, int out_w, unsigned threads = 1);

std::vector<float> resize_bilinear(std::span<const float> input, std::size_t planes, int in_h,
                                   int in_w, int out_h, int out_w, unsigned threads = 1);

// The same on a strided input, e.g. the top-left in_h x in_w crop of larger planes (post-
// processing's crop to the image before resizing to the output), without copying it first:
// plane p, row r starts at input + p * plane_stride + r * row_stride (in floats; row_stride >=
// in_w, plane_stride >= (in_h - 1) * row_stride + in_w). `output` holds planes * out_h * out_w
// floats. The caller guarantees the input extent; sizes and strides are checked.
void resize_bilinear_strided(const float* input, std::size_t planes, std::size_t plane_stride,
                             std::size_t row_stride, int in_h, int in_w, float* output, int out_h,
                             int out_w, unsigned threads = 1);

}  // namespace frozenseg::image
