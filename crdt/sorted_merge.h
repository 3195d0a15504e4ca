// MergeWalk: visits the union of keys of two sorted maps in order, giving
// the value on each side or nullptr where a side lacks the key. The joins of
// records and scopes are both this walk.
#pragma once

namespace tuphap::crdt {

template <class Map, class Fn>
void MergeWalk(const Map& a, const Map& b, Fn&& fn) {
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
      fn(ia->first, &ia->second, nullptr);
      ++ia;
    } else if (ia == a.end() || ib->first < ia->first) {
      fn(ib->first, nullptr, &ib->second);
      ++ib;
    } else {
      fn(ia->first, &ia->second, &ib->second);
      ++ia;
      ++ib;
    }
  }
}

}  // namespace tuphap::crdt
