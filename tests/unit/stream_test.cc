// Unit tests of the stream value type: IDs, the packed chunks (against a std::map model over
// 100,000 random operations), consumer-group PELs, lag counters, and the serialized form
// (round trips and damaged input).
#include "engine/stream.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace runnel::engine;

namespace {

using Fields = std::vector<std::string>;  // field, value, field, value...
using Model = std::map<StreamId, Fields>;

void Add(Stream& s, StreamId id, const Fields& fv) {
  std::vector<std::string_view> views(fv.begin(), fv.end());
  s.Append(id, views);
}

Fields FieldsOf(const EntryView& e) {
  Fields out;
  e.ForEachField([&](std::string_view f, std::string_view v) {
    out.emplace_back(f);
    out.emplace_back(v);
  });
  return out;
}

std::vector<std::pair<StreamId, Fields>> Range(const Stream& s, StreamId a, StreamId b,
                                               bool reverse, size_t count = SIZE_MAX) {
  std::vector<std::pair<StreamId, Fields>> out;
  StreamIterator it(s, a, b, reverse);
  EntryView e;
  while (out.size() < count && it.Next(&e)) out.emplace_back(e.id, FieldsOf(e));
  return out;
}

std::vector<std::pair<StreamId, Fields>> ModelRange(const Model& m, StreamId a, StreamId b,
                                                    bool reverse, size_t count = SIZE_MAX) {
  std::vector<std::pair<StreamId, Fields>> out;
  if (a > b) return out;
  if (!reverse) {
    for (auto it = m.lower_bound(a); it != m.end() && it->first <= b && out.size() < count; ++it)
      out.emplace_back(*it);
  } else {
    auto it = m.upper_bound(b);
    while (it != m.begin() && out.size() < count) {
      --it;
      if (it->first < a) break;
      out.emplace_back(*it);
    }
  }
  return out;
}

// Everything observable about two streams, compared field by field.
void CheckSame(const Stream& a, const Stream& b) {
  CHECK(a.length() == b.length());
  CHECK(a.last_id() == b.last_id());
  CHECK(a.entries_added() == b.entries_added());
  CHECK(a.max_deleted_id() == b.max_deleted_id());
  CHECK(Range(a, StreamId::Min(), StreamId::Max(), false) ==
        Range(b, StreamId::Min(), StreamId::Max(), false));
  REQUIRE(a.groups().size() == b.groups().size());
  for (const auto& [name, g] : a.groups()) {
    auto it = b.groups().find(name);
    REQUIRE(it != b.groups().end());
    const ConsumerGroup& h = *it->second;
    CHECK(g->last_id == h.last_id);
    CHECK(g->entries_read == h.entries_read);
    REQUIRE(g->pel().size() == h.pel().size());
    auto x = g->pel().begin();
    auto y = h.pel().begin();
    for (; x.Valid(); x.Next(), y.Next()) {
      CHECK(x->id == y->id);
      CHECK(x->delivery_time == y->delivery_time);
      CHECK(x->delivery_count == y->delivery_count);
      CHECK(g->ConsumerAt(x->consumer)->name == h.ConsumerAt(y->consumer)->name);
    }
    REQUIRE(g->consumers().size() == h.consumers().size());
    for (const auto& [cname, c] : g->consumers()) {
      auto d = h.consumers().find(cname);
      REQUIRE(d != h.consumers().end());
      CHECK(c->seen_time == d->second->seen_time);
      CHECK(c->active_time == d->second->active_time);
      CHECK(c->pending.size() == d->second->pending.size());
    }
  }
}

}  // namespace

TEST_CASE("stream: IDs parse and print as Redis reads them") {
  StreamId id;
  bool given = true, autoseq = false;
  CHECK(ParseStreamId("5-3", 0, &id));
  CHECK(id == StreamId{5, 3});
  CHECK(ParseStreamId("7", 9, &id, &given));
  CHECK(id == StreamId{7, 9});
  CHECK_FALSE(given);
  CHECK(ParseStreamId("8-*", 0, &id, &given, &autoseq));
  CHECK(autoseq);
  CHECK_FALSE(ParseStreamId("8-*", 0, &id));  // only where XADD allows it
  CHECK(ParseStreamId("18446744073709551615-18446744073709551615", 0, &id));
  CHECK(id == StreamId::Max());
  CHECK(ParseStreamId(" 5-1", 0, &id));  // strtoull's leniency, as in Redis
  CHECK(ParseStreamId("00011-0", 0, &id));
  CHECK(id.ms == 11);
  for (const char* bad : {"", "-", "-9", "9-", "10-1-1", "18446744073709551616-0", "a-1", "1-b"})
    CHECK_FALSE(ParseStreamId(bad, 0, &id));
  CHECK(StreamId{12, 34}.ToString() == "12-34");
  StreamId max = StreamId::Max();
  CHECK_FALSE(max.Increment());
  StreamId z;
  CHECK_FALSE(z.Decrement());
  StreamId w{3, UINT64_MAX};
  CHECK(w.Increment());
  CHECK(w == StreamId{4, 0});
  CHECK(w.Decrement());
  CHECK(w == StreamId{3, UINT64_MAX});
}

