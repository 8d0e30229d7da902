// DEBUG DIGEST's fingerprint of values: 20 bytes that depend on what a value holds, never on
// how it is stored (listpack or hash table, quicklist nodes, stream chunks) nor on the order in
// which an unordered type (set, hash) happens to be walked. Equal data gives equal digests
// across encodings, reloads and restarts; it is a check for tests, not a cryptographic hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace runnel::engine {

struct Entry;

class Digest {
 public:
  static constexpr size_t kSize = 20;

  // Chains `data` in: the result depends on everything mixed before, and on the order.
  void Mix(std::string_view data);
  void Mix(const Digest& d) { Mix(d.view()); }
  // Combines `d` in so that order does not matter (XOR): for members of unordered types and
  // for the keys of a database.
  void Add(const Digest& d);

  bool zero() const;
  std::string Hex() const;
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  bool operator==(const Digest&) const = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

// The digest of a value and its type (not its key name and not its TTL).
Digest ValueDigest(const Entry* e);

}  // namespace runnel::engine
