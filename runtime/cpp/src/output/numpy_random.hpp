// numpy.random.default_rng(seed).integers(low, high, size, dtype=np.uint8) for small integer
// seeds, bit for bit: SeedSequence's entropy pool and state words, PCG64 (XSL-RR 128/64) and
// numpy's buffered Lemire draw of uint8. Used for the overlay palette (visualize.py's palette).
#pragma once

#include <cstdint>
#include <vector>

namespace frozenseg::output {

// count values in [low, high) (0 <= low < high <= 256), as default_rng(seed).integers(low, high,
// size=count, dtype=np.uint8) for a seed below 2^32.
std::vector<std::uint8_t> numpy_uint8_integers(std::uint32_t seed, int low, int high, std::size_t count);

}  // namespace frozenseg::output
