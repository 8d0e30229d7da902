// The table ("hashtable") hash encoding: pairs as string entries in a Dict.
#include "engine/hash_table.h"

#include <malloc.h>

#include <cstring>
#include <memory>

namespace runnel::engine {

namespace {

size_t EntryBytes(Entry* e) { return malloc_usable_size(e); }

}  // namespace

size_t TableHash::MemoryUsage() const {
  return sizeof(TableHash) + entry_bytes_ + dict_.BucketMemory();
}

void TableHash::Add(std::string_view field, std::string_view value) {
  Entry* e = Entry::NewString(field, value);
  dict_.Insert(e);
  entry_bytes_ += EntryBytes(e);
}

bool TableHash::Set(std::string_view field, std::string_view value) {
  Entry* old = dict_.Find(field);
  if (old == nullptr) {
    Add(field, value);
    return true;
  }
  if (old->val_len == value.size()) {
    if (!value.empty()) std::memcpy(old->mutable_str(), value.data(), value.size());
    return false;
  }
  Entry* fresh = Entry::NewString(field, value);
  dict_.Replace(old, fresh);
  entry_bytes_ += EntryBytes(fresh);
  entry_bytes_ -= EntryBytes(old);
  Entry::Free(old);
  return false;
}

bool TableHash::Delete(std::string_view field) {
  Entry* e = dict_.Remove(field);
  if (e == nullptr) return false;
  entry_bytes_ -= EntryBytes(e);
  Entry::Free(e);
  return true;
}

Object* TableHash::Clone() const {
  auto copy = std::make_unique<TableHash>();
  uint64_t cursor = 0;
  do {
    cursor = dict_.Scan(cursor, [&](Entry* e) { copy->Add(e->key(), e->str()); });
  } while (cursor != 0);
  return copy.release();
}

}  // namespace runnel::engine