TEST_CASE("stream: XADD IDs are monotonic even when the clock goes back") {
  Stream s;
  StreamId id;
  REQUIRE(s.NextId(false, false, {}, 1000, &id) == AddError::kOk);
  CHECK(id == StreamId{1000, 0});
  Add(s, id, {"f", "v"});
  REQUIRE(s.NextId(false, false, {}, 900, &id) == AddError::kOk);  // clock went back
  CHECK(id == StreamId{1000, 1});
  Add(s, id, {"f", "v"});
  CHECK(s.NextId(true, true, {1000, 0}, 0, &id) == AddError::kOk);
  CHECK(id == StreamId{1000, 2});
  CHECK(s.NextId(true, true, {1200, 0}, 0, &id) == AddError::kOk);
  CHECK(id == StreamId{1200, 0});
  CHECK(s.NextId(true, true, {999, 0}, 0, &id) == AddError::kTooSmall);
  CHECK(s.NextId(true, false, {1000, 1}, 0, &id) == AddError::kTooSmall);
  CHECK(s.NextId(true, false, {0, 0}, 0, &id) == AddError::kZeroId);
  Stream fresh;
  CHECK(fresh.NextId(true, true, {0, 0}, 0, &id) == AddError::kOk);
  CHECK(id == StreamId{0, 1});
  Add(s, StreamId::Max(), {"f", "v"});
  CHECK(s.NextId(false, false, {}, 5000, &id) == AddError::kExhausted);
  CHECK(s.NextId(true, true, {UINT64_MAX, 0}, 0, &id) == AddError::kExhausted);
}

TEST_CASE("stream: entries keep their fields, shared or not, across chunks") {
  Stream s;
  Model m;
  for (uint64_t i = 1; i <= 1000; ++i) {
    Fields fv = (i % 7 == 0) ? Fields{"other", std::to_string(i)}
                             : Fields{"a", std::to_string(i), "b", std::string(i % 50, 'x')};
    Add(s, {i * 3, i % 5}, fv);
    m[{i * 3, i % 5}] = fv;
  }
  // A huge entry gets a chunk of its own, and appends continue after it.
  Fields big{"big", std::string(20000, 'z')};
  Add(s, {5000, 0}, big);
  m[{5000, 0}] = big;
  Add(s, {5001, 0}, {"a", "1", "b", "2"});
  m[{5001, 0}] = {"a", "1", "b", "2"};
  CHECK(s.length() == m.size());
  CHECK(s.chunk_count() >= m.size() / kChunkMaxEntries);
  CHECK(Range(s, StreamId::Min(), StreamId::Max(), false) ==
        ModelRange(m, StreamId::Min(), StreamId::Max(), false));
  CHECK(Range(s, {300, 0}, {900, 3}, true, 17) == ModelRange(m, {300, 0}, {900, 3}, true, 17));
  EntryView e;
  CHECK(s.Get({21, 2}, &e));
  CHECK(FieldsOf(e) == Fields{"other", "7"});
  CHECK_FALSE(s.Get({21, 0}, &e));
  CHECK(s.FirstId() == StreamId{3, 1});
}

TEST_CASE("stream: IDs far apart in one chunk and the ID space's ends") {
  Stream s;
  Add(s, {0, 1}, {"f", "1"});
  Add(s, {1, UINT64_MAX}, {"f", "2"});
  Add(s, {UINT64_MAX - 1, 5}, {"f", "3"});
  Add(s, {UINT64_MAX, UINT64_MAX}, {"f", "4"});
  auto all = Range(s, StreamId::Min(), StreamId::Max(), false);
  REQUIRE(all.size() == 4);
  CHECK(all[1].first == StreamId{1, UINT64_MAX});
  CHECK(all[3].first == StreamId::Max());
  CHECK(Range(s, StreamId::Min(), StreamId::Max(), true).front().first == StreamId::Max());
  CHECK(s.Delete(StreamId::Max()));
  CHECK(s.length() == 3);
  CHECK(s.max_deleted_id() == StreamId::Max());
}

