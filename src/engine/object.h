// Base class of the non-string values an Entry can own (lists, sets, hashes, sorted sets,
// streams). Entry::Free deletes through this base, so every type needs only to derive from it.
#pragma once

#include <cstddef>

namespace runnel::engine {

class Object {
 public:
  virtual ~Object() = default;
  // Heap bytes held by the value, for MEMORY USAGE and INFO memory.
  virtual size_t MemoryUsage() const = 0;
};

}  // namespace runnel::engine
