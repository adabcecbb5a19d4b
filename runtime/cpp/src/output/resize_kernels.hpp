// The two lerps of the bilinear resize, in float32 and in numpy's operation order
// (a * w0 + b * w1, two products then one sum, never fused), with AVX2 copies that give the same
// floats. The library is compiled with -ffp-contract=off so the compiler cannot fuse them either.
#pragma once

#include <cstdint>

namespace frozenseg::output::kernels {

// out[x] = src[i0[x]] * lam0[x] + src[i1[x]] * lam1[x] for x < n.
void lerp_gather(const float* src, const std::int32_t* i0, const std::int32_t* i1,
                 const float* lam0, const float* lam1, float* out, int n) noexcept;

// out[x] = a[x] * w0 + b[x] * w1 for x < n.
void lerp_rows(const float* a, const float* b, float w0, float w1, float* out, int n) noexcept;

}  // namespace frozenseg::output::kernels
