#include "replication/change_codec.h"

#include <algorithm>

namespace tuphap::replication {

void WriteValue(MsgpackWriter& w, const crdt::Value& v) {
  switch (v.kind()) {
    case crdt::Value::Kind::kNull:
      w.Nil();
      break;
    case crdt::Value::Kind::kBool:
      w.Bool(v.as_bool());
      break;
    case crdt::Value::Kind::kInt:
      w.Int(v.as_int());
      break;
    case crdt::Value::Kind::kString:
      w.Str(v.text());
      break;
    case crdt::Value::Kind::kJson:
      w.Ext(kJsonExtType, v.text());
      break;
  }
}

crdt::Value ReadValue(MsgpackReader& r, size_t max_bytes) {
  switch (r.PeekType()) {
    case MsgpackReader::Type::kNil:
      r.ReadNil();
      return crdt::Value::Null();
    case MsgpackReader::Type::kBool:
      return crdt::Value::Bool(r.ReadBool());
    case MsgpackReader::Type::kInt:
      return crdt::Value::Int(r.ReadInt());
    case MsgpackReader::Type::kStr:
      return crdt::Value::String(std::string(r.ReadStr(max_bytes)));
    case MsgpackReader::Type::kExt: {
      int8_t type = 0;
      std::string_view data = r.ReadExt(&type, max_bytes);
      if (r.ok() && type != kJsonExtType) r.Fail("unknown value extension type");
      return crdt::Value::JsonText(std::string(data));
    }
    default:
      r.Fail("a field value must be nil, bool, int, str or JSON");
      return {};
  }
}

std::string EncodeChangeBody(const crdt::Change& change) {
  std::vector<const crdt::ReplicaId*> origins;
  auto origin_index = [&](const crdt::ReplicaId& id) -> uint64_t {
    for (size_t i = 0; i < origins.size(); ++i) {
      if (*origins[i] == id) return i;
    }
    origins.push_back(&id);
    return origins.size() - 1;
  };
  // Two passes: the origin table comes first in the encoding.
  for (const auto& r : change.records) {
    for (const auto& op : r.ops) {
      for (const auto& d : op.pred) origin_index(d.origin);
    }
  }
  MsgpackWriter w(256 + change.OpCount() * 48);
  w.ArrayHeader(3);
  w.Str(change.officer);
  w.ArrayHeader(static_cast<uint32_t>(origins.size()));
  for (const auto* o : origins) w.Bin(o->bytes);
  w.ArrayHeader(static_cast<uint32_t>(change.records.size()));
  for (const auto& r : change.records) {
    w.ArrayHeader(2);
    w.Str(r.record_id);
    w.ArrayHeader(static_cast<uint32_t>(r.ops.size()));
    for (const auto& op : r.ops) {
      w.ArrayHeader(3);
      w.Str(op.field);
      WriteValue(w, op.value);
      w.ArrayHeader(static_cast<uint32_t>(op.pred.size()));
      for (const auto& d : op.pred) {
        w.ArrayHeader(3);
        w.Uint(origin_index(d.origin));
        w.Uint(d.seq);
        w.Uint(d.index);
      }
    }
  }
  return w.Take();
}

Status DecodeChangeBody(std::string_view body, const Limits& limits, crdt::Change* change) {
  MsgpackReader r(body);
  r.ExpectArray(3);
  change->officer = std::string(r.ReadStr(limits.max_officer_bytes));
  const uint32_t n_origins = r.ReadArrayHeader(limits.max_origins_per_change);
  std::vector<crdt::ReplicaId> origins(n_origins);
  for (auto& o : origins) r.ReadBinFixed(o.bytes);
  const uint32_t n_records = r.ReadArrayHeader(limits.max_records_per_change);
  change->records.clear();
  change->records.reserve(n_records);
  uint64_t total_ops = 0;
  for (uint32_t i = 0; i < n_records && r.ok(); ++i) {
    crdt::RecordOps rec;
    r.ExpectArray(2);
    rec.record_id = std::string(r.ReadStr(limits.max_record_id_bytes));
    const uint32_t n_ops = r.ReadArrayHeader(limits.max_ops_per_change);
    total_ops += n_ops;
    if (total_ops > limits.max_ops_per_change) r.Fail("too many ops in one change");
    rec.ops.reserve(n_ops);
    for (uint32_t j = 0; j < n_ops && r.ok(); ++j) {
      crdt::Op op;
      r.ExpectArray(3);
      op.field = std::string(r.ReadStr(limits.max_field_bytes));
      op.value = ReadValue(r, limits.max_value_bytes);
      const uint32_t n_pred = r.ReadArrayHeader(limits.max_pred_per_op);
      op.pred.reserve(n_pred);
      for (uint32_t k = 0; k < n_pred && r.ok(); ++k) {
        r.ExpectArray(3);
        const uint64_t oi = r.ReadUint();
        crdt::Dot d;
        d.seq = r.ReadUint();
        const uint64_t index = r.ReadUint();
        if (r.ok() && (oi >= origins.size() || index > UINT32_MAX)) r.Fail("pred dot out of range");
        if (!r.ok()) break;
        d.origin = origins[oi];
        d.index = static_cast<uint32_t>(index);
        op.pred.push_back(d);
      }
      rec.ops.push_back(std::move(op));
    }
    change->records.push_back(std::move(rec));
  }
  r.ExpectEnd();
  TUPHAP_RETURN_IF_ERROR(r.status());
  return change->CheckShape();
}

}  // namespace tuphap::replication
