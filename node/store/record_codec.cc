#include "node/store/record_codec.h"

#include <algorithm>

#include "replication/change_codec.h"
#include "replication/msgpack.h"

namespace tuphap::store {

using replication::MsgpackReader;
using replication::MsgpackWriter;

namespace {

// The changes the frontier's entries come from, sorted by (origin, seq):
// entries name them by position, so a record created by one change repeats
// no origin, seq or time per field.
struct Source {
  const crdt::ReplicaId* origin;
  uint64_t seq;
  crdt::Hlc hlc;
};

void WriteState(MsgpackWriter& w, std::string_view record_id, std::string_view scope,
                const crdt::RecordState& state) {
  std::vector<Source> sources;
  auto same = [](const Source& s, const crdt::Dot& d) {
    return s.seq == d.seq && *s.origin == d.origin;
  };
  for (const auto& [name, reg] : state.fields()) {
    for (const auto& e : reg.entries()) {
      if (!sources.empty() && same(sources.back(), e.dot)) continue;
      if (std::none_of(sources.begin(), sources.end(),
                       [&](const Source& s) { return same(s, e.dot); })) {
        sources.push_back(Source{&e.dot.origin, e.dot.seq, e.hlc});
      }
    }
  }
  auto order = [](const Source& a, const Source& b) {
    return *a.origin != *b.origin ? *a.origin < *b.origin : a.seq < b.seq;
  };
  std::sort(sources.begin(), sources.end(), order);
  w.ArrayHeader(4);
  w.Str(record_id);
  w.Str(scope);
  w.ArrayHeader(static_cast<uint32_t>(sources.size()));
  for (const Source& s : sources) {
    w.ArrayHeader(3);
    w.Bin(s.origin->bytes);
    w.Uint(s.seq);
    w.Uint(s.hlc.raw());
  }
  size_t last = 0;
  auto index_of = [&](const crdt::Dot& d) -> uint64_t {
    if (last < sources.size() && same(sources[last], d)) return last;
    const Source key{&d.origin, d.seq, {}};
    last = static_cast<size_t>(std::lower_bound(sources.begin(), sources.end(), key, order) -
                               sources.begin());
    return last;
  };
  w.ArrayHeader(static_cast<uint32_t>(state.fields().size()));
  for (const auto& [name, reg] : state.fields()) {
    w.ArrayHeader(2);
    w.Str(name);
    w.ArrayHeader(static_cast<uint32_t>(reg.entries().size()));
    for (const auto& e : reg.entries()) {
      w.ArrayHeader(3);
      w.Uint(index_of(e.dot));
      w.Uint(e.dot.index);
      replication::WriteValue(w, e.value);
    }
  }
}

}  // namespace

EncodedRecord EncodeRecord(std::string_view record_id, std::string_view scope,
                           const crdt::RecordState& state, const std::vector<ChangeRef>& history,
                           const OriginMap& origins) {
  MsgpackWriter w(2048);
  w.ArrayHeader(3);
  w.Uint(1);
  const size_t start = w.bytes().size();
  WriteState(w, record_id, scope, state);
  EncodedRecord out;
  out.state_hash = replication::Blake2b256(std::string_view(w.bytes()).substr(start));
  w.ArrayHeader(static_cast<uint32_t>(history.size()));
  for (const ChangeRef& c : history) {
    w.ArrayHeader(3);
    w.Uint(static_cast<uint64_t>(origins.to_id(c.origin)));
    w.Uint(c.seq);
    w.Uint(c.hlc.raw());
  }
  out.blob = w.Take();
  return out;
}

bool StateBytesOfBlob(std::string_view blob, std::string_view* state) {
  MsgpackReader r(blob);
  r.ExpectArray(3);
  r.ReadUint();
  const size_t start = r.position();
  r.Skip(64);
  if (!r.ok()) return false;
  *state = blob.substr(start, r.position() - start);
  return true;
}

replication::Hash RecordStateHash(std::string_view record_id, std::string_view scope,
                                  const crdt::RecordState& state) {
  thread_local MsgpackWriter w(4096);  // reused: the buffer keeps its capacity
  w.Clear();
  WriteState(w, record_id, scope, state);
  return replication::Blake2b256(w.bytes());
}

Status DecodeRecordBlob(std::string_view blob, const OriginMap& origins, crdt::RecordState* state,
                        std::vector<ChangeRef>* history) {
  MsgpackReader r(blob);
  r.ExpectArray(3);
  if (r.ReadUint() != 1 && r.ok()) r.Fail("unknown record blob version");
  r.ExpectArray(4);
  r.ReadStr();  // record id and scope: also columns of the row
  r.ReadStr();
  struct Src {
    crdt::ReplicaId origin;
    uint64_t seq;
    crdt::Hlc hlc;
  };
  const uint32_t n_sources = r.ReadArrayHeader();
  std::vector<Src> sources(n_sources);
  for (auto& src : sources) {
    r.ExpectArray(3);
    r.ReadBinFixed(src.origin.bytes);
    src.seq = r.ReadUint();
    src.hlc = crdt::Hlc::FromRaw(r.ReadUint());
  }
  *state = crdt::RecordState();
  const uint32_t n_fields = r.ReadArrayHeader();
  for (uint32_t i = 0; i < n_fields && r.ok(); ++i) {
    r.ExpectArray(2);
    crdt::MvRegister& reg = state->MutableField(r.ReadStr());
    const uint32_t n_entries = r.ReadArrayHeader();
    for (uint32_t j = 0; j < n_entries && r.ok(); ++j) {
      r.ExpectArray(3);
      const uint64_t si = r.ReadUint();
      const uint64_t index = r.ReadUint();
      crdt::Value value = replication::ReadValue(r, SIZE_MAX);
      if (r.ok() && (si >= sources.size() || index > UINT32_MAX))
        r.Fail("entry refers to no change");
      if (!r.ok()) break;
      const Src& src = sources[si];
      reg.InsertStored({crdt::Dot{src.origin, src.seq, static_cast<uint32_t>(index)}, src.hlc,
                        std::move(value)});
    }
  }
  const uint32_t n_changes = r.ReadArrayHeader();
  history->clear();
  history->reserve(n_changes);
  for (uint32_t i = 0; i < n_changes && r.ok(); ++i) {
    r.ExpectArray(3);
    const uint64_t origin_id = r.ReadUint();
    ChangeRef c;
    c.seq = r.ReadUint();
    c.hlc = crdt::Hlc::FromRaw(r.ReadUint());
    const crdt::ReplicaId* key = origins.to_key(static_cast<int64_t>(origin_id));
    if (r.ok() && key == nullptr) r.Fail("unknown origin id " + std::to_string(origin_id));
    if (!r.ok()) break;
    c.origin = *key;
    history->push_back(c);
  }
  r.ExpectEnd();
  if (!r.ok()) {
    return Status::Corruption("a stored record cannot be read: " + r.status().message())
        .WithReason("E_STORE_CORRUPT");
  }
  return Status::Ok();
}

}  // namespace tuphap::store
