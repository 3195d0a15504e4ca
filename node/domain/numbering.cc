// Register entry numbers (docs/register-numbers.md).
//
// Each (commune, register, year) is one book numbered 1, 2, 3... The
// commune's primary node numbers it; a secondary node of the same commune
// takes numbers only from blocks the primary leased to it. Leases are
// records of the commune ("_lease-<commune>-<register>-<year>-<first>", type
// number_lease) that replicate like any other, so every node knows which
// numbers belong to whom, and two nodes working offline never hand out the
// same number. A number is taken inside the write transaction of the record
// that uses it.
#include <algorithm>
#include <cstdio>

#include "base/hex.h"
#include "crdt/replica_id.h"
#include "node/domain/content_rules.h"
#include "node/domain/registry.h"
#include "node/domain/schema.h"
#include "node/keys.h"

namespace tuphap::domain {
namespace {

constexpr int64_t kLastEntry = kLastEntryNo;

struct Lease {
  std::string holder;  // node id, hex
  int64_t first = 0;
  int64_t last = 0;
};

std::string Prefix(const std::string& commune, std::string_view reg, int year) {
  return commune + "-" + std::string(reg) + "-" + std::to_string(year) + "-";
}

std::string Entry(const std::string& prefix, int64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(n));
  return prefix + buf;
}

int64_t IntField(const crdt::RecordState& s, const char* field) {
  const crdt::MvRegister* r = s.Field(field);
  const crdt::RegisterEntry* w = r != nullptr ? r->Winner() : nullptr;
  return w != nullptr && w->value.kind() == crdt::Value::Kind::kInt ? w->value.as_int() : 0;
}

Result<std::vector<Lease>> Leases(store::Store& store, const std::string& commune,
                                  std::string_view reg, int year) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::RecordView> records,
                          store.RecordsWithPrefix(commune, "_lease-" + Prefix(commune, reg, year)));
  std::vector<Lease> out;
  for (const auto& r : records) {
    // A lease judged invalid (content_rules.h) or revoked leases nothing.
    if (!r.invalid.empty() || r.state.Revoked()) continue;
    const crdt::MvRegister* holder = r.state.Field("holder");
    if (holder == nullptr || holder->Winner() == nullptr) continue;
    out.push_back(Lease{holder->Winner()->value.text(), IntField(r.state, "first"),
                        IntField(r.state, "last")});
  }
  std::sort(out.begin(), out.end(),
            [](const Lease& a, const Lease& b) { return a.first < b.first; });
  return out;
}

// The highest number used in [lo, hi], or lo - 1. Records judged invalid
// take no number (MaxRecordId passes over them: a forged 999999 does not
// fill the book), but their ids exist, so the numbers right above the valid
// ones that they hold are stepped over rather than given again.
Result<int64_t> MaxUsed(store::Store& store, const std::string& commune, const std::string& prefix,
                        int64_t lo, int64_t hi) {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> id,
                          store.MaxRecordId(commune, Entry(prefix, lo), Entry(prefix, hi)));
  const int64_t used = id ? std::stoll(id->substr(prefix.size())) : lo - 1;
  if (used >= hi) return used;
  TUPHAP_ASSIGN_OR_RETURN(int64_t free, store.FirstFreeNumber(commune, prefix, used + 1, hi));
  return free - 1;
}

}  // namespace

