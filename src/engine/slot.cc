// CRC16 and the Redis Cluster key-to-slot mapping.
#include "engine/slot.h"

#include <array>

namespace runnel::engine {

namespace {

// CRC16-CCITT as Redis Cluster uses it (the XMODEM variant): polynomial 0x1021, initial value 0,
// no reflection, no final xor. The table is built at compile time from the polynomial.
constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = MakeCrc16Table();

}  // namespace

uint16_t Crc16(const char* data, size_t len) {
  uint16_t crc = 0;
  for (size_t i = 0; i < len; ++i) {
    const uint8_t index = static_cast<uint8_t>((crc >> 8) ^ static_cast<uint8_t>(data[i]));
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[index]);
  }
  return crc;
}

int KeySlot(std::string_view key) {
  std::string_view hashed = key;
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    // An empty tag ("{}") does not count: the whole key is hashed, so such keys spread out.
    if (close != std::string_view::npos && close > open + 1) {
      hashed = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(hashed.data(), hashed.size()) & (kSlots - 1);
}

}  // namespace runnel::engine
