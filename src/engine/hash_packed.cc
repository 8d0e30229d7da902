// The packed ("listpack") hash block: encoding elements, reading pairs in place, appending,
// replacing and erasing them, and copying the block into a bigger or smaller one.
#include "engine/hash_packed.h"

#include <malloc.h>

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/util.h"

namespace runnel::engine {

namespace {

constexpr uint8_t kEnd = 0x00;
constexpr uint8_t kShortString = 0x01;  // ..0xBF: the length plus one
constexpr size_t kMaxShortString = 0xBF - kShortString;
constexpr uint8_t kInt = 0xC0;  // ..0xC7: the integer's byte count minus one, plus 0xC0
constexpr uint8_t kLongString = 0xFF;

// A field or value as it is stored.
struct Element {
  bool is_int = false;
  int64_t int_value = 0;
  std::string_view text;
  size_t int_bytes = 0;
};

size_t VarintBytes(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// Bytes a two's-complement integer needs.
size_t IntBytes(int64_t v) {
  size_t n = 1;
  while (n < 8 && (v < -(int64_t{1} << (8 * n - 1)) || v >= (int64_t{1} << (8 * n - 1)))) ++n;
  return n;
}

// A text is stored as an integer when it is exactly an int64's decimal form.
Element Classify(std::string_view s) {
  Element e;
  e.text = s;
  if (s.empty() || s.size() > 20) return e;
  int64_t v;
  char buf[24];
  if (!ParseInt64(s, &v) || std::string_view(buf, FormatInt64(v, buf)) != s) return e;
  e.is_int = true;
  e.int_value = v;
  e.int_bytes = IntBytes(v);
  return e;
}

size_t ElementBytes(const Element& e) {
  if (e.is_int) return 1 + e.int_bytes;
  if (e.text.size() <= kMaxShortString) return 1 + e.text.size();
  return 1 + VarintBytes(e.text.size()) + e.text.size();
}

uint8_t* PutElement(uint8_t* p, const Element& e) {
  if (e.is_int) {
    *p++ = static_cast<uint8_t>(kInt + e.int_bytes - 1);
    auto u = static_cast<uint64_t>(e.int_value);
    for (size_t i = 0; i < e.int_bytes; ++i, u >>= 8) *p++ = static_cast<uint8_t>(u);
    return p;
  }
  if (e.text.size() <= kMaxShortString) {
    *p++ = static_cast<uint8_t>(kShortString + e.text.size());
  } else {
    *p++ = kLongString;
    uint64_t v = e.text.size();
    for (; v >= 0x80; v >>= 7) *p++ = static_cast<uint8_t>(v | 0x80);
    *p++ = static_cast<uint8_t>(v);
  }
  if (!e.text.empty()) std::memcpy(p, e.text.data(), e.text.size());
  return p + e.text.size();
}

}  // namespace

// Reads elements into PackedText, whose fields only this file sets.
struct PackedCodec {
  // Reads the element at *p and advances *p past it.
  static void GetElement(const uint8_t** p, PackedText* out) {
    const uint8_t b = *(*p)++;
    out->is_int_ = false;
    if (b >= kInt && b < kInt + 8) {
      const size_t n = b - kInt + 1;
      uint64_t u = 0;
      for (size_t i = 0; i < n; ++i) u |= static_cast<uint64_t>((*p)[i]) << (8 * i);
      if (n < 8 && (u >> (8 * n - 1)) != 0) u |= ~uint64_t{0} << (8 * n);  // sign-extend
      out->is_int_ = true;
      out->int_ = static_cast<int64_t>(u);
      *p += n;
      return;
    }
    size_t len = b - kShortString;
    if (b == kLongString) {
      len = 0;
      for (int shift = 0;; shift += 7) {
        const uint8_t c = *(*p)++;
        len |= static_cast<size_t>(c & 0x7f) << shift;
        if ((c & 0x80) == 0) break;
      }
    }
    out->data_ = reinterpret_cast<const char*>(*p);
    out->len_ = len;
    *p += len;
  }

  static bool Matches(const PackedText& stored, const Element& e) {
    if (stored.is_int_ != e.is_int) return false;
    if (e.is_int) return stored.int_ == e.int_value;
    return std::string_view(stored.data_, stored.len_) == e.text;
  }
};

std::string_view PackedText::view() const {
  if (!is_int_) return {data_, len_};
  return {buf_, FormatInt64(int_, buf_)};
}

PackedHash* PackedHash::Create(size_t capacity) {
  if (capacity == 0) capacity = 1;
  void* block = std::malloc(sizeof(PackedHash) + capacity);
  if (block == nullptr) throw std::bad_alloc();
  auto* h = new (block) PackedHash();
  h->data()[0] = kEnd;
  return h;
}

void PackedHash::operator delete(void* p) { std::free(p); }

size_t PackedHash::MemoryUsage() const {
  // malloc_usable_size takes a non-const pointer but does not write through it.
  return malloc_usable_size(const_cast<PackedHash*>(this));
}

size_t PackedHash::capacity() const { return MemoryUsage() - sizeof(PackedHash); }

size_t PackedHash::PairBytes(std::string_view field, std::string_view value) {
  return ElementBytes(Classify(field)) + ElementBytes(Classify(value));
}

bool PackedHash::Next(size_t* pos, PackedPair* out) const {
  const uint8_t* p = data() + *pos;
  if (*p == kEnd) return false;
  out->offset = *pos;
  PackedCodec::GetElement(&p, &out->field);
  out->value_at = static_cast<size_t>(p - data());
  PackedCodec::GetElement(&p, &out->value);
  *pos = static_cast<size_t>(p - data());
  out->bytes = *pos - out->offset;
  return true;
}

PackedExtent PackedHash::Extent() const {
  PackedExtent x;
  PackedPair pair;
  while (Next(&x.end, &pair)) ++x.count;
  return x;
}

bool PackedHash::Find(std::string_view field, PackedPair* out, PackedExtent* extent) const {
  const Element wanted = Classify(field);
  PackedExtent x;
  while (Next(&x.end, out)) {
    if (PackedCodec::Matches(out->field, wanted)) return true;
    ++x.count;
  }
  if (extent != nullptr) *extent = x;
  return false;
}

void PackedHash::Append(size_t end, std::string_view field, std::string_view value) {
  assert(end + PairBytes(field, value) + 1 <= capacity());
  uint8_t* p = PutElement(data() + end, Classify(field));
  p = PutElement(p, Classify(value));
  *p = kEnd;
}

void PackedHash::ReplaceValue(const PackedPair& p, std::string_view value, size_t used) {
  const Element e = Classify(value);
  const size_t old_end = p.offset + p.bytes;
  const size_t new_end = p.value_at + ElementBytes(e);
  assert(used - old_end + new_end <= capacity());
  // Move the pairs behind this one (and the end marker) first: the new value may be longer.
  std::memmove(data() + new_end, data() + old_end, used - old_end);
  PutElement(data() + p.value_at, e);
}

void PackedHash::Erase(const PackedPair& p, size_t used) {
  const size_t next = p.offset + p.bytes;
  std::memmove(data() + p.offset, data() + next, used - next);
}

PackedHash* PackedHash::Copy(size_t capacity) const {
  const size_t used = Extent().end + 1;
  assert(capacity >= used);
  PackedHash* h = Create(capacity);
  std::memcpy(h->data(), data(), used);
  return h;
}

Object* PackedHash::Clone() const { return Copy(Extent().end + 1); }

}  // namespace runnel::engine
