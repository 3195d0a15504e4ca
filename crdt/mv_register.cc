#include "crdt/mv_register.h"

#include <algorithm>

namespace tuphap::crdt {

bool DisplayLess(const RegisterEntry& a, const RegisterEntry& b) {
  if (a.hlc != b.hlc) return a.hlc < b.hlc;
  return a.dot < b.dot;
}

void MvRegister::Spill() {
  if (has_one_) {
    spilled_.push_back(std::move(one_));
    has_one_ = false;
  }
}

bool MvRegister::Apply(RegisterEntry entry, std::span<const Dot> pred) {
  auto named = [&](const Dot& d) { return std::find(pred.begin(), pred.end(), d) != pred.end(); };
  if (spilled_.empty()) {
    // The common case: zero or one entry, inline.
    bool changed = false;
    if (has_one_ && !pred.empty() && named(one_.dot)) {
      has_one_ = false;
      changed = true;
    }
    if (!has_one_) {
      one_ = std::move(entry);
      has_one_ = true;
      return true;
    }
    if (one_.dot == entry.dot) return changed;
    Spill();
  }
  bool changed = false;
  if (!pred.empty()) {
    auto removed = std::remove_if(spilled_.begin(), spilled_.end(),
                                  [&](const RegisterEntry& e) { return named(e.dot); });
    changed = removed != spilled_.end();
    spilled_.erase(removed, spilled_.end());
  }
  auto it = std::lower_bound(spilled_.begin(), spilled_.end(), entry.dot,
                             [](const RegisterEntry& e, const Dot& d) { return e.dot < d; });
  if (it == spilled_.end() || it->dot != entry.dot) {
    spilled_.insert(it, std::move(entry));
    changed = true;
  }
  if (spilled_.size() == 1) {  // back to one: inline again
    one_ = std::move(spilled_.front());
    has_one_ = true;
    spilled_.clear();
  } else if (spilled_.empty()) {
    has_one_ = false;
  }
  return changed;
}

void MvRegister::InsertStored(RegisterEntry entry) { Apply(std::move(entry), {}); }

const RegisterEntry* MvRegister::Winner() const {
  const auto e = entries();
  if (e.empty()) return nullptr;
  return &*std::max_element(e.begin(), e.end(), DisplayLess);
}

bool MvRegister::InConflict() const {
  const auto e = entries();
  for (size_t i = 1; i < e.size(); ++i) {
    if (e[i].value != e[0].value) return true;
  }
  return false;
}

std::vector<Dot> MvRegister::Frontier() const {
  std::vector<Dot> dots;
  for (const auto& e : entries()) dots.push_back(e.dot);
  return dots;
}

MvRegister MvRegister::Join(const MvRegister& a, const VersionVector& context_a,
                            const MvRegister& b, const VersionVector& context_b) {
  MvRegister out;
  const auto ea = a.entries();
  const auto eb = b.entries();
  // Both sides are sorted by dot: merge them in one pass (in dot order, so
  // every insertion appends).
  auto ia = ea.begin();
  auto ib = eb.begin();
  while (ia != ea.end() || ib != eb.end()) {
    if (ib == eb.end() || (ia != ea.end() && ia->dot < ib->dot)) {
      if (!context_b.Covers(ia->dot)) out.InsertStored(*ia);
      ++ia;
    } else if (ia == ea.end() || ib->dot < ia->dot) {
      if (!context_a.Covers(ib->dot)) out.InsertStored(*ib);
      ++ib;
    } else {
      out.InsertStored(*ia);  // in both
      ++ia;
      ++ib;
    }
  }
  return out;
}

}  // namespace tuphap::crdt
