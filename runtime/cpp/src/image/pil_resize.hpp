// Pillow's Image.resize((width, height), Image.BILINEAR) on an RGB image, bit for bit: the resize
// of detectron2's ResizeShortestEdge that the Python runtime's preprocess.resize_image calls.
//
// The algorithm is Pillow's (src/libImaging/Resample.c): separable, a triangle filter whose support grows with the downscale factor
// (antialiasing), per-output-pixel weights computed in double, normalised to sum 1, then turned
// into fixed point with 22 fraction bits (32 - 8 - 2) and rounded half away from zero; each pass
// accumulates in 32-bit integers from 2^21 (rounding) and clamps the result >> 22 to 0..255.
// The first pass writes a uint8 image that the second pass reads, so the pass order matters:
// Pillow 13 (the version of the Python runtime's environment; its ImagingResampleInner, read
// from the shipped binary, as its public source does not have this rule yet) runs the vertical
// pass first when the height shrinks by more than twice as many pixels as the width does, and
// otherwise the horizontal pass first, over only the source rows the vertical pass reads. Pillow
// 12 and older always run the horizontal pass first: their results differ by 1 in some pixels.
// A pass whose size does not change is skipped.
#pragma once

#include "image/image.hpp"

namespace frozenseg::image {

// A new image of height x width; the same size returns a copy. Throws Error(FS_INVALID_ARGUMENT)
// for an empty input or a non-positive size. Thread-safe (no shared state).
RgbImage pil_resize_bilinear(const RgbImage& image, int height, int width);

}  // namespace frozenseg::image
