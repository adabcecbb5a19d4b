// float32 exp and log exactly as numpy computes them on the machine at hand, so that every float
// the Python runtime derives from them (softmax scores, sigmoids, owner maps, mask scores) comes
// out bit for bit the same.
//
// numpy (>= 1.20) evaluates float32 exp/log on x86 CPUs with AVX2+FMA3 or AVX512F through its own
// algorithm (numpy/_core/src/umath/loops_exponent_log.dispatch.c.src: Cody-Waite range reduction
// and rational minimax polynomials evaluated with fused multiply-adds); on every other CPU
// (aarch64, old x86) it calls libm's expf/logf. The *_numpy_simd functions are a scalar port of
// that algorithm (std::fma); exp_f32/log_f32/sigmoid_f32 pick numpy's way for this CPU, and the
// array functions run an AVX2 copy of the algorithm where it applies.
#pragma once

#include <cstddef>

namespace frozenseg::output::npmath {

// numpy's x86 SIMD algorithm, one value at a time (the same floats on any CPU).
float exp_numpy_simd(float x) noexcept;
float log_numpy_simd(float x) noexcept;

// Whether numpy uses its SIMD algorithm here (x86 with AVX2+FMA), else libm's expf/logf.
bool uses_numpy_simd_algorithm() noexcept;
// Whether the AVX2 kernels run: the algorithm applies and FROZENSEG_OUTPUT_SCALAR is unset (the
// test suite sets it to run the portable kernels too).
bool simd_enabled() noexcept;

// numpy's float32 exp / log / sigmoid on this CPU. sigmoid is runtime/output/postprocess.py's
// 1 / (1 + exp(-x)).
float exp_f32(float x) noexcept;
float log_f32(float x) noexcept;
float sigmoid_f32(float x) noexcept;

// Element-wise over arrays (`out` may equal `in`).
void exp_f32(const float* in, float* out, std::size_t n) noexcept;
void log_f32(const float* in, float* out, std::size_t n) noexcept;
void sigmoid_f32(const float* in, float* out, std::size_t n) noexcept;

}  // namespace frozenseg::output::npmath