TEST_CASE("stream: trimming, exact and approximate, as Redis trims") {
  Stream s;
  for (uint64_t i = 1; i <= 1000; ++i) Add(s, {i, 0}, {"f", "v"});
  TrimSpec approx{TrimSpec::Kind::kMaxLen, 850, {}, true, 0};
  CHECK(s.Trim(approx) == 100);  // one whole chunk; another would leave fewer than 850
  CHECK(s.length() == 900);
  CHECK(s.FirstId() == StreamId{101, 0});
  TrimSpec exact{TrimSpec::Kind::kMaxLen, 850, {}, false, 0};
  CHECK(s.Trim(exact) == 50);
  CHECK(s.FirstId() == StreamId{151, 0});
  TrimSpec limited{TrimSpec::Kind::kMaxLen, 0, {}, true, 120};
  CHECK(s.Trim(limited) == 50);  // the half chunk fits under the limit, the next does not
  TrimSpec minid{TrimSpec::Kind::kMinId, 0, {555, 0}, false, 0};
  CHECK(s.Trim(minid) == 354);  // three whole chunks, then 501..554 one by one
  CHECK(s.FirstId() == StreamId{555, 0});
  TrimSpec minid_approx{TrimSpec::Kind::kMinId, 0, {750, 0}, true, 0};
  CHECK(s.Trim(minid_approx) == 146);  // 555..600 (compacted) and 601..700, not 701..800
  CHECK(s.FirstId() == StreamId{701, 0});
  CHECK(s.max_deleted_id() == StreamId{});  // trimming is not deletion
  CHECK(s.entries_added() == 1000);
  TrimSpec all{TrimSpec::Kind::kMaxLen, 0, {}, false, 0};
  CHECK(s.Trim(all) == 300);
  CHECK(s.length() == 0);
  CHECK(s.chunk_count() == 0);
  CHECK(s.FirstId() == StreamId{});
}

TEST_CASE("stream: deleted entries are skipped and mostly deleted chunks compacted") {
  Stream s;
  for (uint64_t i = 1; i <= 200; ++i) Add(s, {i, 0}, {"f", std::string(30, 'v')});
  REQUIRE(s.chunk_count() == 2);
  size_t before = s.MemoryUsage();
  for (uint64_t i = 1; i <= 80; ++i) CHECK(s.Delete({i, 0}));
  CHECK_FALSE(s.Delete({5, 0}));
  CHECK_FALSE(s.Contains({5, 0}));
  CHECK(s.Contains({81, 0}));
  CHECK(s.MemoryUsage() < before * 3 / 4);  // the first chunk was rewritten at about 20%
  CHECK(Range(s, StreamId::Min(), StreamId::Max(), true).size() == 120);
  CHECK(s.max_deleted_id() == StreamId{80, 0});
  // The last chunk is not compacted: it keeps filling as Redis's last node does.
  for (uint64_t i = 101; i <= 190; ++i) CHECK(s.Delete({i, 0}));
  CHECK(s.chunk_count() == 2);
  CHECK(s.Contains({195, 0}));
  for (uint64_t i = 81; i <= 100; ++i) CHECK(s.Delete({i, 0}));
  for (uint64_t i = 191; i <= 200; ++i) CHECK(s.Delete({i, 0}));
  CHECK(s.chunk_count() == 0);
  Add(s, {300, 0}, {"g", "w"});
  CHECK(Range(s, StreamId::Min(), StreamId::Max(), false).size() == 1);
}

namespace {

// A consumer group as a std::map model: PEL entries by ID with their owner and counters.
struct GroupModel {
  struct Pending {
    std::string consumer;
    uint32_t count;
    int64_t time;
  };
  std::map<StreamId, Pending> pel;
  StreamId last;
};

const char* const kConsumerNames[] = {"alice", "bob", "carol"};

Consumer* GetConsumer(ConsumerGroup* g, const std::string& name) {
  Consumer* c = g->FindConsumer(name);
  return c != nullptr ? c : g->CreateConsumer(name, 0);
}

// One random consumer-group operation, applied to the group and to the model.
void RandomGroupOp(std::mt19937_64& rng, Stream& s, const Model& m, ConsumerGroup* g,
                   GroupModel& gm, int op) {
  auto rnd = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  std::string name = kConsumerNames[rnd(3)];
  uint64_t kind = rnd(10);
  if (kind < 4) {  // XREADGROUP >: deliver what follows the group's last ID
    size_t n = 1 + rnd(20);
    for (auto it = m.upper_bound(gm.last); it != m.end() && n-- > 0; ++it) {
      g->Deliver(it->first, GetConsumer(g, name), op);
      s.AdvanceGroup(g, it->first);
      gm.pel[it->first] = {name, 1, op};
      gm.last = it->first;
    }
  } else if (kind < 7) {  // XACK
    StreamId id = !gm.pel.empty() && rnd(4) ? std::next(gm.pel.begin(), rnd(gm.pel.size()))->first
                                            : StreamId{rnd(1000), 0};
    CHECK(g->Ack(id) == (gm.pel.erase(id) == 1));
  } else if (kind < 9 && !gm.pel.empty()) {  // XCLAIM
    auto it = std::next(gm.pel.begin(), rnd(gm.pel.size()));
    uint32_t count = it->second.count + 1;
    g->Assign(it->first, GetConsumer(g, name), op, count);
    it->second = {name, count, op};
  } else if (rnd(5) == 0) {  // XGROUP DELCONSUMER
    int64_t owned = 0;
    for (auto it = gm.pel.begin(); it != gm.pel.end();) {
      bool mine = it->second.consumer == name;
      owned += mine ? 1 : 0;
      it = mine ? gm.pel.erase(it) : std::next(it);
    }
    bool existed = g->FindConsumer(name) != nullptr;
    CHECK(g->DeleteConsumer(name) == (existed ? owned : -1));
    CHECK(g->FindConsumer(name) == nullptr);
  }
}

void CheckGroup(ConsumerGroup* g, const GroupModel& gm) {
  REQUIRE(g->pel().size() == gm.pel.size());
  CHECK(g->last_id == gm.last);
  auto cur = g->pel().begin();
  std::map<std::string, size_t> owned;
  for (const auto& [id, p] : gm.pel) {
    REQUIRE(cur.Valid());
    CHECK(cur->id == id);
    CHECK(g->ConsumerAt(cur->consumer)->name == p.consumer);
    CHECK(cur->delivery_count == p.count);
    CHECK(cur->delivery_time == p.time);
    ++owned[p.consumer];
    cur.Next();
  }
  for (const auto& [name, c] : g->consumers()) CHECK(c->pending.size() == owned[name]);
}

}  // namespace

