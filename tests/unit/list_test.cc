// Unit tests of the list value type: the packed nodes and the listpack/quicklist encodings
// against a std::deque model over 100,000 random operations (with several node limits, so lists
// convert both ways and split nodes), cursors in both directions, and the serialized form
// (round trips of both encodings and damaged input).
#include "engine/list.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/config.h"

using namespace runnel::engine;

namespace {

using Model = std::deque<std::string>;

// Sets list-max-listpack-size for one test and puts the default back.
class FillGuard {
 public:
  explicit FillGuard(int64_t fill) { runnel::GlobalConfig().list_max_listpack_size.store(fill); }
  ~FillGuard() { runnel::GlobalConfig().list_max_listpack_size.store(-2); }
};

std::vector<std::string> Contents(const List& l, bool reverse = false) {
  std::vector<std::string> out;
  ListCursor c(l, reverse ? l.size() - 1 : 0, reverse);
  std::string_view v;
  while (c.Next(&v)) out.emplace_back(v);
  return out;
}

// The structure's own rules: node counts add up, a quicklist has no empty node, a listpack is
// one node.
void CheckShape(const List& l) {
  size_t total = 0;
  for (size_t i = 0; i < l.node_count(); ++i) {
    const ListNode& n = l.node(i);
    if (l.is_quicklist()) CHECK(!n.empty());
    total += n.count();
  }
  CHECK(total == l.size());
  if (!l.is_quicklist()) CHECK(l.node_count() == 1);
  CHECK(std::string(l.EncodingName()) == (l.is_quicklist() ? "quicklist" : "listpack"));
}

void CheckSame(const List& l, const Model& m) {
  REQUIRE(l.size() == m.size());
  CHECK(Contents(l) == std::vector<std::string>(m.begin(), m.end()));
  CHECK(Contents(l, true) == std::vector<std::string>(m.rbegin(), m.rend()));
  CheckShape(l);
}

std::string RandomValue(std::mt19937_64& rng, size_t big_len) {
  int kind = static_cast<int>(rng() % 20);
  if (kind == 0) return std::string(big_len + rng() % 100, static_cast<char>('a' + rng() % 26));
  if (kind < 4) return "";
  if (kind < 12) return std::to_string(rng() % 8);  // repeats, for LREM/LINSERT/LPOS
  return std::string(1 + rng() % 40, static_cast<char>('A' + rng() % 26));
}

void ModelRemove(Model& m, const std::string& v, int64_t count) {
  size_t max = count == 0 ? SIZE_MAX : static_cast<size_t>(count < 0 ? -count : count);
  size_t removed = 0;
  if (count >= 0) {
    for (size_t i = 0; i < m.size() && removed < max;) {
      if (m[i] == v) {
        m.erase(m.begin() + static_cast<long>(i));
        ++removed;
      } else {
        ++i;
      }
    }
  } else {
    for (size_t i = m.size(); i-- > 0 && removed < max;) {
      if (m[i] == v) {
        m.erase(m.begin() + static_cast<long>(i));
        ++removed;
      }
    }
  }
}

// One random operation on both the list and the model.
void Step(List& l, Model& m, std::mt19937_64& rng, size_t big_len) {
  int op = static_cast<int>(rng() % 100);
  std::string v = RandomValue(rng, big_len);
  std::string out;
  if (op < 22) {
    l.Push(ListEnd::kHead, v);
    m.push_front(v);
  } else if (op < 44) {
    l.Push(ListEnd::kTail, v);
    m.push_back(v);
  } else if (op < 56) {
    CHECK(l.Pop(ListEnd::kHead, &out) == !m.empty());
    if (!m.empty()) {
      CHECK(out == m.front());
      m.pop_front();
    }
  } else if (op < 68) {
    CHECK(l.Pop(ListEnd::kTail, &out) == !m.empty());
    if (!m.empty()) {
      CHECK(out == m.back());
      m.pop_back();
    }
  } else if (op < 76 && !m.empty()) {
    size_t i = rng() % m.size();
    CHECK(l.At(i) == m[i]);
  } else if (op < 82 && !m.empty()) {
    size_t i = rng() % m.size();
    l.Set(i, v);
    m[i] = v;
  } else if (op < 88) {
    std::string pivot = std::to_string(rng() % 8);
    bool after = rng() % 2 == 0;
    auto it = std::find(m.begin(), m.end(), pivot);
    CHECK(l.InsertAround(pivot, v, after) == (it != m.end()));
    if (it != m.end()) m.insert(after ? it + 1 : it, v);
  } else if (op < 93) {
    std::string target = std::to_string(rng() % 8);
    int64_t count = static_cast<int64_t>(rng() % 5) - 2;
    size_t before = m.size();
    ModelRemove(m, target, count);
    CHECK(l.Remove(target, count) == before - m.size());
  } else if (op < 96 && !m.empty()) {
    size_t i = rng() % m.size();
    size_t n = rng() % (m.size() - i + 1);
    l.EraseRange(i, n);
    m.erase(m.begin() + static_cast<long>(i), m.begin() + static_cast<long>(i + n));
  } else if (!m.empty()) {
    size_t i = rng() % m.size();
    bool reverse = rng() % 2 == 0;
    ListCursor c(l, i, reverse);
    std::string_view got;
    for (size_t k = 0; k < 20 && c.Next(&got); ++k) CHECK(got == m[reverse ? i - k : i + k]);
  }
  CHECK(l.size() == m.size());
}

void RandomRun(int64_t fill, size_t big_len, int ops, uint64_t seed, size_t cap) {
  FillGuard guard(fill);
  std::mt19937_64 rng(seed);
  List l;
  Model m;
  bool saw_quick = false, saw_back = false;
  for (int i = 0; i < ops; ++i) {
    Step(l, m, rng, big_len);
    while (m.size() > cap) {  // keep lists small enough to check often
      std::string out;
      l.Pop(ListEnd::kTail, &out);
      m.pop_back();
    }
    if (l.is_quicklist()) saw_quick = true;
    if (saw_quick && !l.is_quicklist()) saw_back = true;
    if (i % 250 == 0) CheckSame(l, m);
  }
  CheckSame(l, m);
  CHECK(saw_quick);
  CHECK(saw_back);
}

}  // namespace

