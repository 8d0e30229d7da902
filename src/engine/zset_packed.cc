// The packed sorted-set buffer: element encoding, lookups and in-order inserts.
#include "engine/zset_packed.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "engine/bits.h"
#include "engine/zset_range.h"

namespace runnel::engine {

namespace {

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

// Bytes of the integer form of `score` (1..7), or 0 if it needs the double form.
size_t IntegerBytes(double score, int64_t* v) {
  if (!(std::fabs(score) < kMaxExactInteger) || score != std::trunc(score)) return 0;
  *v = static_cast<int64_t>(score);
  size_t n = 1;
  while (n < 7) {
    const int64_t lim = int64_t{1} << (8 * n - 1);
    if (*v >= -lim && *v < lim) break;
    ++n;
  }
  return n;
}

size_t ScoreBytes(double score) {
  int64_t v;
  const size_t n = IntegerBytes(score, &v);
  return 1 + (n == 0 ? 8 : n);
}

char* PutScore(char* p, double score) {
  int64_t v;
  const size_t n = IntegerBytes(score, &v);
  *p++ = static_cast<char>(n);
  if (n == 0) {
    std::memcpy(p, &score, 8);
    return p + 8;
  }
  const uint64_t u = static_cast<uint64_t>(v);
  for (size_t i = 0; i < n; ++i) *p++ = static_cast<char>(u >> (8 * i));
  return p;
}

// Reads a score at p; *len gets its size.
double GetScore(const char* p, size_t* len) {
  const size_t n = static_cast<uint8_t>(p[0]);
  if (n == 0) {
    double d;
    std::memcpy(&d, p + 1, 8);
    *len = 9;
    return d;
  }
  uint64_t u = 0;
  for (size_t i = 0; i < n; ++i)
    u |= static_cast<uint64_t>(static_cast<uint8_t>(p[1 + i])) << (8 * i);
  const unsigned shift = static_cast<unsigned>(64 - 8 * n);
  *len = 1 + n;
  return static_cast<double>(static_cast<int64_t>(u << shift) >> shift);  // sign-extend
}

size_t ReadLength(const char* buf, size_t* off) {
  size_t v = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(buf[(*off)++]);
    v |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
}

}  // namespace

ZPacked::~ZPacked() { std::free(buf_); }

ZPacked::ZPacked(const ZPacked& o) { *this = o; }

ZPacked& ZPacked::operator=(const ZPacked& o) {
  if (this == &o) return *this;
  std::free(buf_);
  buf_ = nullptr;
  used_ = cap_ = count_ = 0;
  if (o.used_ > 0) {
    buf_ = static_cast<char*>(std::malloc(o.used_));
    if (buf_ == nullptr) throw std::bad_alloc();
    std::memcpy(buf_, o.buf_, o.used_);
    used_ = cap_ = o.used_;
    count_ = o.count_;
  }
  return *this;
}

ZPacked::ZPacked(ZPacked&& o) noexcept
    : buf_(std::exchange(o.buf_, nullptr)),
      used_(std::exchange(o.used_, 0)),
      cap_(std::exchange(o.cap_, 0)),
      count_(std::exchange(o.count_, 0)) {}

ZPacked& ZPacked::operator=(ZPacked&& o) noexcept {
  if (this != &o) {
    std::free(buf_);
    buf_ = std::exchange(o.buf_, nullptr);
    used_ = std::exchange(o.used_, 0);
    cap_ = std::exchange(o.cap_, 0);
    count_ = std::exchange(o.count_, 0);
  }
  return *this;
}

size_t ZPacked::ElementBytes(std::string_view member, double score) {
  return VarintLen(member.size()) + member.size() + ScoreBytes(score);
}

ZPacked::Element ZPacked::Read(size_t offset) const {
  Element e;
  e.offset = offset;
  const size_t len = ReadLength(buf_, &offset);
  e.member = std::string_view(buf_ + offset, len);
  size_t score_len;
  e.score = GetScore(buf_ + offset + len, &score_len);
  e.next = offset + len + score_len;
  return e;
}

size_t ZPacked::Find(std::string_view member, double* score) const {
  for (size_t off = 0; off < used_;) {
    const size_t start = off;
    const size_t len = ReadLength(buf_, &off);
    const char* p = buf_ + off + len;
    if (len == member.size() && std::memcmp(buf_ + off, member.data(), len) == 0) {
      size_t score_len;
      *score = GetScore(p, &score_len);
      return start;
    }
    const size_t n = static_cast<uint8_t>(*p);
    off += len + 1 + (n == 0 ? 8 : n);
  }
  return kNotFound;
}

char* ZPacked::OpenGap(size_t offset, size_t n) {
  if (used_ + n > cap_) {
    size_t cap = cap_ < 64 ? 64 : cap_ + cap_ / 2;
    if (cap < used_ + n) cap = used_ + n;
    char* fresh = static_cast<char*>(std::realloc(buf_, cap));
    if (fresh == nullptr) throw std::bad_alloc();
    buf_ = fresh;
    cap_ = cap;
  }
  std::memmove(buf_ + offset + n, buf_ + offset, used_ - offset);
  used_ += n;
  return buf_ + offset;
}

void ZPacked::Write(char* p, std::string_view member, double score) {
  p = reinterpret_cast<char*>(PutVarint(reinterpret_cast<uint8_t*>(p), member.size()));
  std::memcpy(p, member.data(), member.size());
  PutScore(p + member.size(), score);
  ++count_;
}

void ZPacked::Insert(std::string_view member, double score) {
  size_t off = 0;
  while (off < used_) {
    Element e = Read(off);
    if (ElementLess(score, member, e.score, e.member)) break;
    off = e.next;
  }
  Write(OpenGap(off, ElementBytes(member, score)), member, score);
}

void ZPacked::Append(std::string_view member, double score) {
  Write(OpenGap(used_, ElementBytes(member, score)), member, score);
}

void ZPacked::EraseAt(size_t offset) { EraseBytes(offset, Read(offset).next, 1); }

void ZPacked::EraseBytes(size_t from, size_t to, size_t count) {
  std::memmove(buf_ + from, buf_ + to, used_ - to);
  used_ -= to - from;
  count_ -= count;
  if (count_ == 0) {
    std::free(buf_);
    buf_ = nullptr;
    cap_ = 0;
  } else if (cap_ > 256 && used_ < cap_ / 4) {
    char* fresh = static_cast<char*>(std::realloc(buf_, used_));
    if (fresh != nullptr) {
      buf_ = fresh;
      cap_ = used_;
    }
  }
}

std::vector<uint32_t> ZPacked::Offsets() const {
  std::vector<uint32_t> out;
  out.reserve(count_);
  for (size_t off = 0; off < used_; off = Read(off).next) out.push_back(static_cast<uint32_t>(off));
  return out;
}

size_t ZPacked::OffsetOfRank(size_t rank) const {
  size_t off = 0;
  for (; rank > 0; --rank) off = Read(off).next;
  return off;
}

}  // namespace runnel::engine
