#include "crdt/mv_register.h"

#include <algorithm>

namespace tuphap::crdt {

bool DisplayLess(const RegisterEntry& a, const RegisterEntry& b) {
  if (a.hlc != b.hlc) return a.hlc < b.hlc;
  return a.dot < b.dot;
}

bool MvRegister::Apply(RegisterEntry entry, std::span<const Dot> pred) {
  bool changed = false;
  if (!pred.empty()) {
    auto removed = std::remove_if(entries_.begin(), entries_.end(), [&](const RegisterEntry& e) {
      return std::find(pred.begin(), pred.end(), e.dot) != pred.end();
    });
    changed = removed != entries_.end();
    entries_.erase(removed, entries_.end());
  }
  auto it = std::lower_bound(entries_.begin(), entries_.end(), entry.dot,
                             [](const RegisterEntry& e, const Dot& d) { return e.dot < d; });
  if (it == entries_.end() || it->dot != entry.dot) {
    entries_.insert(it, std::move(entry));
    changed = true;
  }
  return changed;
}

void MvRegister::InsertStored(RegisterEntry entry) {
  if (entries_.empty() || entries_.back().dot < entry.dot) {
    entries_.push_back(std::move(entry));
    return;
  }
  Apply(std::move(entry), {});
}

const RegisterEntry* MvRegister::Winner() const {
  if (entries_.empty()) return nullptr;
  return &*std::max_element(entries_.begin(), entries_.end(), DisplayLess);
}

bool MvRegister::InConflict() const {
  for (size_t i = 1; i < entries_.size(); ++i) {
    if (entries_[i].value != entries_[0].value) return true;
  }
  return false;
}

std::vector<Dot> MvRegister::Frontier() const {
  std::vector<Dot> dots;
  dots.reserve(entries_.size());
  for (const auto& e : entries_) dots.push_back(e.dot);
  return dots;
}

MvRegister MvRegister::Join(const MvRegister& a, const VersionVector& context_a,
                            const MvRegister& b, const VersionVector& context_b) {
  MvRegister out;
  // Both sides are sorted by dot: merge them in one pass.
  auto ia = a.entries_.begin();
  auto ib = b.entries_.begin();
  while (ia != a.entries_.end() || ib != b.entries_.end()) {
    if (ib == b.entries_.end() || (ia != a.entries_.end() && ia->dot < ib->dot)) {
      if (!context_b.Covers(ia->dot)) out.entries_.push_back(*ia);
      ++ia;
    } else if (ia == a.entries_.end() || ib->dot < ia->dot) {
      if (!context_a.Covers(ib->dot)) out.entries_.push_back(*ib);
      ++ib;
    } else {
      out.entries_.push_back(*ia);  // in both
      ++ia;
      ++ib;
    }
  }
  return out;
}

}  // namespace tuphap::crdt
