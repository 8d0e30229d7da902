// The order of a sorted set's elements (by score, then by member bytes as memcmp compares them),
// the score and lex ranges the range commands ask for, and ElementVisitor, the callback the
// sorted set's walks call for each element.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace runnel::engine {

// True if (score_a, member_a) sorts before (score_b, member_b). string_view compares bytes as
// unsigned chars, which is memcmp's order.
inline bool ElementLess(double score_a, std::string_view member_a, double score_b,
                        std::string_view member_b) {
  return score_a < score_b || (score_a == score_b && member_a < member_b);
}

// A score interval such as ZRANGEBYSCORE's "(1 +inf".
struct ScoreRange {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
  bool max_exclusive = false;

  bool AboveMin(double v) const { return min_exclusive ? v > min : v >= min; }
  bool BelowMax(double v) const { return max_exclusive ? v < max : v <= max; }
  bool Contains(double v) const { return AboveMin(v) && BelowMax(v); }
  // True if no score can lie inside.
  bool Empty() const { return min > max || (min == max && (min_exclusive || max_exclusive)); }
};

// One end of a lex range: "-" (below every member), "+" (above every member), or "[m" / "(m".
struct LexBound {
  enum class Kind : uint8_t { kNegativeInf, kPositiveInf, kMember };
  Kind kind = Kind::kMember;
  bool exclusive = false;
  std::string_view member;
};

// A member interval such as ZRANGEBYLEX's "[a (c". The bounds' members are views the caller
// keeps alive.
struct LexRange {
  LexBound min;
  LexBound max;

  bool AboveMin(std::string_view m) const {
    switch (min.kind) {
      case LexBound::Kind::kNegativeInf:
        return true;
      case LexBound::Kind::kPositiveInf:
        return false;
      default:
        return min.exclusive ? m > min.member : m >= min.member;
    }
  }
  bool BelowMax(std::string_view m) const {
    switch (max.kind) {
      case LexBound::Kind::kNegativeInf:
        return false;
      case LexBound::Kind::kPositiveInf:
        return true;
      default:
        return max.exclusive ? m < max.member : m <= max.member;
    }
  }
  bool Contains(std::string_view m) const { return AboveMin(m) && BelowMax(m); }
  // True if no member can lie inside ("-" and "+" count as exclusive, as in Redis).
  bool Empty() const {
    auto rank = [](const LexBound& b) {
      return b.kind == LexBound::Kind::kNegativeInf ? 0 : b.kind == LexBound::Kind::kMember ? 1 : 2;
    };
    const int a = rank(min), b = rank(max);
    if (a != b) return a > b;
    if (a != 1) return true;
    return min.member > max.member ||
           (min.member == max.member && (min.exclusive || max.exclusive));
  }
};

// A non-owning reference to a callable bool(std::string_view member, double score); a walk
// stops when it returns false. The member's view lives until the sorted set changes. It is
// meant to be built from a lambda right at the call, which outlives the walk.
class ElementVisitor {
 public:
  template <class Fn>
  requires(!std::is_same_v<std::remove_cvref_t<Fn>, ElementVisitor>)
      ElementVisitor(Fn&& fn)  // NOLINT: implicit, so a lambda can be passed directly
      : ctx_(const_cast<void*>(static_cast<const void*>(&fn))),
        call_([](void* ctx, std::string_view m, double s) -> bool {
          return (*static_cast<std::remove_reference_t<Fn>*>(ctx))(m, s);
        }) {}

  bool operator()(std::string_view member, double score) const {
    return call_(ctx_, member, score);
  }

 private:
  void* ctx_;
  bool (*call_)(void*, std::string_view, double);
};

}  // namespace runnel::engine