TEST_CASE("stream: 100,000 random operations agree with a std::map model") {
  std::mt19937_64 rng(20240611);
  auto rnd = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  Stream s;
  Model m;
  // Clones (a checkpoint's copies) share chunk bytes with the stream: each must keep the entries
  // it was made with while the stream goes on changing (appends, deletions, compaction, trims).
  std::vector<std::pair<std::unique_ptr<Stream>, Model>> clones;
  auto check_clone = [](const std::pair<std::unique_ptr<Stream>, Model>& c) {
    REQUIRE(Range(*c.first, StreamId::Min(), StreamId::Max(), false) ==
            ModelRange(c.second, StreamId::Min(), StreamId::Max(), false));
  };
  ConsumerGroup* g = s.CreateGroup("g", {}, 0);
  GroupModel gm;
  uint64_t next_ms = 1;
  auto random_id = [&] { return StreamId{rnd(next_ms + 3), rnd(4)}; };
  for (int op = 0; op < 100000; ++op) {
    CAPTURE(op);
    uint64_t kind = rnd(100);
    if (kind < 45) {
      next_ms += rnd(3);
      StreamId id{next_ms, m.empty() || std::prev(m.end())->first.ms != next_ms
                               ? 0
                               : std::prev(m.end())->first.seq + 1};
      if (!m.empty() && id <= s.last_id()) id = {s.last_id().ms, s.last_id().seq + 1};
      Fields fv = rnd(4) == 0 ? Fields{"x" + std::to_string(rnd(3)), std::string(rnd(300), 'p')}
                              : Fields{"a", std::to_string(op), "b", std::string(rnd(20), 'q')};
      Add(s, id, fv);
      m[id] = fv;
    } else if (kind < 60) {
      StreamId id = !m.empty() && rnd(2) ? std::next(m.begin(), rnd(m.size()))->first : random_id();
      CHECK(s.Delete(id) == (m.erase(id) == 1));
    } else if (kind < 75) {
      StreamId a = random_id(), b = random_id();
      if (rnd(4) == 0) std::swap(a, b);
      bool rev = rnd(2);
      size_t count = rnd(3) == 0 ? SIZE_MAX : rnd(40);
      REQUIRE(Range(s, a, b, rev, count) == ModelRange(m, a, b, rev, count));
    } else if (kind < 85) {
      RandomGroupOp(rng, s, m, g, gm, op);
    } else if (kind < 97) {
      TrimSpec t;
      bool by_len = rnd(2);
      t.kind = by_len ? TrimSpec::Kind::kMaxLen : TrimSpec::Kind::kMinId;
      t.max_len = rnd(m.size() + 10);
      t.min_id = random_id();
      t.approx = rnd(2);
      t.limit = t.approx && rnd(2) ? rnd(300) : 0;
      size_t exact_removed = by_len ? (m.size() > t.max_len ? m.size() - t.max_len : 0)
                                    : std::distance(m.begin(), m.lower_bound(t.min_id));
      uint64_t removed = s.Trim(t);
      if (!t.approx) CHECK(removed == exact_removed);
      CHECK(removed <= exact_removed);
      if (t.limit != 0) CHECK(removed <= t.limit);
      for (uint64_t i = 0; i < removed; ++i) m.erase(m.begin());
    } else {
      REQUIRE(Range(s, StreamId::Min(), StreamId::Max(), false) ==
              ModelRange(m, StreamId::Min(), StreamId::Max(), false));
      CheckGroup(g, gm);
    }
    REQUIRE(s.length() == m.size());
    CHECK(s.FirstId() == (m.empty() ? StreamId{} : m.begin()->first));
    if (op % 1000 == 0) {
      clones.emplace_back(static_cast<Stream*>(s.Clone()), m);
      if (clones.size() > 3) {
        check_clone(clones.front());
        clones.erase(clones.begin());
      }
    }
  }
  for (const auto& c : clones) check_clone(c);
}

