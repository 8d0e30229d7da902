// Unit tests of the sorted-set value type: the packed buffer and the skip list (ranks, ranges,
// removals, the member index and its scan cursor), ZADD's flag rules, Redis 7.2's encoding
// rules, 100,000 random operations against a std::set + std::map model in both encodings and
// across conversions, and the serialized form (round trips and damaged input).
#include "engine/zset.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace runnel::engine;
using Encoding = ZSet::Encoding;
using Kind = ZSet::AddResult::Kind;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Elements = std::vector<std::pair<double, std::string>>;

Elements All(const ZSet& z) {
  Elements out;
  z.ForEach([&](std::string_view m, double s) {
    out.emplace_back(s, std::string(m));
    return true;
  });
  return out;
}

std::string Serialized(const ZSet& z) {
  std::string out;
  z.Serialize(&out);
  return out;
}

// The reference: what a sorted set must hold, kept with the standard containers, and ZADD's
// rules written independently of engine/zset.cc.
struct Model {
  std::set<std::pair<double, std::string>> order;
  std::map<std::string, double> scores;

  Elements Vector() const { return Elements(order.begin(), order.end()); }
  void Put(const std::string& m, double s) {
    auto it = scores.find(m);
    if (it != scores.end()) order.erase({it->second, m});
    scores[m] = s;
    order.insert({s, m});
  }
  void Erase(const std::string& m) {
    auto it = scores.find(m);
    if (it == scores.end()) return;
    order.erase({it->second, m});
    scores.erase(it);
  }
  // Returns the kind of change and the resulting score.
  std::pair<Kind, double> Add(const std::string& m, double s, int flags) {
    auto it = scores.find(m);
    if (it == scores.end()) {
      if (flags & kZAddXx) return {Kind::kSkipped, 0};
      Put(m, s);
      return {Kind::kAdded, s};
    }
    const double cur = it->second;
    if (flags & kZAddNx) return {Kind::kSkipped, cur};
    double next = (flags & kZAddIncr) ? cur + s : s;
    if (std::isnan(next)) return {Kind::kNaN, cur};
    if ((flags & kZAddGt) && !(next > cur)) return {Kind::kSkipped, cur};
    if ((flags & kZAddLt) && !(next < cur)) return {Kind::kSkipped, cur};
    if (next == cur) return {Kind::kUnchanged, cur};
    Put(m, next);
    return {Kind::kUpdated, next};
  }
};

// Scores with ties, fractions, infinities, -0 and values beyond the packed integer form.
double RandomScore(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0:
      return rng() % 2 ? kInf : -kInf;
    case 1:
      return static_cast<double>(rng() % 2000) / 8 - 100;
    case 2:
      return std::ldexp(static_cast<double>(rng() % 1000), 50 + static_cast<int>(rng() % 20));
    case 3:
      return rng() % 2 ? -0.0 : 0.0;
    case 4:
      return -static_cast<double>(rng() % 100000);
    default:
      return static_cast<double>(rng() % 16);
  }
}

std::string RandomMember(std::mt19937_64& rng, bool allow_long) {
  if (allow_long && rng() % 400 == 0) return std::string(20 + rng() % 20, 'L');
  std::string m;
  const size_t len = rng() % 3;
  for (size_t i = 0; i < len; ++i) m.push_back(static_cast<char>("ab\xff\x01z"[rng() % 5]));
  m += std::to_string(rng() % 300);
  return m;
}

ScoreRange RandomScoreRange(std::mt19937_64& rng) {
  ScoreRange r;
  r.min = rng() % 8 == 0 ? -kInf : RandomScore(rng);
  r.max = rng() % 8 == 0 ? kInf : RandomScore(rng);
  if (rng() % 4 != 0 && r.min > r.max) std::swap(r.min, r.max);
  r.min_exclusive = rng() % 3 == 0;
  r.max_exclusive = rng() % 3 == 0;
  return r;
}

