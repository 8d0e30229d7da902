// CRC16 and the Redis Cluster key-to-slot mapping.
#include "engine/slot.h"

#include <array>

namespace runnel::engine {

namespace {

// CRC16-CCITT as Redis Cluster uses it (the XMODEM variant): polynomial 0x1021, initial value 0,
// no reflection, no final xor. The table is built at compile time from the polynomial.
// Slice-by-8 tables: kTables[0] is the classic byte table; kTables[k][b] is the CRC of byte b
// followed by k zero bytes, so eight input bytes fold into the CRC with eight independent
// lookups instead of a chain of eight dependent ones (keys are hashed on every command).
using Crc16Tables = std::array<std::array<uint16_t, 256>, 8>;

constexpr Crc16Tables MakeCrc16Tables() {
  Crc16Tables t{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    t[0][byte] = crc;
  }
  for (int k = 1; k < 8; ++k) {
    for (int byte = 0; byte < 256; ++byte) {
      uint16_t prev = t[k - 1][byte];
      t[k][byte] = static_cast<uint16_t>((prev << 8) ^ t[0][prev >> 8]);
    }
  }
  return t;
}

constexpr Crc16Tables kCrc16Tables = MakeCrc16Tables();

}  // namespace

uint16_t Crc16(const char* data, size_t len) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  const auto& t = kCrc16Tables;
  uint16_t crc = 0;
  for (; len >= 8; len -= 8, p += 8) {
    crc = static_cast<uint16_t>(t[7][p[0] ^ (crc >> 8)] ^ t[6][p[1] ^ (crc & 0xff)] ^
                                t[5][p[2]] ^ t[4][p[3]] ^ t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^
                                t[0][p[7]]);
  }
  for (; len > 0; --len, ++p) {
    crc = static_cast<uint16_t>((crc << 8) ^ t[0][(crc >> 8) ^ *p]);
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
