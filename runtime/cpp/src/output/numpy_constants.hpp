// The constants of numpy's float32 exp/log (numpy/_core/src/umath/npy_simd_data.h and
// npy_math.h), spelled as numpy spells them so that the compiler rounds them to the same floats.
#pragma once

namespace frozenseg::output::npmath::constants {

inline constexpr float kExpMax = 88.72283935546875f;
inline constexpr float kExpMin = -103.97208404541015625f;
inline constexpr float kRintMagic = 0x1.800000p+23f;
inline constexpr float kLog2e = 1.442695040888963407359924681001892137F;
inline constexpr float kLoge2 = 0.693147180559945309417232121458176568F;
inline constexpr float kSqrt1_2 = 0.707106781186547524400844362104849039F;
inline constexpr float kCodyWaiteHigh = -6.93145752e-1f;
inline constexpr float kCodyWaiteLow = -1.42860677e-6f;

inline constexpr float kExpP0 = 9.999999999980870924916e-01f;
inline constexpr float kExpP1 = 7.257664613233124478488e-01f;
inline constexpr float kExpP2 = 2.473615434895520810817e-01f;
inline constexpr float kExpP3 = 5.114512081637298353406e-02f;
inline constexpr float kExpP4 = 6.757896990527504603057e-03f;
inline constexpr float kExpP5 = 5.082762527590693718096e-04f;
inline constexpr float kExpQ0 = 1.000000000000000000000e+00f;
inline constexpr float kExpQ1 = -2.742335390411667452936e-01f;
inline constexpr float kExpQ2 = 2.159509375685829852307e-02f;

inline constexpr float kLogP0 = 0.000000000000000000000e+00f;
inline constexpr float kLogP1 = 9.999999999999998702752e-01f;
inline constexpr float kLogP2 = 2.112677543073053063722e+00f;
inline constexpr float kLogP3 = 1.480000633576506585156e+00f;
inline constexpr float kLogP4 = 3.808837741388407920751e-01f;
inline constexpr float kLogP5 = 2.589979117907922693523e-02f;
inline constexpr float kLogQ0 = 1.000000000000000000000e+00f;
inline constexpr float kLogQ1 = 2.612677543073109236779e+00f;
inline constexpr float kLogQ2 = 2.453006071784736363091e+00f;
inline constexpr float kLogQ3 = 9.864942958519418960339e-01f;
inline constexpr float kLogQ4 = 1.546476374983906719538e-01f;
inline constexpr float kLogQ5 = 5.875095403124574342950e-03f;

}  // namespace frozenseg::output::npmath::constants