// The model's answer to a range query (offset and limit applied from the chosen end).
template <class In>
Elements ModelRange(const Elements& all, In in_range, bool reverse, uint64_t offset,
                    uint64_t limit) {
  Elements in;
  for (const auto& e : all)
    if (in_range(e)) in.push_back(e);
  if (reverse) std::reverse(in.begin(), in.end());
  Elements out;
  for (size_t i = offset; i < in.size() && out.size() < limit; ++i) out.push_back(in[i]);
  return out;
}

Elements Collect(auto walk) {
  Elements out;
  walk([&](std::string_view m, double s) {
    out.emplace_back(s, std::string(m));
    return true;
  });
  return out;
}

// Runs `ops` random operations on `z` and the model side by side, checking every answer and,
// every so often, the whole content. `limits` decide conversions, which are checked as they
// happen.
void RandomOps(ZSet& z, const ZSetLimits& limits, size_t ops, uint64_t seed, bool allow_long) {
  std::mt19937_64 rng(seed);
  Model model;
  for (size_t i = 0; i < ops; ++i) {
    const std::string m = RandomMember(rng, allow_long);
    const uint64_t n = model.scores.size();
    Elements all;
    uint64_t op = rng() % 20;
    // Alternate phases of growth (towards a few thousand elements) and shrinking, so both
    // small and large sets see every operation.
    const bool growing = (i / 6000) % 2 == 0;
    const bool removal = op == 8 || op == 13 || op == 14 || op == 15;
    if (removal && growing && n > 0 && rng() % 4 != 0) op = 0;
    if (!removal && op < 8 && !growing && rng() % 2 == 0) op = 14;
    // Most operations need the model's elements in order; adds and removals by member do not.
    if (op >= 9) all = model.Vector();
    switch (op) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 7: {
        int flags = 0;
        const int pick = static_cast<int>(rng() % 8);
        if (pick == 1) flags = kZAddNx;
        if (pick == 2) flags = kZAddXx;
        if (pick == 3) flags = kZAddGt;
        if (pick == 4) flags = kZAddLt | kZAddXx;
        if (pick == 5) flags = kZAddIncr;
        if (pick == 6) flags = kZAddIncr | kZAddGt;
        const double s = RandomScore(rng);
        const bool was_packed = z.encoding() == Encoding::kListpack;
        auto [kind, score] = model.Add(m, s, flags);
        ZSet::AddResult r = z.Add(m, s, flags, limits);
        REQUIRE(r.kind == kind);
        CHECK(r.score == score);  // (a listpack reads -0 back as 0, which compares equal)
        // A new member that breaks a limit converts the set; nothing else does.
        if (was_packed && kind == Kind::kAdded) {
          const bool over =
              model.scores.size() > limits.listpack_entries || m.size() > limits.listpack_value;
          CHECK((z.encoding() == Encoding::kSkipList) == over);
        }
        break;
      }
      case 8: {
        const bool had = model.scores.count(m) > 0;
        model.Erase(m);
        CHECK(z.Remove(m) == had);
        break;
      }
      case 9: {
        double s = 0;
        uint64_t rank = 0;
        const bool reverse = rng() % 2;
        auto it = model.scores.find(m);
        REQUIRE(z.Rank(m, reverse, &rank, &s) == (it != model.scores.end()));
        if (it != model.scores.end()) {
          const uint64_t pos = static_cast<uint64_t>(
              std::find(all.begin(), all.end(), std::make_pair(it->second, m)) - all.begin());
          CHECK(rank == (reverse ? n - 1 - pos : pos));
          CHECK(z.Score(m, &s));
          CHECK(s == it->second);
        }
        break;
      }
      case 10: {
        if (n == 0) break;
        uint64_t a = rng() % n, b = rng() % n;
        if (a > b) std::swap(a, b);
        const bool reverse = rng() % 2;
        Elements expect;
        for (uint64_t k = a; k <= b; ++k) expect.push_back(all[reverse ? n - 1 - k : k]);
        CHECK(Collect([&](auto fn) { z.RangeByRank(a, b, reverse, fn); }) == expect);
        break;
      }
      case 11:
      case 12: {
        const ScoreRange r = RandomScoreRange(rng);
        const bool reverse = rng() % 2;
        const uint64_t offset = rng() % 3 == 0 ? rng() % 10 : 0;
        const uint64_t limit = rng() % 3 == 0 ? rng() % 10 : UINT64_MAX;
        auto in = [&](const auto& e) { return r.Contains(e.first); };
        CHECK(Collect([&](auto fn) { z.RangeByScore(r, reverse, offset, limit, fn); }) ==
              ModelRange(all, in, reverse, offset, limit));
        CHECK(z.CountByScore(r) == ModelRange(all, in, false, 0, UINT64_MAX).size());
        break;
      }
      case 13: {
        if (rng() % 20 != 0) break;  // a wide range empties much of the set: keep it rare
        const ScoreRange r = RandomScoreRange(rng);
        Elements keep;
        for (const auto& e : all)
          if (!r.Contains(e.first)) keep.push_back(e);
        for (const auto& e : all)
          if (r.Contains(e.first)) model.Erase(e.second);
        CHECK(z.RemoveRangeByScore(r) == n - keep.size());
        break;
      }
      case 14: {
        if (n == 0) break;
        uint64_t a = rng() % n, b = a + rng() % 8;
        const uint64_t expect = std::min<uint64_t>(b, n - 1) - a + 1;
        for (uint64_t k = a; k <= b && k < n; ++k) model.Erase(all[k].second);
        CHECK(z.RemoveRangeByRank(a, b) == expect);
        break;
      }
      case 15: {
        const bool max = rng() % 2;
        const uint64_t count = rng() % 4;
        Elements expect;
        for (uint64_t k = 0; k < count && k < n; ++k) expect.push_back(all[max ? n - 1 - k : k]);
        for (const auto& e : expect) model.Erase(e.second);
        CHECK(Collect([&](auto fn) { z.Pop(max, count, fn); }) == expect);
        break;
      }
      case 16: {
        if (rng() % 20 != 0) break;  // a full scan is O(n)
        std::set<std::string> seen;
        uint64_t cursor = 0;
        do {
          cursor = z.Scan(cursor, 1 + rng() % 20, [&](std::string_view m2, double s) {
            CHECK(model.scores.at(std::string(m2)) == s);
            seen.insert(std::string(m2));
            return true;
          });
        } while (cursor != 0);
        CHECK(seen.size() == n);
        break;
      }
      case 17: {
        z.Sample(5, rng, [&](std::string_view m2, double s) {
          CHECK(model.scores.at(std::string(m2)) == s);
          return true;
        });
        break;
      }
      default: {
        if (rng() % 20 != 0) break;
        REQUIRE(z.size() == n);
        REQUIRE(All(z) == all);
        break;
      }
    }
  }
  CHECK(All(z) == model.Vector());
  CHECK(z.size() == model.scores.size());
  auto loaded = ZSet::Deserialize(Serialized(z));
  if (z.size() > 0) {
    REQUIRE(loaded != nullptr);
    CHECK(All(*loaded) == All(z));
  }
}