TEST_CASE("stream: a clone changed keeps the stream it came from as it was") {
  Stream s;
  Model m;
  for (uint64_t i = 1; i <= 1000; ++i) {
    Fields fv{"a", std::to_string(i), "b", std::string(i % 7, 'x')};
    Add(s, {i, 0}, fv);
    m[{i, 0}] = fv;
  }
  REQUIRE(s.chunk_count() > 5);
  std::unique_ptr<Stream> c(static_cast<Stream*>(s.Clone()));
  Add(*c, {2000, 0}, {"a", "new"});  // the last chunk
  for (uint64_t i = 101; i <= 180; ++i) REQUIRE(c->Delete({i, 0}));  // compacts a chunk
  TrimSpec t;
  t.kind = TrimSpec::Kind::kMaxLen;
  t.max_len = 500;
  c->Trim(t);
  CHECK(c->length() == 500);
  CHECK(Range(s, StreamId::Min(), StreamId::Max(), false) ==
        ModelRange(m, StreamId::Min(), StreamId::Max(), false));
  c.reset();  // the last owner of the shared chunks frees them; the stream's stay
  CHECK(Range(s, StreamId::Min(), StreamId::Max(), false) ==
        ModelRange(m, StreamId::Min(), StreamId::Max(), false));
}

TEST_CASE("stream: the PEL index agrees with a std::map under random inserts and erases") {
  std::mt19937_64 rng(99);
  IdIndex<PendingEntry> index;
  std::map<StreamId, uint32_t> model;
  for (int op = 0; op < 100000; ++op) {
    StreamId id{rng() % 5000, rng() % 3};
    uint64_t kind = rng() % 10;
    if (kind < 5 || op < 20000) {
      bool fresh = model.emplace(id, static_cast<uint32_t>(op)).second;
      CHECK(index.Insert(PendingEntry{id, 0, static_cast<uint32_t>(op), 0}) == fresh);
    } else if (kind < 9) {
      CHECK(index.Erase(id) == (model.erase(id) == 1));
    } else {
      const PendingEntry* p = index.Find(id);
      auto it = model.find(id);
      REQUIRE((p != nullptr) == (it != model.end()));
      if (p != nullptr) CHECK(p->delivery_count == it->second);
      auto cur = index.LowerBound(id);
      auto mit = model.lower_bound(id);
      for (int k = 0; k < 5 && mit != model.end(); ++k, ++mit, cur.Next()) {
        REQUIRE(cur.Valid());
        CHECK(cur->id == mit->first);
      }
    }
    REQUIRE(index.size() == model.size());
  }
  size_t n = 0;
  auto mit = model.begin();
  for (auto cur = index.begin(); cur.Valid(); cur.Next(), ++mit, ++n) CHECK(cur->id == mit->first);
  CHECK(n == model.size());
}

TEST_CASE("stream: consumer groups deliver, acknowledge, claim and delete consumers") {
  Stream s;
  for (uint64_t i = 1; i <= 10; ++i) Add(s, {i, 0}, {"f", "v"});
  ConsumerGroup* g = s.CreateGroup("g", {}, 0);
  REQUIRE(g != nullptr);
  CHECK(s.CreateGroup("g", {}, 0) == nullptr);
  Consumer* alice = g->CreateConsumer("alice", 100);
  Consumer* bob = g->CreateConsumer("bob", 100);
  CHECK(g->CreateConsumer("bob", 100) == nullptr);
  for (uint64_t i = 1; i <= 6; ++i) {
    g->Deliver({i, 0}, i % 2 ? alice : bob, 1000 + i);
    s.AdvanceGroup(g, {i, 0});
  }
  CHECK(g->entries_read == 6);
  int64_t lag;
  CHECK(s.Lag(*g, &lag));
  CHECK(lag == 4);
  CHECK(g->pel().size() == 6);
  CHECK(alice->pending.size() == 3);
  CHECK(g->Ack({1, 0}));
  CHECK_FALSE(g->Ack({1, 0}));
  CHECK(alice->pending.size() == 2);
  g->Assign({3, 0}, bob, 5000, 7);  // claim
  CHECK(alice->pending.size() == 1);
  CHECK(bob->pending.size() == 4);
  CHECK(g->FindPending({3, 0})->delivery_count == 7);
  g->Deliver({3, 0}, alice, 6000);  // redelivered after SETID: count back to 1
  CHECK(g->FindPending({3, 0})->delivery_count == 1);
  CHECK(g->ConsumerAt(g->FindPending({3, 0})->consumer) == alice);
  CHECK(g->DeleteConsumer("bob") == 3);
  CHECK(g->DeleteConsumer("bob") == -1);
  CHECK(g->pel().size() == 2);
  Consumer* carol = g->CreateConsumer("carol", 7000);  // reuses bob's slot
  g->Assign({9, 0}, carol, 7000, 1);
  CHECK(g->ConsumerAt(g->FindPending({9, 0})->consumer)->name == "carol");
  CHECK(s.DestroyGroup("g"));
  CHECK_FALSE(s.DestroyGroup("g"));
}