TEST_CASE("list: 100,000 random operations match a std::deque model, both encodings") {
  // Default limit (8 KB nodes) with occasional big elements, a small byte limit, and count
  // limits (tiny nodes: many splits and merges of positions).
  RandomRun(-2, 3000, 40000, 1, 600);
  RandomRun(-1, 900, 20000, 2, 400);
  RandomRun(4, 10, 20000, 3, 300);
  RandomRun(1, 10, 10000, 4, 200);
  RandomRun(-5, 20000, 10000, 5, 300);
  RandomRun(-1, 5000, 10000, 6, 200);  // big elements always get nodes of their own
}

TEST_CASE("list: listpack becomes quicklist past 8 KB and comes back at half") {
  List l;
  std::string v(100, 'x');
  int pushed = 0;
  while (!l.is_quicklist()) {
    l.Push(ListEnd::kTail, v);
    ++pushed;
    REQUIRE(pushed < 200);
  }
  // 102 bytes an element and 7 of overhead: the 81st element would pass 8192 bytes.
  CHECK(pushed == 81);
  CHECK(std::string(l.EncodingName()) == "quicklist");
  CHECK(l.node_count() == 2);
  std::string out;
  l.Pop(ListEnd::kTail, &out);  // one node of 80 elements: still over half the limit
  CHECK(l.node_count() == 1);
  CHECK(l.is_quicklist());
  while (l.size() > 41) l.Pop(ListEnd::kTail, &out);
  CHECK(l.is_quicklist());
  l.Pop(ListEnd::kTail, &out);  // 40 x 102 + 7 <= 4096
  CHECK(!l.is_quicklist());
  CHECK(std::string(l.EncodingName()) == "listpack");
  CHECK(l.size() == 40);
}

TEST_CASE("list: a single element over the limit makes a quicklist") {
  List l;
  l.Push(ListEnd::kTail, std::string(9000, 'b'));
  CHECK(l.is_quicklist());
  std::string out;
  CHECK(l.Pop(ListEnd::kTail, &out));
  CHECK(out.size() == 9000);
  CHECK(l.empty());
  CHECK(!l.is_quicklist());
}