// Lex ranges are defined over sets whose scores are all equal.
void RandomLexOps(ZSet& z, const ZSetLimits& limits, size_t ops, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model model;
  auto bound = [&](LexBound* b, std::string* storage) {
    const uint64_t pick = rng() % 10;
    b->kind = pick == 0   ? LexBound::Kind::kNegativeInf
              : pick == 1 ? LexBound::Kind::kPositiveInf
                          : LexBound::Kind::kMember;
    *storage = RandomMember(rng, false);
    b->member = *storage;
    b->exclusive = rng() % 2;
  };
  for (size_t i = 0; i < ops; ++i) {
    const std::string m = RandomMember(rng, false);
    const Elements all = model.Vector();
    std::string lo, hi;
    LexRange r;
    bound(&r.min, &lo);
    bound(&r.max, &hi);
    auto in = [&](const auto& e) { return r.Contains(e.second); };
    switch (rng() % 5) {
      case 0:
      case 1:
        model.Add(m, 7, 0);
        z.Add(m, 7, 0, limits);
        break;
      case 2: {
        const bool reverse = rng() % 2;
        const uint64_t offset = rng() % 3 == 0 ? rng() % 10 : 0;
        const uint64_t limit = rng() % 3 == 0 ? rng() % 10 : UINT64_MAX;
        CHECK(Collect([&](auto fn) { z.RangeByLex(r, reverse, offset, limit, fn); }) ==
              ModelRange(all, in, reverse, offset, limit));
        break;
      }
      case 3:
        CHECK(z.CountByLex(r) == ModelRange(all, in, false, 0, UINT64_MAX).size());
        break;
      default: {
        uint64_t removed = 0;
        for (const auto& e : all)
          if (in(e)) {
            model.Erase(e.second);
            ++removed;
          }
        CHECK(z.RemoveRangeByLex(r) == removed);
        break;
      }
    }
  }
  CHECK(All(z) == model.Vector());
}

}  // namespace

