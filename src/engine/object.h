// Base class of the non-string values an Entry can own (lists, sets, hashes, sorted sets,
// streams). Entry::Free deletes through this base, so every type needs only to derive from it.
#pragma once

#include <cstddef>
#include <string>

namespace runnel::engine {

class Object {
 public:
  virtual ~Object() = default;
  // Heap bytes held by the value, for MEMORY USAGE and INFO memory.
  virtual size_t MemoryUsage() const = 0;
  // OBJECT ENCODING's name for the current representation ("stream", "listpack", ...).
  virtual const char* EncodingName() const = 0;
  // A deep copy (COPY).
  virtual Object* Clone() const = 0;
  // Appends a self-contained binary form of the value (checkpoints); each type has a matching
  // loader that rejects malformed input instead of trusting it.
  virtual void Serialize(std::string* out) const = 0;
};

}  // namespace runnel::engine