Result<int64_t> Registry::NextEntry(const std::string& commune, std::string_view reg, int year) {
  const node::NodeInfo& info = node_.info();
  store::Store& store = node_.store();
  const std::string prefix = Prefix(commune, reg, year);
  TUPHAP_ASSIGN_OR_RETURN(std::vector<Lease> leases, Leases(store, commune, reg, year));
  const std::string me = info.id.Hex();
  // A lease names its holder by full key, or by the fingerprint its node
  // id text carries.
  const std::string me_short = ToHex(node::KeyFingerprint(info.id.bytes));
  if (info.role == node::Role::kCommune && info.commune == commune &&
      info.numbering == node::Numbering::kPrimary) {
    // Above the highest number the primary itself used (numbers inside other
    // nodes' blocks are theirs), skipping every leased block.
    int64_t used = 0;
    int64_t top = kLastEntry;
    for (auto it = leases.rbegin(); it != leases.rend() && used == 0; ++it) {
      if (it->last < top) {
        TUPHAP_ASSIGN_OR_RETURN(int64_t m, MaxUsed(store, commune, prefix, it->last + 1, top));
        if (m > it->last) used = m;
      }
      top = it->first - 1;
    }
    if (used == 0) {
      TUPHAP_ASSIGN_OR_RETURN(int64_t m, MaxUsed(store, commune, prefix, 1, top));
      used = std::max<int64_t>(m, 0);
    }
    int64_t next = used + 1;
    for (const auto& l : leases) {
      if (next >= l.first && next <= l.last) next = l.last + 1;
    }
    if (next > kLastEntry)
      return Status::ResourceExhausted("register " + std::string(reg) + " of " +
                                       std::to_string(year) + " is full");
    return next;
  }
  for (const auto& l : leases) {
    if (l.holder != me && l.holder != me_short) continue;
    TUPHAP_ASSIGN_OR_RETURN(int64_t m, MaxUsed(store, commune, prefix, l.first, l.last));
    if (m < l.last) return std::max(l.first, m + 1);
  }
  return Status::FailedPrecondition("this node has no register numbers left for " +
                                    std::string(reg) + " " + std::to_string(year) + " of commune " +
                                    commune +
                                    ": the commune's primary node leases blocks of numbers (tuphap "
                                    "register lease), or give "
                                    "book.entry_no when copying a paper register")
      .WithReason("E_NO_NUMBERS");
}

Result<int64_t> Registry::GrantLease(const std::string& holder, std::string_view reg, int year,
                                     int count) {
  const node::NodeInfo& info = node_.info();
  if (info.role != node::Role::kCommune || info.numbering != node::Numbering::kPrimary) {
    return Status::FailedPrecondition("only a commune's primary node leases register numbers");
  }
  if (count <= 0 || count > 100'000)
    return Status::InvalidArgument("a lease holds 1 to 100,000 numbers");
  std::string holder_hex = holder;
  if (holder.size() != 64 || holder.find_first_not_of("0123456789abcdef") != std::string::npos) {
    auto fingerprint = node::ParseNodeIdText(holder);
    if (!fingerprint.ok()) {
      return Status::InvalidArgument("the holder '" + holder +
                                     "' is not a node id: " + fingerprint.status().message());
    }
    holder_hex = ToHex(*fingerprint);
  }
  // The primary's own numbers need no lease, and every replica flags a
  // lease that names its writer (content_rules.h).
  if (HolderNames(holder_hex, info.id))
    return Status::InvalidArgument(
        "the primary node numbers its books itself: lease to another node");
  bool known = false;
  for (const auto& type : RecordTypes()) known = known || (!reg.empty() && RegisterOf(type) == reg);
  if (!known)
    return Status::InvalidArgument("unknown register \"" + std::string(reg) +
                                   "\": one of KS, KT, KH, CMC, GH, TDCC, XNHN, XP");
  if (year < 1900 || year > 2100) return Status::InvalidArgument("the year must be 1900-2100");
  const std::string& commune = info.commune;
  const std::string prefix = Prefix(commune, reg, year);
  // Read what is used and leased inside the transaction that writes the
  // lease, so two leases made at once cannot overlap.
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, node_.BeginSession());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<Lease> leases, Leases(node_.store(), commune, reg, year));
  // The block starts above every number used or leased so far.
  TUPHAP_ASSIGN_OR_RETURN(int64_t used, MaxUsed(node_.store(), commune, prefix, 1, kLastEntry));
  int64_t first = std::max<int64_t>(used, 0) + 1;
  for (const auto& l : leases) first = std::max(first, l.last + 1);
  const int64_t last = first + count - 1;
  if (last > kLastEntry)
    return Status::ResourceExhausted("not enough numbers left in the register");
  char id[96];
  std::snprintf(id, sizeof id, "_lease-%s%06lld", prefix.c_str(), static_cast<long long>(first));
  TUPHAP_RETURN_IF_ERROR(node_
                             .CreateRecordIn(*session, id, "number_lease", commune,
                                             {{"holder", crdt::Value::String(holder_hex)},
                                              {"register", crdt::Value::String(std::string(reg))},
                                              {"year", crdt::Value::Int(year)},
                                              {"first", crdt::Value::Int(first)},
                                              {"last", crdt::Value::Int(last)}},
                                             "register numbers leased")
                             .status());
  TUPHAP_RETURN_IF_ERROR(session->Commit());
  return first;
}

}  // namespace tuphap::domain