TEST_CASE("list: count limits split nodes on insert in the middle") {
  FillGuard guard(3);
  List l;
  for (int i = 0; i < 9; ++i) l.Push(ListEnd::kTail, std::to_string(i));
  CHECK(l.node_count() == 3);
  CHECK(l.InsertAround("4", "x", false));
  CHECK(Contents(l) == std::vector<std::string>{"0", "1", "2", "3", "x", "4", "5", "6", "7", "8"});
  for (size_t i = 0; i < l.node_count(); ++i) CHECK(l.node(i).count() <= 3);
  CheckShape(l);
}

TEST_CASE("list: LSET with a big value converts, and the positions still hold") {
  List l;
  for (int i = 0; i < 5; ++i) l.Push(ListEnd::kTail, std::to_string(i));
  l.Set(2, std::string(10000, 'z'));
  CHECK(l.is_quicklist());
  CHECK(l.At(2).size() == 10000);
  CHECK(l.At(1) == "1");
  CHECK(l.At(3) == "3");
  l.Set(2, "two");
  CHECK(l.node_count() == 3);  // [0 1] [two] [3 4]: nodes are not merged, as in Redis
  CHECK(Contents(l) == std::vector<std::string>{"0", "1", "two", "3", "4"});
}

TEST_CASE("list: serialize round-trips both encodings and Clone copies") {
  for (int n : {0, 3, 5000}) {
    List l;
    for (int i = 0; i < n; ++i) l.Push(ListEnd::kTail, "element-" + std::to_string(i));
    std::string bytes;
    l.Serialize(&bytes);
    auto back = List::Deserialize(bytes);
    REQUIRE(back != nullptr);
    CHECK(back->is_quicklist() == l.is_quicklist());
    CHECK(back->node_count() == l.node_count());
    CHECK(Contents(*back) == Contents(l));
    std::unique_ptr<List> copy(static_cast<List*>(l.Clone()));
    CHECK(Contents(*copy) == Contents(l));
    CHECK(std::string(copy->EncodingName()) == l.EncodingName());
    if (n > 0) {
      std::string out;
      copy->Pop(ListEnd::kHead, &out);
      CHECK(copy->size() + 1 == l.size());  // a deep copy
    }
    CHECK(l.MemoryUsage() + 16 >= bytes.size());
  }
}

TEST_CASE("list: damaged serialized forms are rejected") {
  List l;
  for (int i = 0; i < 2000; ++i) l.Push(ListEnd::kTail, std::to_string(i * 7919));
  REQUIRE(l.is_quicklist());
  std::string good;
  l.Serialize(&good);
  for (size_t cut = 0; cut < good.size(); cut += 1 + cut / 64)
    CHECK(List::Deserialize(good.substr(0, cut)) == nullptr);
  CHECK(List::Deserialize(good + "x") == nullptr);
  std::string bad = good;
  bad[0] = 'M';
  CHECK(List::Deserialize(bad) == nullptr);
  bad = good;
  bad[1] = 9;  // version
  CHECK(List::Deserialize(bad) == nullptr);
  bad = good;
  bad[2] = 2;  // encoding
  CHECK(List::Deserialize(bad) == nullptr);
  bad = good;
  bad[2] = 0;  // a listpack of several nodes
  CHECK(List::Deserialize(bad) == nullptr);
  // A node whose backlen lies, and one whose count lies.
  List small;
  small.Push(ListEnd::kTail, "abc");
  small.Push(ListEnd::kTail, "de");
  std::string s;
  small.Serialize(&s);
  // 'L' 1 0 nnodes=1 count=2 nbytes=9 | 03 a b c 04 | 02 d e 03
  REQUIRE(s.size() == 6 + 9);
  std::string lie = s;
  lie[6 + 4] = 5;
  CHECK(List::Deserialize(lie) == nullptr);
  lie = s;
  lie[4] = 3;
  CHECK(List::Deserialize(lie) == nullptr);
  lie = s;
  lie[4] = 1;
  CHECK(List::Deserialize(lie) == nullptr);
  CHECK(List::Deserialize(s) != nullptr);
  // Every single-byte change either fails or loads a well-formed list.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string d = good;
    d[rng() % d.size()] = static_cast<char>(rng());
    if (auto x = List::Deserialize(d)) CheckShape(*x);
  }
}
