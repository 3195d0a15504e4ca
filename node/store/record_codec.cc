#include "node/store/record_codec.h"

#include <algorithm>
#include <map>

#include "replication/change_codec.h"
#include "replication/msgpack.h"

namespace tuphap::store {

using replication::MsgpackReader;
using replication::MsgpackWriter;

std::string EncodeRecordBlob(const crdt::RecordState& state, const std::vector<ChangeRef>& history,
                             const OriginMap& origins) {
  MsgpackWriter w(512);
  w.ArrayHeader(3);
  w.Uint(1);
  w.ArrayHeader(static_cast<uint32_t>(history.size()));
  // (origin, seq) -> position in history, for the entries below.
  std::map<std::pair<crdt::ReplicaId, uint64_t>, uint64_t> position;
  for (size_t i = 0; i < history.size(); ++i) {
    const ChangeRef& c = history[i];
    w.ArrayHeader(3);
    w.Uint(static_cast<uint64_t>(origins.to_id(c.origin)));
    w.Uint(c.seq);
    w.Uint(c.hlc.raw());
    position.emplace(std::make_pair(c.origin, c.seq), i);
  }
  w.ArrayHeader(static_cast<uint32_t>(state.fields().size()));
  for (const auto& [name, reg] : state.fields()) {
    w.ArrayHeader(2);
    w.Str(name);
    w.ArrayHeader(static_cast<uint32_t>(reg.entries().size()));
    for (const auto& e : reg.entries()) {
      w.ArrayHeader(3);
      w.Uint(position.at({e.dot.origin, e.dot.seq}));
      w.Uint(e.dot.index);
      replication::WriteValue(w, e.value);
    }
  }
  return w.Take();
}

Status DecodeRecordBlob(std::string_view blob, const OriginMap& origins, crdt::RecordState* state,
                        std::vector<ChangeRef>* history) {
  MsgpackReader r(blob);
  r.ExpectArray(3);
  if (r.ReadUint() != 1 && r.ok()) r.Fail("unknown record blob version");
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
  *state = crdt::RecordState();
  const uint32_t n_fields = r.ReadArrayHeader();
  for (uint32_t i = 0; i < n_fields && r.ok(); ++i) {
    r.ExpectArray(2);
    crdt::MvRegister& reg = state->MutableField(std::string(r.ReadStr()));
    const uint32_t n_entries = r.ReadArrayHeader();
    for (uint32_t j = 0; j < n_entries && r.ok(); ++j) {
      r.ExpectArray(3);
      const uint64_t pos = r.ReadUint();
      const uint64_t index = r.ReadUint();
      crdt::Value value = replication::ReadValue(r, SIZE_MAX);
      if (r.ok() && (pos >= history->size() || index > UINT32_MAX))
        r.Fail("entry refers to no change");
      if (!r.ok()) break;
      const ChangeRef& c = (*history)[pos];
      reg.InsertStored(
          {crdt::Dot{c.origin, c.seq, static_cast<uint32_t>(index)}, c.hlc, std::move(value)});
    }
  }
  r.ExpectEnd();
  if (!r.ok()) {
    return Status::Corruption("a stored record cannot be read: " + r.status().message())
        .WithReason("E_STORE_CORRUPT");
  }
  return Status::Ok();
}

replication::Hash RecordStateHash(std::string_view record_id, std::string_view scope,
                                  const crdt::RecordState& state) {
  MsgpackWriter w(512);
  w.ArrayHeader(3);
  w.Str(record_id);
  w.Str(scope);
  w.ArrayHeader(static_cast<uint32_t>(state.fields().size()));
  for (const auto& [name, reg] : state.fields()) {
    w.ArrayHeader(2);
    w.Str(name);
    w.ArrayHeader(static_cast<uint32_t>(reg.entries().size()));
    for (const auto& e : reg.entries()) {
      w.ArrayHeader(5);
      w.Bin(e.dot.origin.bytes);
      w.Uint(e.dot.seq);
      w.Uint(e.dot.index);
      w.Uint(e.hlc.raw());
      replication::WriteValue(w, e.value);
    }
  }
  return replication::Blake2b256(w.bytes());
}

}  // namespace tuphap::store
