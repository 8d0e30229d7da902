// Tests for CRC16 and Redis Cluster key slots; expected slots were checked against
// CLUSTER KEYSLOT of Redis 7.0.
#include "engine/slot.h"

#include <doctest/doctest.h>

#include <string>

namespace runnel::engine {
namespace {

TEST_CASE("slot: crc16 check value") {
  CHECK(Crc16("123456789", 9) == 0x31C3);
  CHECK(Crc16("", 0) == 0);
}

TEST_CASE("slot: known key slots") {
  CHECK(KeySlot("foo") == 12182);
  CHECK(KeySlot("bar") == 5061);
  CHECK(KeySlot("hello") == 866);
  CHECK(KeySlot("") == 0);
  CHECK(KeySlot("user1000") == 3443);
}

TEST_CASE("slot: hash tags") {
  CHECK(KeySlot("{user1000}.following") == KeySlot("{user1000}.followers"));
  CHECK(KeySlot("{user1000}.following") == KeySlot("user1000"));
  CHECK(KeySlot("x{user1000}y") == KeySlot("user1000"));
  // The first '{' and the first '}' after it delimit the tag.
  CHECK(KeySlot("foo{bar}{zap}") == KeySlot("bar"));
  CHECK(KeySlot("foo{{bar}}zap") == KeySlot("{bar"));
  CHECK(KeySlot("}foo{bar}") == KeySlot("bar"));
  // An empty tag or an unclosed one means the whole key is hashed.
  CHECK(KeySlot("foo{}{bar}") == Crc16("foo{}{bar}", 10) % kSlots);
  CHECK(KeySlot("foo{}{bar}") == 8363);
  CHECK(KeySlot("foo{bar") == 15278);
  CHECK(KeySlot("{}") == 15257);
  CHECK(KeySlot("foo{{bar}}zap") == 4015);
}

TEST_CASE("slot: binary keys and range") {
  const std::string binary("a\0b\xff{\x01}", 7);
  CHECK(KeySlot(binary) == KeySlot(std::string("\x01", 1)));
  CHECK(KeySlot(binary) == 4129);
  for (int i = 0; i < 1000; ++i) {
    const int slot = KeySlot("key:" + std::to_string(i));
    CHECK(slot >= 0);
    CHECK(slot < kSlots);
  }
}

}  // namespace
}  // namespace runnel::engine
