// The list value type. Knows nothing of RESP; the command layer (commands/lists*.cc) turns
// results into Redis's replies.
//
// Elements live in packed nodes. A small list is one node (OBJECT ENCODING "listpack"); once it
// outgrows list-max-listpack-size it becomes a chain of nodes ("quicklist") held in a deque, so
// pushes and pops at either end stay O(1) and an index is found by skipping whole nodes. It goes
// back to one node when it shrinks to a single node of half the limit, as Redis does.
//
// One node's bytes, entries back to back:
//
//   +-----------------+-------+---------+-----------------+-------+---------+
//   | len (LEB128)    | bytes | backlen | len (LEB128)    | bytes | backlen | ...
//   +-----------------+-------+---------+-----------------+-------+---------+
//
// backlen is the size of (len + bytes), stored so it can be read from the entry's end towards
// the front: 7 bits per byte, most significant first; every byte but the first has its high bit
// set, so a reader walking backwards knows when to stop. It lets a node be walked in either
// direction without an index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "engine/object.h"

namespace runnel::engine {

enum class ListEnd : uint8_t { kHead, kTail };

// The node limits list-max-listpack-size gives: -1..-5 cap a node's bytes at 4, 8, 16, 32 or
// 64 KB; a positive value caps its element count (and its bytes at 8 KB, Redis's safety limit).
struct ListLimits {
  size_t bytes;
  size_t count;
  static ListLimits FromFill(int64_t fill);
  static ListLimits Current();  // from the server's config
};

// One packed node. Entries are addressed by byte offset; offsets stay valid until the node
// changes.
class ListNode {
 public:
  ListNode() = default;
  ~ListNode();
  ListNode(ListNode&& o) noexcept;
  ListNode& operator=(ListNode&& o) noexcept;
  ListNode(const ListNode&) = delete;
  ListNode& operator=(const ListNode&) = delete;

  size_t count() const { return count_; }
  size_t bytes() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return count_ == 0; }
  // Bytes one element of `len` bytes takes in a node.
  static size_t EntrySize(size_t len);

  // The element at `off`; *next gets the offset after it.
  std::string_view Read(size_t off, size_t* next) const;
  // The offset of the element before the one at `off` (off > 0).
  size_t Prev(size_t off) const;
  // The offset of the element with local index `i` (i <= count(); count() gives the end).
  size_t OffsetOf(size_t i) const;
  size_t LastOffset() const { return Prev(size_); }

  void Insert(size_t off, std::string_view v);
  // Removes the `n` elements in bytes [off, end).
  void Erase(size_t off, size_t end, size_t n);
  // Moves the elements from `off` on into a new node.
  ListNode SplitAt(size_t off);
  size_t CountMatching(std::string_view v) const;
  // Removes elements equal to `v`, front to back, leaving the first `skip` of them and removing
  // at most `max`; returns how many it removed.
  size_t RemoveMatching(std::string_view v, size_t skip, size_t max);
  ListNode Clone() const;
  // Builds a node from bytes already in node form; false if they are malformed.
  bool Assign(std::string_view packed, size_t count);
  std::string_view packed() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  void Reserve(size_t more);
  void MaybeShrink();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t count_ = 0;
};

// A position in a list: a node and the byte offset of an element in it.
struct ListPos {
  size_t node = 0;
  size_t off = 0;
};

class List final : public Object {
 public:
  List() = default;
  ~List() override = default;
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  // --- Object ---
  size_t MemoryUsage() const override;
  const char* EncodingName() const override { return quick_ ? "quicklist" : "listpack"; }
  Object* Clone() const override;
  void Serialize(std::string* out) const override;
  // The inverse of Serialize; nullptr if `data` is not a well-formed list.
  static std::unique_ptr<List> Deserialize(std::string_view data);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool is_quicklist() const { return quick_; }
  size_t node_count() const { return quick_ ? nodes_->size() : 1; }
  const ListNode& node(size_t i) const { return quick_ ? (*nodes_)[i] : lp_; }

  // --- Changes; each keeps the encoding right for the current limits ---
  void Push(ListEnd end, std::string_view v);
  // Removes the element at `end` into *out (if not null); false if the list is empty.
  bool Pop(ListEnd end, std::string* out);
  // Replaces the element at `index` (< size()).
  void Set(size_t index, std::string_view v);
  // Inserts `v` before (or after) the first element equal to `pivot`; false if none is.
  bool InsertAround(std::string_view pivot, std::string_view v, bool after);
  // Removes elements equal to `v`: the first `count` from the head (count > 0), the last
  // -count from the tail (count < 0), or all (0). Returns how many.
  size_t Remove(std::string_view v, int64_t count);
  // Removes `n` elements starting at `index` (index + n <= size()).
  void EraseRange(size_t index, size_t n);

  // --- Reads ---
  // The element at `index` (< size()); the view is valid until the list changes.
  std::string_view At(size_t index) const;
  // The element at `end` of a non-empty list, as At().
  std::string_view Peek(ListEnd end) const { return At(end == ListEnd::kHead ? 0 : size_ - 1); }
  ListPos Locate(size_t index) const;

 private:
  friend class ListCursor;
  friend class ListLoader;
  ListNode& mut_node(size_t i) { return quick_ ? (*nodes_)[i] : lp_; }
  // Converts to a quicklist if adding `add_bytes` in one more element would pass the limits.
  void GrowCheck(size_t add_bytes, const ListLimits& lim);
  // Converts back to one node once the list is small enough.
  void ShrinkCheck(const ListLimits& lim);
  void InsertAt(ListPos pos, std::string_view v, const ListLimits& lim);
  void InsertNode(size_t at, ListNode n) { nodes_->insert(nodes_->begin() + at, std::move(n)); }
  void DropNodeIfEmpty(size_t i);
  size_t RemoveInNode(size_t i, std::string_view v, size_t skip, size_t max);

  ListNode lp_;                                  // the listpack, when !quick_
  std::unique_ptr<std::deque<ListNode>> nodes_;  // the quicklist's nodes, when quick_
  size_t size_ = 0;
  bool quick_ = false;
};

// Walks a list from an index towards the tail (or the head, reverse).
class ListCursor {
 public:
  ListCursor(const List& l, size_t index, bool reverse);
  // The next element; false past the end. Views are valid until the list changes.
  bool Next(std::string_view* out);
  // The position of the element Next() returned last.
  ListPos last() const { return last_; }

 private:
  const List& l_;
  bool reverse_;
  size_t left_;  // elements not yet returned
  ListPos pos_;
  ListPos last_;
};

}  // namespace runnel::engine
