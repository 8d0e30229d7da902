// CRC-32C (Castagnoli), the checksum of every log record and checkpoint file. Uses the SSE4.2
// crc32 instruction when the CPU has it, a table otherwise; both give the same values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace runnel::persist {

// Extends `crc`, the CRC-32C of some bytes A, to the CRC-32C of A followed by data[0, n).
// Crc32c(0, data, n) is the plain checksum of data: Crc32c(0, "123456789", 9) == 0xE3069283.
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

// The table-driven implementation, whatever the CPU (tests compare it with Crc32c).
uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n);
// True if Crc32c uses the SSE4.2 instruction on this CPU.
bool Crc32cHardware();

// A CRC stored next to the data it covers is masked: the CRC of a string that itself contains
// embedded CRCs is otherwise prone to collide (the reason LevelDB gives for the same trick).
constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace runnel::persist
