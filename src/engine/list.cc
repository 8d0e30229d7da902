// Lists: the packed node (entry encoding, walking, insertion, removal), the list of nodes with
// its listpack/quicklist conversions, and the cursor. Layout in list.h; the serialized form is
// in list_serialize.cc.
#include "engine/list.h"
#include "engine/bits.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/config.h"

namespace runnel::engine {

namespace {

// Redis counts a listpack's 6-byte header and end byte against the limit; so do we.
constexpr size_t kNodeOverhead = 7;
constexpr size_t kSafetyLimit = 8192;
constexpr size_t kSizeLevels[] = {4096, 8192, 16384, 32768, 65536};

// Reads a varint from [*p, end); false if truncated or too long for a length.
bool GetVarint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 63 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

size_t BacklenLen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Most significant group first; every byte after the first has the high bit set.
uint8_t* PutBacklen(uint8_t* p, uint64_t v) {
  size_t n = BacklenLen(v);
  for (size_t i = 0; i < n; ++i) {
    uint8_t group = static_cast<uint8_t>((v >> (7 * (n - 1 - i))) & 0x7f);
    *p++ = i == 0 ? group : (group | 0x80);
  }
  return p;
}

// Reads the backlen that ends just before `end`; *n gets its byte count.
uint64_t GetBacklen(const uint8_t* end, size_t* n) {
  const uint8_t* p = end - 1;
  uint64_t v = *p & 0x7f;
  int shift = 7;
  *n = 1;
  while (*p & 0x80) {
    --p;
    v |= static_cast<uint64_t>(*p & 0x7f) << shift;
    shift += 7;
    ++*n;
  }
  return v;
}

bool Exceeds(const ListNode& n, size_t add_bytes, const ListLimits& lim) {
  return n.bytes() + kNodeOverhead + add_bytes > lim.bytes || n.count() + 1 > lim.count;
}

// A node always takes at least one element, however big.
bool Fits(const ListNode& n, size_t add_bytes, const ListLimits& lim) {
  return n.empty() || !Exceeds(n, add_bytes, lim);
}

}  // namespace

ListLimits ListLimits::FromFill(int64_t fill) {
  if (fill >= 0) return {kSafetyLimit, fill == 0 ? 1 : static_cast<size_t>(fill)};
  size_t level = fill < -5 ? 4 : static_cast<size_t>(-fill - 1);
  return {kSizeLevels[level], SIZE_MAX};
}

ListLimits ListLimits::Current() {
  return FromFill(GlobalConfig().list_max_listpack_size.load(std::memory_order_relaxed));
}

// ---------------------------------------------------------------------------------------------
// ListNode
// ---------------------------------------------------------------------------------------------

ListNode::~ListNode() { std::free(data_); }

ListNode::ListNode(ListNode&& o) noexcept
    : data_(o.data_), size_(o.size_), capacity_(o.capacity_), count_(o.count_) {
  o.data_ = nullptr;
  o.size_ = o.capacity_ = o.count_ = 0;
}

ListNode& ListNode::operator=(ListNode&& o) noexcept {
  if (this == &o) return *this;
  std::free(data_);
  data_ = o.data_;
  size_ = o.size_;
  capacity_ = o.capacity_;
  count_ = o.count_;
  o.data_ = nullptr;
  o.size_ = o.capacity_ = o.count_ = 0;
  return *this;
}

size_t ListNode::EntrySize(size_t len) {
  size_t head = VarintLen(len) + len;
  return head + BacklenLen(head);
}

std::string_view ListNode::Read(size_t off, size_t* next) const {
  const uint8_t* p = data_ + off;
  uint64_t len = 0;
  GetVarint(&p, data_ + size_, &len);  // validated when written or loaded
  std::string_view v(reinterpret_cast<const char*>(p), len);
  size_t head = static_cast<size_t>(p - (data_ + off)) + len;
  *next = off + head + BacklenLen(head);
  return v;
}

size_t ListNode::Prev(size_t off) const {
  size_t n;
  uint64_t head = GetBacklen(data_ + off, &n);
  return off - n - head;
}

size_t ListNode::OffsetOf(size_t i) const {
  size_t off = 0;
  if (i <= count_ / 2) {
    for (size_t k = 0; k < i; ++k) Read(off, &off);
    return off;
  }
  off = size_;
  for (size_t k = count_; k > i; --k) off = Prev(off);
  return off;
}

void ListNode::Reserve(size_t more) {
  if (size_ + more <= capacity_) return;
  // Doubling, but never more than 8 KB beyond the need (nodes of big elements).
  size_t need = size_ + more;
  size_t cap = std::max({need, std::min(capacity_ * 2, need + kSafetyLimit), size_t{16}});
  auto* p = static_cast<uint8_t*>(std::realloc(data_, cap));
  if (p == nullptr) throw std::bad_alloc();
  data_ = p;
  capacity_ = cap;
}

void ListNode::MaybeShrink() {
  if (capacity_ <= 64 || size_ >= capacity_ / 4) return;
  size_t cap = std::max(size_ * 2, size_t{16});
  if (auto* p = static_cast<uint8_t*>(std::realloc(data_, cap))) {
    data_ = p;
    capacity_ = cap;
  }
}

void ListNode::Insert(size_t off, std::string_view v) {
  size_t es = EntrySize(v.size());
  Reserve(es);
  std::memmove(data_ + off + es, data_ + off, size_ - off);
  uint8_t* p = PutVarint(data_ + off, v.size());
  if (!v.empty()) std::memcpy(p, v.data(), v.size());
  PutBacklen(p + v.size(), VarintLen(v.size()) + v.size());
  size_ += es;
  ++count_;
}

void ListNode::Erase(size_t off, size_t end, size_t n) {
  std::memmove(data_ + off, data_ + end, size_ - end);
  size_ -= end - off;
  count_ -= n;
  MaybeShrink();
}

ListNode ListNode::SplitAt(size_t off) {
  size_t index = 0;
  for (size_t p = 0; p < off; ++index) Read(p, &p);
  ListNode right;
  right.Reserve(size_ - off);
  if (size_ > off) std::memcpy(right.data_, data_ + off, size_ - off);
  right.size_ = size_ - off;
  right.count_ = count_ - index;
  size_ = off;
  count_ = index;
  MaybeShrink();
  return right;
}

size_t ListNode::CountMatching(std::string_view v) const {
  size_t n = 0;
  for (size_t off = 0; off < size_;)
    if (Read(off, &off) == v) ++n;
  return n;
}

size_t ListNode::RemoveMatching(std::string_view v, size_t skip, size_t max) {
  size_t w = 0, removed = 0;
  for (size_t off = 0; off < size_;) {
    size_t next;
    bool match = Read(off, &next) == v;
    if (match && skip > 0) {
      --skip;
    } else if (match && removed < max) {
      ++removed;
      off = next;
      continue;
    }
    if (w != off) std::memmove(data_ + w, data_ + off, next - off);
    w += next - off;
    off = next;
  }
  size_ = w;
  count_ -= removed;
  MaybeShrink();
  return removed;
}

ListNode ListNode::Clone() const {
  ListNode n;
  n.Reserve(size_);
  if (size_ > 0) std::memcpy(n.data_, data_, size_);
  n.size_ = size_;
  n.count_ = count_;
  return n;
}

bool ListNode::Assign(std::string_view packed, size_t count) {
  const auto* begin = reinterpret_cast<const uint8_t*>(packed.data());
  const uint8_t* end = begin + packed.size();
  const uint8_t* p = begin;
  for (size_t k = 0; k < count; ++k) {
    const uint8_t* start = p;
    uint64_t len;
    if (!GetVarint(&p, end, &len) || len > static_cast<uint64_t>(end - p)) return false;
    p += len;
    uint64_t head = static_cast<uint64_t>(p - start);
    uint8_t expect[10];
    size_t bl = static_cast<size_t>(PutBacklen(expect, head) - expect);
    if (bl > static_cast<size_t>(end - p) || std::memcmp(p, expect, bl) != 0) return false;
    p += bl;
  }
  if (p != end) return false;
  Reserve(packed.size());
  if (!packed.empty()) std::memcpy(data_, packed.data(), packed.size());
  size_ = packed.size();
  count_ = count;
  return true;
}

// ---------------------------------------------------------------------------------------------
// List: encodings
// ---------------------------------------------------------------------------------------------

void List::GrowCheck(size_t add_bytes, const ListLimits& lim) {
  if (quick_ || !Exceeds(lp_, add_bytes, lim)) return;
  nodes_ = std::make_unique<std::deque<ListNode>>();
  nodes_->push_back(std::move(lp_));
  quick_ = true;
}

// As in Redis: a quicklist of one node goes back to a listpack at half the limit (in bytes, or
// in elements when the limit is a count), so a list on the edge does not flip back and forth.
void List::ShrinkCheck(const ListLimits& lim) {
  if (!quick_ || nodes_->size() > 1) return;
  if (!nodes_->empty()) {
    const ListNode& n = nodes_->front();
    bool by_count = lim.count != SIZE_MAX;
    if (by_count ? n.count() > lim.count / 2 : n.bytes() + kNodeOverhead > lim.bytes / 2) return;
    lp_ = std::move(nodes_->front());
  }
  nodes_.reset();
  quick_ = false;
}

// Puts `v` at `pos` of a quicklist: into that node if it has room, else into the neighbour it
// borders, else into a node of its own, splitting the node when `pos` is inside it.
void List::InsertAt(ListPos pos, std::string_view v, const ListLimits& lim) {
  std::deque<ListNode>& nodes = *nodes_;
  ListNode& n = nodes[pos.node];
  size_t es = ListNode::EntrySize(v.size());
  if (Fits(n, es, lim)) return n.Insert(pos.off, v);
  bool at_front = pos.off == 0, at_back = pos.off == n.bytes();
  if (at_front && pos.node > 0 && Fits(nodes[pos.node - 1], es, lim))
    return nodes[pos.node - 1].Insert(nodes[pos.node - 1].bytes(), v);
  if (at_back && pos.node + 1 < nodes.size() && Fits(nodes[pos.node + 1], es, lim))
    return nodes[pos.node + 1].Insert(0, v);
  ListNode fresh;
  fresh.Insert(0, v);
  if (at_front || at_back) return InsertNode(pos.node + (at_back ? 1 : 0), std::move(fresh));
  ListNode right = n.SplitAt(pos.off);
  bool alone = false;
  if (Fits(n, es, lim)) {
    n.Insert(n.bytes(), v);
  } else if (Fits(right, es, lim)) {
    right.Insert(0, v);
  } else {
    alone = true;
  }
  InsertNode(pos.node + 1, std::move(right));
  if (alone) InsertNode(pos.node + 1, std::move(fresh));  // between the halves
}

void List::DropNodeIfEmpty(size_t i) {
  if (quick_ && (*nodes_)[i].empty()) nodes_->erase(nodes_->begin() + static_cast<ptrdiff_t>(i));
}

// ---------------------------------------------------------------------------------------------
// List: changes
// ---------------------------------------------------------------------------------------------

void List::Push(ListEnd end, std::string_view v) {
  ListLimits lim = ListLimits::Current();
  GrowCheck(ListNode::EntrySize(v.size()), lim);
  ++size_;
  if (!quick_) return lp_.Insert(end == ListEnd::kHead ? 0 : lp_.bytes(), v);
  if (end == ListEnd::kHead) return InsertAt({0, 0}, v, lim);
  size_t last = nodes_->size() - 1;
  InsertAt({last, (*nodes_)[last].bytes()}, v, lim);
}

bool List::Pop(ListEnd end, std::string* out) {
  if (size_ == 0) return false;
  size_t ni = end == ListEnd::kHead ? 0 : node_count() - 1;
  ListNode& n = mut_node(ni);
  size_t off = end == ListEnd::kHead ? 0 : n.LastOffset();
  size_t next;
  std::string_view v = n.Read(off, &next);
  if (out != nullptr) out->assign(v);
  n.Erase(off, next, 1);
  --size_;
  DropNodeIfEmpty(ni);
  ShrinkCheck(ListLimits::Current());
  return true;
}

void List::Set(size_t index, std::string_view v) {
  ListLimits lim = ListLimits::Current();
  ListPos pos = Locate(index);
  GrowCheck(ListNode::EntrySize(v.size()), lim);  // a listpack becomes node 0: pos holds
  ListNode& n = mut_node(pos.node);
  size_t next;
  n.Read(pos.off, &next);
  n.Erase(pos.off, next, 1);
  if (quick_) {
    InsertAt(pos, v, lim);
  } else {
    lp_.Insert(pos.off, v);
  }
  ShrinkCheck(lim);
}

bool List::InsertAround(std::string_view pivot, std::string_view v, bool after) {
  ListCursor c(*this, 0, false);
  std::string_view e;
  while (c.Next(&e)) {
    if (e != pivot) continue;
    ListPos pos = c.last();
    if (after) node(pos.node).Read(pos.off, &pos.off);
    ListLimits lim = ListLimits::Current();
    GrowCheck(ListNode::EntrySize(v.size()), lim);
    ++size_;
    if (quick_) {
      InsertAt(pos, v, lim);
    } else {
      lp_.Insert(pos.off, v);
    }
    return true;
  }
  return false;
}

size_t List::Remove(std::string_view v, int64_t count) {
  size_t max = count == 0  ? SIZE_MAX
               : count > 0 ? static_cast<size_t>(count)
                           : static_cast<size_t>(-(count + 1)) + 1;
  size_t removed = 0;
  if (count >= 0) {
    for (size_t i = 0; i < node_count() && removed < max;) {
      removed += mut_node(i).RemoveMatching(v, 0, max - removed);
      if (quick_ && node(i).empty()) {
        DropNodeIfEmpty(i);
      } else {
        ++i;
      }
    }
  } else {
    for (size_t i = node_count(); i-- > 0 && removed < max;) {
      size_t m = node(i).CountMatching(v);
      size_t k = std::min(m, max - removed);
      removed += mut_node(i).RemoveMatching(v, m - k, k);
      DropNodeIfEmpty(i);
    }
  }
  size_ -= removed;
  ShrinkCheck(ListLimits::Current());
  return removed;
}

void List::EraseRange(size_t index, size_t n) {
  if (n == 0) return;
  ListPos p = Locate(index);
  size_t i = p.node, off = p.off;
  while (n > 0) {
    ListNode& nd = mut_node(i);
    if (quick_ && off == 0 && n >= nd.count()) {  // the whole node
      n -= nd.count();
      size_ -= nd.count();
      nodes_->erase(nodes_->begin() + static_cast<ptrdiff_t>(i));
      continue;
    }
    size_t end = off, k = 0;
    for (; k < n && end < nd.bytes(); ++k) nd.Read(end, &end);
    nd.Erase(off, end, k);
    n -= k;
    size_ -= k;
    ++i;
    off = 0;
  }
  ShrinkCheck(ListLimits::Current());
}

// ---------------------------------------------------------------------------------------------
// List: reads
// ---------------------------------------------------------------------------------------------

ListPos List::Locate(size_t index) const {
  if (!quick_) return {0, lp_.OffsetOf(index)};
  const std::deque<ListNode>& nodes = *nodes_;
  if (index < size_ / 2) {
    size_t i = 0;
    while (index >= nodes[i].count()) index -= nodes[i++].count();
    return {i, nodes[i].OffsetOf(index)};
  }
  size_t from_back = size_ - 1 - index;
  size_t i = nodes.size() - 1;
  while (from_back >= nodes[i].count()) from_back -= nodes[i--].count();
  return {i, nodes[i].OffsetOf(nodes[i].count() - 1 - from_back)};
}

std::string_view List::At(size_t index) const {
  ListPos p = Locate(index);
  size_t next;
  return node(p.node).Read(p.off, &next);
}

size_t List::MemoryUsage() const {
  size_t bytes = sizeof(*this) + lp_.capacity();
  if (!quick_) return bytes;
  bytes += sizeof(std::deque<ListNode>) + nodes_->size() * sizeof(ListNode);
  for (const ListNode& n : *nodes_) bytes += n.capacity();
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// ListCursor
// ---------------------------------------------------------------------------------------------

ListCursor::ListCursor(const List& l, size_t index, bool reverse)
    : l_(l), reverse_(reverse), left_(0) {
  if (index >= l.size()) return;
  left_ = reverse ? index + 1 : l.size() - index;
  pos_ = l.Locate(index);
}

bool ListCursor::Next(std::string_view* out) {
  if (left_ == 0) return false;
  const ListNode& n = l_.node(pos_.node);
  size_t next;
  *out = n.Read(pos_.off, &next);
  last_ = pos_;
  if (--left_ == 0) return true;
  if (!reverse_) {
    pos_ = next < n.bytes() ? ListPos{pos_.node, next} : ListPos{pos_.node + 1, 0};
  } else if (pos_.off > 0) {
    pos_.off = n.Prev(pos_.off);
  } else {
    --pos_.node;
    pos_.off = l_.node(pos_.node).LastOffset();
  }
  return true;
}

}  // namespace runnel::engine