TEST_CASE("zset: packed scores keep every value exactly, infinities included; -0 becomes 0") {
  ZSet z(Encoding::kListpack);
  const std::vector<double> scores = {0.0,
                                      -0.0,
                                      1,
                                      -1,
                                      127,
                                      128,
                                      -128,
                                      -129,
                                      32767,
                                      1e15,
                                      9007199254740991,
                                      -9007199254740991,
                                      9007199254740992,
                                      0.1,
                                      -kInf,
                                      kInf,
                                      1e308,
                                      5e-324};
  ZSetLimits limits{1000, 64};
  for (size_t i = 0; i < scores.size(); ++i) z.Add("m" + std::to_string(i), scores[i], 0, limits);
  for (size_t i = 0; i < scores.size(); ++i) {
    double s;
    REQUIRE(z.Score("m" + std::to_string(i), &s));
    CHECK(std::bit_cast<uint64_t>(s) == std::bit_cast<uint64_t>(scores[i] + 0.0));  // -0 + 0 = 0
  }
  CHECK(z.encoding() == Encoding::kListpack);
  Elements all = All(z);
  CHECK(all.front().first == -kInf);
  CHECK(all.back().first == kInf);
  CHECK(std::is_sorted(all.begin(), all.end()));
}

TEST_CASE("zset: ZADD flag rules and results") {
  for (Encoding enc : {Encoding::kListpack, Encoding::kSkipList}) {
    ZSet z(enc);
    ZSetLimits limits;
    CHECK(z.Add("a", 1, kZAddXx, limits).kind == Kind::kSkipped);
    CHECK(z.size() == 0);
    CHECK(z.Add("a", 1, 0, limits).kind == Kind::kAdded);
    CHECK(z.Add("a", 1, 0, limits).kind == Kind::kUnchanged);
    CHECK(z.Add("a", 5, kZAddNx, limits).kind == Kind::kSkipped);
    ZSet::AddResult r = z.Add("a", 2, kZAddIncr, limits);
    CHECK(r.kind == Kind::kUpdated);
    CHECK(r.score == 3);
    CHECK(z.Add("a", 2, kZAddGt, limits).kind == Kind::kSkipped);
    CHECK(z.Add("a", 3, kZAddGt, limits).kind == Kind::kSkipped);  // equal is not greater
    CHECK(z.Add("a", 4, kZAddGt, limits).kind == Kind::kUpdated);
    CHECK(z.Add("a", 9, kZAddLt, limits).kind == Kind::kSkipped);
    CHECK(z.Add("a", -1, kZAddLt | kZAddIncr, limits).score == 3);
    CHECK(z.Add("b", 2, kZAddGt, limits).kind == Kind::kAdded);  // GT does not stop adds
    CHECK(z.Add("a", kInf, 0, limits).kind == Kind::kUpdated);
    r = z.Add("a", -kInf, kZAddIncr, limits);
    CHECK(r.kind == Kind::kNaN);
    double s;
    CHECK(z.Score("a", &s));
    CHECK(s == kInf);  // unchanged by the refused increment
    CHECK(z.Add("c", -0.0, 0, limits).kind == Kind::kAdded);
    CHECK(z.Add("c", 0.0, 0, limits).kind == Kind::kUnchanged);  // -0 == 0
    CHECK(z.encoding() == enc);
  }
}