TEST_CASE("stream: entries-read and lag follow deletions as Redis counts them") {
  Stream s;
  for (uint64_t i = 1; i <= 5; ++i) Add(s, {i, 0}, {"f", "v"});
  ConsumerGroup* g = s.CreateGroup("g", {}, kUnknownEntriesRead);
  int64_t lag = -1;
  CHECK(s.Lag(*g, &lag));  // 0-0 is before the first entry: estimable
  CHECK(lag == 5);
  s.AdvanceGroup(g, {1, 0});
  CHECK(g->entries_read == 1);
  s.Delete({3, 0});  // a hole ahead of the group
  CHECK(s.HasTombstonesFrom({2, 0}));
  CHECK_FALSE(s.Lag(*g, &lag));
  s.AdvanceGroup(g, {2, 0});
  CHECK(g->entries_read == kUnknownEntriesRead);
  s.AdvanceGroup(g, {5, 0});  // the last entry's counter is always known
  CHECK(g->entries_read == 5);
  CHECK(s.Lag(*g, &lag));
  CHECK(lag == 0);
  CHECK(s.EstimateEntriesRead({9, 0}) == kUnknownEntriesRead);
  Stream empty;
  ConsumerGroup* e = empty.CreateGroup("e", {}, kUnknownEntriesRead);
  CHECK(empty.Lag(*e, &lag));
  CHECK(lag == 0);
}

namespace {

// A stream with entries, deletions, trimming and two groups with pending entries.
std::unique_ptr<Stream> RichStream() {
  auto s = std::make_unique<Stream>();
  for (uint64_t i = 1; i <= 300; ++i)
    Add(*s, {1000 + i / 3, i % 3},
        i % 4 ? Fields{"a", "1", "b", std::to_string(i)} : Fields{"c", std::string(i, 'y')});
  s->Delete({1010, 1});
  s->Trim({TrimSpec::Kind::kMaxLen, 280, {}, false, 0});
  s->set_last_id({5000, 7});
  ConsumerGroup* g = s->CreateGroup("g1", {1050, 0}, 151);
  Consumer* a = g->CreateConsumer("alice", 11);
  Consumer* b = g->CreateConsumer("bob", 22);
  b->active_time = 33;
  for (uint64_t i = 1; i < 100; i += 2) g->Deliver({1000 + i / 3, i % 3}, i % 5 ? a : b, i);
  g->Assign({1020, 0}, b, -5, 5000000000ULL);  // saturates
  g->CreateConsumer("idle", 44);
  s->CreateGroup("g0", {}, kUnknownEntriesRead);
  return s;
}

}  // namespace

TEST_CASE("stream: serialization round-trips entries, groups, PELs and counters") {
  auto s = RichStream();
  std::string bytes;
  s->Serialize(&bytes);
  auto loaded = Stream::Deserialize(bytes);
  REQUIRE(loaded != nullptr);
  CheckSame(*s, *loaded);
  CHECK(loaded->FindGroup("g1")->FindPending({1020, 0})->delivery_count == UINT32_MAX);
  std::string again;
  loaded->Serialize(&again);
  CHECK(again == bytes);
  // The chunks come back as they were, so approximate trimming sees the same boundaries.
  REQUIRE(loaded->chunk_count() == s->chunk_count());
  for (auto a = s->chunks().begin(), b = loaded->chunks().begin(); a != s->chunks().end();
       ++a, ++b) {
    CHECK(a->first == b->first);
    CHECK(std::string_view(reinterpret_cast<char*>(a->second.data), a->second.size) ==
          std::string_view(reinterpret_cast<char*>(b->second.data), b->second.size));
  }
  Add(*s, {6000, 0}, {"a", "1", "b", "new"});  // appends go on after a load
  Add(*loaded, {6000, 0}, {"a", "1", "b", "new"});
  CheckSame(*s, *loaded);
  std::unique_ptr<Object> copy(s->Clone());
  CheckSame(*s, static_cast<Stream&>(*copy));
  Stream empty;
  std::string e;
  empty.Serialize(&e);
  auto e2 = Stream::Deserialize(e);
  REQUIRE(e2 != nullptr);
  CHECK(e2->length() == 0);
}

// Loads a damaged form; one that loads must be a stream every operation can use (under ASan a
// read outside a chunk fails the run). Returns whether it loaded.
bool LoadDamaged(const std::string& bad) {
  auto loaded = Stream::Deserialize(bad);
  if (loaded == nullptr) return false;
  std::string out;
  loaded->Serialize(&out);
  CHECK(Stream::Deserialize(out) != nullptr);
  size_t n = Range(*loaded, StreamId::Min(), StreamId::Max(), false).size();
  CHECK(n == loaded->length());
  CHECK(Range(*loaded, StreamId::Min(), StreamId::Max(), true).size() == n);
  if (n > 0) CHECK(loaded->Delete(loaded->FirstId()));
  StreamId next = loaded->last_id();
  if (next.Increment()) Add(*loaded, next, {"a", "1"});
  loaded->Trim({TrimSpec::Kind::kMaxLen, 10, {}, true, 0});
  loaded->Trim({TrimSpec::Kind::kMaxLen, 5, {}, false, 0});
  CHECK(Range(*loaded, StreamId::Min(), StreamId::Max(), false).size() == loaded->length());
  return true;
}

