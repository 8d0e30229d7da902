// CRC-32C in two implementations: slicing-by-8 tables built at compile time, and the SSE4.2
// crc32 instruction, chosen once per process by asking the CPU.
#include "persist/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace runnel::persist {

namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // Castagnoli, bit-reversed

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  // t[k][i]: the CRC of byte i followed by k zero bytes, so 8 bytes fold in 8 lookups.
  for (int k = 1; k < 8; ++k)
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  return t;
}

constexpr Tables kTables = MakeTables();

uint32_t PortableRaw(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= c;  // little-endian: the low 4 bytes of the word meet the running CRC
    c = kTables[7][w & 0xff] ^ kTables[6][(w >> 8) & 0xff] ^ kTables[5][(w >> 16) & 0xff] ^
        kTables[4][(w >> 24) & 0xff] ^ kTables[3][(w >> 32) & 0xff] ^ kTables[2][(w >> 40) & 0xff] ^
        kTables[1][(w >> 48) & 0xff] ^ kTables[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xff];
  return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t HardwareRaw(uint32_t c, const uint8_t* p, size_t n) {
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(c64);
  while (n-- > 0) c = _mm_crc32_u8(c, *p++);
  return c;
}

bool DetectHardware() {
  __builtin_cpu_init();  // needed when the first call comes from a static initializer
  return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t HardwareRaw(uint32_t c, const uint8_t* p, size_t n) { return PortableRaw(c, p, n); }
bool DetectHardware() { return false; }
#endif

using RawFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

// Asks the CPU once; a function-local static so callers in static initializers are safe too.
RawFn Chosen() {
  static const RawFn fn = DetectHardware() ? HardwareRaw : PortableRaw;
  return fn;
}

}  // namespace

uint32_t Crc32c(uint32_t crc, const void* data, size_t n) {
  return ~Chosen()(~crc, static_cast<const uint8_t*>(data), n);
}

uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n) {
  return ~PortableRaw(~crc, static_cast<const uint8_t*>(data), n);
}

bool Crc32cHardware() { return DetectHardware(); }

}  // namespace runnel::persist
