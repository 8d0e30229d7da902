// Drawing at random from the engine's structures (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER).
#pragma once

#include <cstddef>
#include <random>
#include <utility>
#include <vector>

namespace runnel::engine {

// Puts `count` items drawn uniformly without repeats at the front of *v (count <= v->size()):
// the first steps of a Fisher-Yates shuffle.
template <typename T>
void PartialShuffle(std::vector<T>* v, size_t count, std::mt19937_64& rng) {
  for (size_t i = 0; i < count; ++i) std::swap((*v)[i], (*v)[i + rng() % (v->size() - i)]);
}

}  // namespace runnel::engine