TEST_CASE("zset: Redis 7.2's encoding rules for creation, growth, hints and stores") {
  ZSetLimits limits{4, 8};
  CHECK(ZSet::Create(4, 8, limits)->encoding() == Encoding::kListpack);
  CHECK(ZSet::Create(5, 1, limits)->encoding() == Encoding::kSkipList);
  CHECK(ZSet::Create(1, 9, limits)->encoding() == Encoding::kSkipList);
  ZSet z(Encoding::kListpack);
  for (int i = 0; i < 4; ++i) z.Add("m" + std::to_string(i), i, 0, limits);
  CHECK(z.encoding() == Encoding::kListpack);
  z.Add("m0", 100, 0, limits);  // an update never converts
  CHECK(z.encoding() == Encoding::kListpack);
  z.Add("m4", 4, 0, limits);  // the fifth member does
  CHECK(z.encoding() == Encoding::kSkipList);
  for (int i = 0; i < 5; ++i) z.Remove("m" + std::to_string(i));
  CHECK(z.size() == 0);
  CHECK(z.encoding() == Encoding::kSkipList);  // never back by itself

  ZSet longer(Encoding::kListpack);
  longer.Add("12345678", 1, 0, limits);
  CHECK(longer.encoding() == Encoding::kListpack);
  longer.Add("123456789", 1, 0, limits);
  CHECK(longer.encoding() == Encoding::kSkipList);
  longer.Remove("123456789");
  longer.ShrinkIfFits(limits);  // a store's result gets the encoding that fits
  CHECK(longer.encoding() == Encoding::kListpack);

  ZSet hinted(Encoding::kListpack);
  hinted.PrepareFor(4, limits);
  CHECK(hinted.encoding() == Encoding::kListpack);
  hinted.PrepareFor(5, limits);  // ZADD with more pairs than fit
  CHECK(hinted.encoding() == Encoding::kSkipList);
  hinted.Add("a", 1, 0, limits);
  hinted.ShrinkIfFits(limits);
  CHECK(hinted.encoding() == Encoding::kListpack);
  CHECK(All(hinted) == Elements{{1, "a"}});
}

TEST_CASE("zset: skip list ranks, ranges and counts on a large set") {
  ZSet z(Encoding::kSkipList);
  ZSetLimits limits;
  const int n = 20000;
  for (int i = n - 1; i >= 0; --i) z.Add("m" + std::to_string(i), i / 2, 0, limits);
  REQUIRE(z.size() == static_cast<size_t>(n));
  uint64_t rank;
  double s;
  REQUIRE(z.Rank("m10001", false, &rank, &s));
  CHECK(rank == 10001);
  CHECK(s == 5000);
  REQUIRE(z.Rank("m10001", true, &rank, &s));
  CHECK(rank == n - 1 - 10001);
  CHECK(z.CountByScore({100, 199, false, false}) == 200);
  CHECK(z.CountByScore({100, 199, true, true}) == 196);
  CHECK(z.CountByScore({-kInf, kInf, false, false}) == static_cast<uint64_t>(n));
  CHECK(z.CountByScore({5, 4, false, false}) == 0);
  Elements got = Collect([&](auto fn) {
    z.RangeByScore({100, 110, false, false}, true, 3, 2, fn);
  });
  CHECK(got == Elements{{109, "m218"}, {108, "m217"}});
  got = Collect([&](auto fn) { z.RangeByRank(5, 6, true, fn); });
  CHECK(got == Elements{{(n - 6) / 2, "m" + std::to_string(n - 6)},
                        {(n - 7) / 2, "m" + std::to_string(n - 7)}});
  CHECK(z.RemoveRangeByRank(0, 9) == 10);
  CHECK(z.RemoveRangeByScore({9000, kInf, true, false}) == static_cast<uint64_t>(n - 18002));
  CHECK(z.size() == 17992);
  CHECK(All(z).front() == std::make_pair(5.0, std::string("m10")));
  CHECK(All(z).back() == std::make_pair(9000.0, std::string("m18001")));
  // Scores move the element, in place or not.
  z.Add("m500", -1, 0, limits);
  z.Add("m501", 250.5, 0, limits);
  REQUIRE(z.Rank("m500", false, &rank, &s));
  CHECK(rank == 0);
  REQUIRE(z.Rank("m501", false, &rank, &s));
  CHECK(rank == 491);
  CHECK(z.MemoryUsage() > 17992 * 40);
}