TEST_CASE("stream: damaged serialized input is rejected, never trusted") {
  auto s = RichStream();
  std::string bytes;
  s->Serialize(&bytes);
  for (size_t len = 0; len < bytes.size(); ++len)
    CHECK(Stream::Deserialize(std::string_view(bytes).substr(0, len)) == nullptr);
  CHECK(Stream::Deserialize(bytes + "x") == nullptr);
  std::mt19937_64 rng(5);
  int accepted = 0;
  for (int i = 0; i < 500; ++i) {
    std::string bad = bytes;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k)
      bad[rng() % bad.size()] = static_cast<char>(rng());
    accepted += LoadDamaged(bad);
  }
  CHECK(accepted < 500);
  // Every byte of a small stream (two chunks, a deletion, a group) changed three ways.
  Stream small;
  for (uint64_t i = 1; i <= 150; ++i)
    Add(small, {i, 0}, i % 2 ? Fields{"a", std::to_string(i)} : Fields{"a", "x", "b", "y"});
  small.Delete({7, 0});
  ConsumerGroup* g = small.CreateGroup("g", {3, 0}, 3);
  g->Deliver({2, 0}, g->CreateConsumer("c", 1), 2);
  bytes.clear();
  small.Serialize(&bytes);
  REQUIRE(small.chunk_count() == 2);
  accepted = 0;
  for (size_t pos = 0; pos < bytes.size(); ++pos)
    for (int delta : {1, 0x7f, 0x80}) {
      std::string bad = bytes;
      bad[pos] = static_cast<char>(bytes[pos] + delta);
      accepted += LoadDamaged(bad);
    }
  CHECK(accepted < static_cast<int>(bytes.size() * 3));
  // Counts larger than the input can hold are refused before anything is allocated.
  std::string huge = {'X', 1, 1, 0, 1, 0, 0, '\xff', '\xff', '\xff', '\xff', '\x0f'};
  CHECK(Stream::Deserialize(huge) == nullptr);
  huge[1] = 2;
  CHECK(Stream::Deserialize(huge) == nullptr);
  std::string many_chunks = {'X', 2, 1, 0, 1, 0, 0, 0, '\xff', '\xff', '\xff', '\xff', '\x0f'};
  CHECK(Stream::Deserialize(many_chunks) == nullptr);
}

namespace {

// One chunk of a hand-built version 2 form: master "f", entries of one value each.
struct RawChunk {
  StreamId base;
  uint32_t count, live, master_n;
  std::string bytes;  // master, then entries
  uint32_t master_len = 3;
};

// A master with the one field "f", then SAME entries `ms_delta seq` with the value "v".
std::string ChunkBytes(std::initializer_list<std::pair<uint8_t, uint8_t>> entries) {
  std::string b = {1, 1, 'f'};
  for (auto [ms_delta, seq] : entries)
    b += {static_cast<char>(ms_delta << 2 | 2), static_cast<char>(seq), 1, 'v'};
  return b;
}

// A version 2 form (small numbers only: each is one varint byte), no groups.
std::string FormV2(StreamId last, uint8_t length, const std::vector<RawChunk>& chunks) {
  std::string f = {'X', 2, static_cast<char>(last.ms), static_cast<char>(last.seq), 9, 0, 0,
                   static_cast<char>(length), static_cast<char>(chunks.size())};
  uint64_t prev_ms = 0;
  for (const RawChunk& c : chunks) {
    f += {static_cast<char>(c.base.ms - prev_ms), static_cast<char>(c.base.seq),
          static_cast<char>(c.count), static_cast<char>(c.live), static_cast<char>(c.master_n),
          static_cast<char>(c.master_len), static_cast<char>(c.bytes.size())};
    f += c.bytes;
    prev_ms = c.base.ms;
  }
  return f + '\0';
}

}  // namespace

