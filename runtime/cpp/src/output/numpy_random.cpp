#include "output/numpy_random.hpp"

#include <array>

#include "common/error.hpp"

namespace frozenseg::output {

namespace {

// numpy/random/bit_generator.pyx
constexpr std::uint32_t kInitA = 0x43b0d7e5, kMultA = 0x931e8875;
constexpr std::uint32_t kInitB = 0x8b51f9dd, kMultB = 0x58f38ded;
constexpr std::uint32_t kMixMultL = 0xca01f9dd, kMixMultR = 0x4973f715;

std::uint32_t hashmix(std::uint32_t value, std::uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  return value ^ (value >> 16);
}

std::uint32_t mix(std::uint32_t x, std::uint32_t y) {
  std::uint32_t result = kMixMultL * x - kMixMultR * y;
  return result ^ (result >> 16);
}

// SeedSequence(seed).generate_state(4, np.uint64) for an entropy of one 32-bit word.
std::array<std::uint64_t, 4> seed_sequence_state(std::uint32_t seed) {
  std::array<std::uint32_t, 4> pool{};
  std::uint32_t hash_const = kInitA;
  for (std::size_t i = 0; i < pool.size(); ++i) pool[i] = hashmix(i == 0 ? seed : 0, hash_const);
  for (std::size_t src = 0; src < pool.size(); ++src)
    for (std::size_t dst = 0; dst < pool.size(); ++dst)
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src], hash_const));
  std::array<std::uint32_t, 8> words{};
  std::uint32_t b = kInitB;
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::uint32_t v = pool[i % pool.size()];
    v ^= b;
    b *= kMultB;
    v *= b;
    words[i] = v ^ (v >> 16);
  }
  std::array<std::uint64_t, 4> state{};
  for (std::size_t i = 0; i < state.size(); ++i)
    state[i] = static_cast<std::uint64_t>(words[2 * i]) | (static_cast<std::uint64_t>(words[2 * i + 1]) << 32);
  return state;
}

// numpy/random/src/pcg64: PCG XSL-RR 128/64 with numpy's 32-bit buffering.
class Pcg64 {
 public:
  explicit Pcg64(std::uint32_t seed) {
    const auto s = seed_sequence_state(seed);
    const Uint128 init_state = (static_cast<Uint128>(s[0]) << 64) | s[1];
    const Uint128 init_seq = (static_cast<Uint128>(s[2]) << 64) | s[3];
    state_ = 0;
    inc_ = (init_seq << 1) | 1;
    step();
    state_ += init_state;
    step();
  }
  std::uint32_t next32() {
    if (has_uint32_) {
      has_uint32_ = false;
      return uinteger_;
    }
    const std::uint64_t next = next64();
    has_uint32_ = true;
    uinteger_ = static_cast<std::uint32_t>(next >> 32);
    return static_cast<std::uint32_t>(next & 0xffffffffu);
  }

 private:
  using Uint128 = unsigned __int128;
  void step() {
    const Uint128 mult = (static_cast<Uint128>(2549297995355413924ULL) << 64) + 4865540595714422341ULL;
    state_ = state_ * mult + inc_;
  }
  std::uint64_t next64() {
    step();
    const std::uint64_t value = static_cast<std::uint64_t>(state_ >> 64) ^ static_cast<std::uint64_t>(state_);
    const unsigned rot = static_cast<unsigned>(state_ >> 122);
    return (value >> rot) | (value << ((-rot) & 63));
  }
  Uint128 state_ = 0, inc_ = 0;
  bool has_uint32_ = false;
  std::uint32_t uinteger_ = 0;
};

}  // namespace

std::vector<std::uint8_t> numpy_uint8_integers(std::uint32_t seed, int low, int high, std::size_t count) {
  if (low < 0 || high > 256 || low >= high)
    fail_argument("uint8 integers need 0 <= low < high <= 256, got [" + std::to_string(low) + ", " +
                  std::to_string(high) + ")");
  Pcg64 rng(seed);
  // random_bounded_uint8_fill: rng = high - 1 - low, values off + draw.
  const auto range = static_cast<std::uint8_t>(high - 1 - low);
  std::uint32_t buf = 0;
  int bcnt = 0;
  auto buffered_uint8 = [&]() -> std::uint8_t {
    if (bcnt == 0) {
      buf = rng.next32();
      bcnt = 3;
    } else {
      buf >>= 8;
      bcnt -= 1;
    }
    return static_cast<std::uint8_t>(buf);
  };
  std::vector<std::uint8_t> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (range == 0) {
      out[i] = static_cast<std::uint8_t>(low);
    } else if (range == 0xFF) {
      out[i] = buffered_uint8();
    } else {
      // buffered_bounded_lemire_uint8
      const std::uint8_t excl = range + 1;
      std::uint16_t m = static_cast<std::uint16_t>(buffered_uint8() * excl);
      std::uint8_t leftover = m & 0xFF;
      if (leftover < excl) {
        const std::uint8_t threshold = static_cast<std::uint8_t>((0xFF - range) % excl);
        while (leftover < threshold) {
          m = static_cast<std::uint16_t>(buffered_uint8() * excl);
          leftover = m & 0xFF;
        }
      }
      out[i] = static_cast<std::uint8_t>(low + (m >> 8));
    }
  }
  return out;
}

}  // namespace frozenseg::output
