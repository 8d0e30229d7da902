// The "hashtable" encoding of a hash: a Dict (the keyspace's own incrementally rehashed table)
// whose entries are string entries with the field as key and the value as string, so each pair
// is one allocation holding both. Used once a hash outgrows the packed encoding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/dict.h"
#include "engine/object.h"

namespace runnel::engine {

class TableHash final : public Object {
 public:
  TableHash() = default;
  TableHash(const TableHash&) = delete;
  TableHash& operator=(const TableHash&) = delete;

  // --- Object ---
  size_t MemoryUsage() const override;
  const char* EncodingName() const override { return "hashtable"; }
  Object* Clone() const override;
  void Serialize(std::string* out) const override;

  size_t size() const { return dict_.size(); }
  // The entry of `field` (key = field, str = value), or nullptr.
  Entry* Find(std::string_view field) const { return dict_.Find(field); }
  // Sets a field; true if it is new.
  bool Set(std::string_view field, std::string_view value);
  // Adds a field known to be absent.
  void Add(std::string_view field, std::string_view value);
  bool Delete(std::string_view field);
  // The table itself, for walks (Scan) and random draws.
  Dict& dict() const { return dict_; }

 private:
  // Lookups move rehash buckets, which changes no pair: logically const.
  mutable Dict dict_;
  size_t entry_bytes_ = 0;  // heap bytes of the entries
};

}  // namespace runnel::engine