TEST_CASE("stream: a version 2 chunk is checked entry by entry") {
  const RawChunk good{{10, 0}, 2, 2, 1, ChunkBytes({{0, 0}, {1, 0}})};  // 10-0, 11-0
  auto s = Stream::Deserialize(FormV2({11, 0}, 2, {good}));
  REQUIRE(s != nullptr);
  CHECK(Range(*s, StreamId::Min(), StreamId::Max(), false) ==
        std::vector<std::pair<StreamId, Fields>>{{{10, 0}, {"f", "v"}}, {{11, 0}, {"f", "v"}}});
  CHECK(Stream::Deserialize(FormV2({11, 0}, 1, {good})) == nullptr);  // length disagrees
  CHECK(Stream::Deserialize(FormV2({10, 5}, 2, {good})) == nullptr);  // last ID below an entry
  RawChunk c = good;
  c.bytes = ChunkBytes({{1, 0}, {0, 0}});
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);  // IDs out of order
  c = good;
  c.base = {0, 0};
  c.bytes = ChunkBytes({{0, 0}, {1, 0}});
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);  // an entry 0-0
  c = good;
  c.count = 3;
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);  // count disagrees
  c = good;
  c.live = 1;
  CHECK(Stream::Deserialize(FormV2({11, 0}, 1, {c})) == nullptr);  // live count disagrees
  c = good;
  c.master_n = 2;
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);  // master count disagrees
  c = good;
  c.bytes[0] = 2;
  c.master_n = 2;
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);  // master runs into entries
  c = good;
  c.master_len = 4;
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);  // master length disagrees
  c = good;
  c.bytes.back() = 'w';
  c.bytes[c.bytes.size() - 2] = 3;
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);  // a value past the end
  c = good;
  c.bytes[3] |= 1;  // 10-0 deleted
  CHECK(Stream::Deserialize(FormV2({11, 0}, 2, {c})) == nullptr);
  c.live = 1;
  CHECK(Stream::Deserialize(FormV2({11, 0}, 1, {c})) != nullptr);
  // A chunk's base must be above every ID of the chunk before.
  RawChunk second{{11, 0}, 1, 1, 1, ChunkBytes({{0, 1}})};  // 11-1
  CHECK(Stream::Deserialize(FormV2({11, 1}, 3, {good, second})) == nullptr);
  second.base = {11, 1};
  second.bytes = ChunkBytes({{0, 0}});
  auto two = Stream::Deserialize(FormV2({11, 1}, 3, {good, second}));
  REQUIRE(two != nullptr);
  CHECK(two->chunk_count() == 2);
  CHECK(two->length() == 3);
}

TEST_CASE("stream: the version 1 form (entries, written by earlier versions) still loads") {
  const std::string v1 = {
      'X', 1, 5, 0, 2, 0, 0, 2,                     // last 5-0, 2 added, max deleted 0-0, 2 long
      3, 0, 1, 1, 'f', 2, 'v', '1',                 // 3-0 f v1
      2, 0, 2, 1, 'a', 1, '1', 1, 'b', 1, '2',      // 5-0 a 1 b 2
      1, 1, 'g', 3, 0, 2,                           // group g at 3-0, entries-read 1
      1, 1, 'c', 20, 20,                            // consumer c, seen and active at 10
      1, 3, 0, 14, 1, 0};                           // 3-0 pending on c since 7, delivered once
  auto s = Stream::Deserialize(v1);
  REQUIRE(s != nullptr);
  CHECK(Range(*s, StreamId::Min(), StreamId::Max(), false) ==
        std::vector<std::pair<StreamId, Fields>>{{{3, 0}, {"f", "v1"}},
                                                 {{5, 0}, {"a", "1", "b", "2"}}});
  CHECK(s->last_id() == StreamId{5, 0});
  CHECK(s->entries_added() == 2);
  ConsumerGroup* g = s->FindGroup("g");
  REQUIRE(g != nullptr);
  CHECK(g->last_id == StreamId{3, 0});
  CHECK(g->entries_read == 1);
  const PendingEntry* pe = g->FindPending({3, 0});
  REQUIRE(pe != nullptr);
  CHECK(pe->delivery_time == 7);
  CHECK(g->ConsumerAt(pe->consumer)->name == "c");
  std::string v2;
  s->Serialize(&v2);  // written back in the current form
  CHECK(v2[1] == 2);
  auto again = Stream::Deserialize(v2);
  REQUIRE(again != nullptr);
  CheckSame(*s, *again);
}

TEST_CASE("stream: memory per entry and per pending entry") {
  Stream s;
  const int n = 1000000;
  for (int i = 1; i <= n; ++i)
    Add(s, {1700000000000ULL + static_cast<uint64_t>(i / 8), static_cast<uint64_t>(i % 8)},
        {"f1", "v1", "f2", "v2"});
  double per_entry = static_cast<double>(s.MemoryUsage()) / n;
  MESSAGE("stream bytes per entry (2 short fields): " << per_entry);
  CHECK(per_entry < 16);
  size_t before = s.MemoryUsage();
  ConsumerGroup* g = s.CreateGroup("g", {}, 0);
  Consumer* c = g->CreateConsumer("c", 0);
  StreamIterator it(s, StreamId::Min(), StreamId::Max(), false);
  EntryView e;
  for (int i = 0; i < 100000 && it.Next(&e); ++i) g->Deliver(e.id, c, 1700000000000LL + i);
  double per_pending = static_cast<double>(s.MemoryUsage() - before) / 100000;
  MESSAGE("bytes per pending entry (group PEL + consumer PEL): " << per_pending);
  CHECK(per_pending < 60);
}