TEST_CASE("zset: a full ZSCAN walk returns every member present throughout, across resizes") {
  ZSet z(Encoding::kSkipList);
  ZSetLimits limits;
  for (int i = 0; i < 1000; ++i) z.Add("k" + std::to_string(i), i, 0, limits);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = z.Scan(cursor, 10, [&](std::string_view m, double) {
      seen.insert(std::string(m));
      return true;
    });
    // Grow, then shrink the index while the walk is under way.
    if (step < 30) {
      for (int i = 0; i < 100; ++i) z.Add("extra" + std::to_string(step * 100 + i), 1, 0, limits);
    } else if (step < 60) {
      for (int i = 0; i < 100; ++i) z.Remove("extra" + std::to_string((step - 30) * 100 + i));
    }
    ++step;
  } while (cursor != 0);
  for (int i = 0; i < 1000; ++i) CHECK(seen.count("k" + std::to_string(i)) == 1);
}

TEST_CASE("zset: 100,000 random operations against std::set + std::map, in both encodings") {
  SUBCASE("listpack throughout") {
    ZSet z(Encoding::kListpack);
    RandomOps(z, {100000, 1000}, 30000, 1, true);
    CHECK(z.encoding() == Encoding::kListpack);
  }
  SUBCASE("skiplist throughout") {
    ZSet z(Encoding::kSkipList);
    RandomOps(z, {0, 0}, 40000, 2, true);
    CHECK(z.encoding() == Encoding::kSkipList);
  }
  SUBCASE("converting at small limits") {
    ZSet z(Encoding::kListpack);
    RandomOps(z, {64, 16}, 30000, 3, true);
    CHECK(z.encoding() == Encoding::kSkipList);
  }
}

TEST_CASE("zset: lex ranges over equal scores, in both encodings") {
  ZSet packed(Encoding::kListpack);
  RandomLexOps(packed, {100000, 1000}, 10000, 4);
  CHECK(packed.encoding() == Encoding::kListpack);
  ZSet list(Encoding::kSkipList);
  RandomLexOps(list, {0, 0}, 10000, 5);
  LexRange r;
  r.min.kind = LexBound::Kind::kPositiveInf;
  r.max.kind = LexBound::Kind::kPositiveInf;
  CHECK(r.Empty());
  r.min.kind = LexBound::Kind::kNegativeInf;
  CHECK(!r.Empty());
  r.min = {LexBound::Kind::kMember, true, "a"};
  r.max = {LexBound::Kind::kMember, false, "a"};
  CHECK(r.Empty());
  r.min.exclusive = false;
  CHECK(!r.Empty());
}

TEST_CASE("zset: conversions both ways keep every element") {
  ZSet z(Encoding::kListpack);
  ZSetLimits big{1000, 1000};
  for (int i = 0; i < 300; ++i) z.Add(std::string(i % 7, 'x') + std::to_string(i), i % 13, 0, big);
  const Elements before = All(z);
  z.Convert(Encoding::kSkipList);
  CHECK(All(z) == before);
  z.Convert(Encoding::kListpack);
  CHECK(All(z) == before);
  std::unique_ptr<ZSet> copy(static_cast<ZSet*>(z.Clone()));
  CHECK(All(*copy) == before);
  z.Convert(Encoding::kSkipList);
  std::unique_ptr<ZSet> copy2(static_cast<ZSet*>(z.Clone()));
  CHECK(copy2->encoding() == Encoding::kSkipList);
  CHECK(All(*copy2) == before);
}

