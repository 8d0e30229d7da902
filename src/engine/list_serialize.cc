// A list's self-contained binary form (checkpoints, DUMP), its loader, and deep copies (COPY).
//
// The form keeps the nodes as they are, so a loaded list has the same encoding and layout:
//
//   'L' version(1) encoding(1: 0 listpack, 1 quicklist) nnodes
//   nnodes x node:  count nbytes packed-bytes   (the node's bytes, layout in list.h)
//
// Numbers are varints. A listpack has exactly one node (maybe empty); a quicklist's nodes are
// never empty. The loader walks every entry of every node (lengths, backlens, counts) before it
// trusts the bytes.
#include <cstring>

#include "engine/list.h"
#include "persist/coding.h"

namespace runnel::engine {

namespace {

constexpr char kMagic = 'L';
constexpr uint8_t kVersion = 1;

using persist::GetVarint;
using persist::PutVarint;

void PutNode(std::string* out, const ListNode& n) {
  PutVarint(out, n.count());
  PutVarint(out, n.bytes());
  out->append(n.packed());
}

}  // namespace

void List::Serialize(std::string* out) const {
  out->push_back(kMagic);
  out->push_back(static_cast<char>(kVersion));
  out->push_back(quick_ ? 1 : 0);
  PutVarint(out, node_count());
  for (size_t i = 0; i < node_count(); ++i) PutNode(out, node(i));
}

// Builds a list from its serialized form, checking everything it reads.
class ListLoader {
 public:
  explicit ListLoader(std::string_view data) : in_(data) {}

  std::unique_ptr<List> Load() {
    if (in_.size() < 3 || in_[0] != kMagic || static_cast<uint8_t>(in_[1]) != kVersion)
      return nullptr;
    uint8_t encoding = static_cast<uint8_t>(in_[2]);
    in_.remove_prefix(3);
    uint64_t nnodes;
    if (encoding > 1 || !GetVarint(&in_, &nnodes)) return nullptr;
    if (encoding == 0 ? nnodes != 1 : (nnodes == 0 || nnodes > in_.size() / 3)) return nullptr;
    auto l = std::make_unique<List>();
    if (encoding == 1) {
      l->quick_ = true;
      l->nodes_ = std::make_unique<std::deque<ListNode>>();
    }
    for (uint64_t i = 0; i < nnodes; ++i) {
      ListNode n;
      if (!LoadNode(&n) || (encoding == 1 && n.empty())) return nullptr;
      l->size_ += n.count();
      if (encoding == 0) {
        l->lp_ = std::move(n);
      } else {
        l->nodes_->push_back(std::move(n));
      }
    }
    return in_.empty() ? std::move(l) : nullptr;
  }

 private:
  bool LoadNode(ListNode* n) {
    uint64_t count, nbytes;
    if (!GetVarint(&in_, &count) || !GetVarint(&in_, &nbytes) || nbytes > in_.size()) return false;
    if (count > nbytes / 2) return false;  // an element takes at least two bytes
    if (!n->Assign(in_.substr(0, nbytes), count)) return false;
    in_.remove_prefix(nbytes);
    return true;
  }

  std::string_view in_;
};

std::unique_ptr<List> List::Deserialize(std::string_view data) { return ListLoader(data).Load(); }

Object* List::Clone() const {
  auto l = std::make_unique<List>();
  l->size_ = size_;
  l->quick_ = quick_;
  l->lp_ = lp_.Clone();
  if (quick_) {
    l->nodes_ = std::make_unique<std::deque<ListNode>>();
    for (const ListNode& n : *nodes_) l->nodes_->push_back(n.Clone());
  }
  return l.release();
}

}  // namespace runnel::engine
