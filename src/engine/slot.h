// Key slots as in Redis Cluster: CRC16 (XMODEM) of the key, or of its {hash tag}, modulo 16384.
#pragma once

#include <cstdint>
#include <string_view>

namespace runnel::engine {

constexpr int kSlots = 16384;

uint16_t Crc16(const char* data, size_t len);
// The slot of a key: if the key has a '{' followed later by a '}' with at least one byte
// between them, only the bytes between the first '{' and the first '}' after it are hashed.
int KeySlot(std::string_view key);

}  // namespace runnel::engine