TEST_CASE("zset: serialized forms round-trip both encodings, with extreme elements") {
  ZSetLimits limits{1000, 1000};
  for (Encoding enc : {Encoding::kListpack, Encoding::kSkipList}) {
    ZSet z(enc);
    z.Add("", -kInf, 0, limits);
    z.Add(std::string("\0\r\n", 3), -0.0, 0, limits);
    z.Add(std::string(300, 'z'), 1e-300, 0, limits);
    z.Add("big", 1e300, 0, limits);
    z.Add("top", kInf, 0, limits);
    auto loaded = ZSet::Deserialize(Serialized(z));
    REQUIRE(loaded != nullptr);
    CHECK(loaded->encoding() == enc);
    CHECK(All(*loaded) == All(z));
    double s;
    REQUIRE(loaded->Score(std::string("\0\r\n", 3), &s));
    CHECK(std::signbit(s) == (enc == Encoding::kSkipList));  // Redis's listpack loses it too
  }
}

TEST_CASE("zset: damaged serialized forms are rejected") {
  ZSetLimits limits;
  for (Encoding enc : {Encoding::kListpack, Encoding::kSkipList}) {
    ZSet z(enc);
    z.Add("a", 1, 0, limits);
    z.Add("b", 2.5, 0, limits);
    const std::string good = Serialized(z);
    REQUIRE(ZSet::Deserialize(good) != nullptr);
    for (size_t n = 0; n < good.size(); ++n)  // every truncation
      CHECK(ZSet::Deserialize(good.substr(0, n)) == nullptr);
    CHECK(ZSet::Deserialize(good + "x") == nullptr);  // trailing bytes
    std::string bad = good;
    bad[0] = 'X';
    CHECK(ZSet::Deserialize(bad) == nullptr);
    bad = good;
    bad[1] = 9;  // version
    CHECK(ZSet::Deserialize(bad) == nullptr);
    bad = good;
    bad[2] = 2;  // encoding
    CHECK(ZSet::Deserialize(bad) == nullptr);
  }
  // Header: 'Z', version 1, encoding (0 listpack, 1 skiplist), count; then elements.
  auto bytes = [](std::initializer_list<int> v) {
    std::string out;
    for (int b : v) out.push_back(static_cast<char>(b));
    return out;
  };
  auto score = [](double d) {
    std::string out;
    const uint64_t bits = std::bit_cast<uint64_t>(d);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
    return out;
  };
  for (int enc : {0, 1}) {
    const std::string a1 = bytes({1, 'a'}) + score(1);
    const std::string b2 = bytes({1, 'b'}) + score(2);
    REQUIRE(ZSet::Deserialize(bytes({'Z', 1, enc, 2}) + a1 + b2) != nullptr);  // the control
    CHECK(ZSet::Deserialize(bytes({'Z', 1, enc, 0})) == nullptr);              // empty set
    CHECK(ZSet::Deserialize(bytes({'Z', 1, enc, 2}) + b2 + a1) == nullptr);    // out of order
    CHECK(ZSet::Deserialize(bytes({'Z', 1, enc, 2}) + a1 + a1) == nullptr);    // repeated
    CHECK(ZSet::Deserialize(bytes({'Z', 1, enc, 2}) + a1 + bytes({1, 'a'}) + score(3)) ==
          nullptr);  // the same member twice, in order by score
    CHECK(ZSet::Deserialize(bytes({'Z', 1, enc, 1, 1, 'a'}) + score(std::nan(""))) == nullptr);
    CHECK(ZSet::Deserialize(bytes({'Z', 1, enc, 1, 9, 'a'}) + score(1)) == nullptr);  // length
    CHECK(ZSet::Deserialize(bytes({'Z', 1, enc, 0x7f}) + a1) == nullptr);  // count too big
    CHECK(ZSet::Deserialize(
              bytes({'Z', 1, enc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}) +
              a1) == nullptr);  // a varint past 64 bits
  }
}
