#include "replication/change_codec.h"

#include <algorithm>
#include <set>

#include "base/json.h"

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
      if (r.ok()) {
        // A JSON value must be one well-formed JSON text. Its bytes are the
        // value: a writer must put them in canonical form (RFC 8785), but a
        // receiver keeps signed text it can read as it came (envelope.md).
        JsonParseError err;
        if (!ParseJson(data, &err, kJsonValueLimits))
          r.Fail("a JSON value is not JSON (" + err.message + " at its byte " +
                 std::to_string(err.offset) + ")");
      }
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
  w.ArrayHeader(4);
  w.Str(change.officer);
  w.Str(change.reason);
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
  r.ExpectArray(4);
  change->officer = std::string(r.ReadStr(limits.max_officer_bytes));
  change->reason = std::string(r.ReadStr(limits.max_reason_bytes));
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
  TUPHAP_RETURN_IF_ERROR(change->CheckShape());
  // One change, one byte form: anything the encoder would write differently
  // (an unused, repeated or reordered origin entry) is refused.
  if (EncodeChangeBody(*change) != body) {
    return Status::InvalidArgument("change body is not in canonical form")
        .WithReason("E_FRAME_MALFORMED");
  }
  return Status::Ok();
}

Status CheckJsonValue(std::string_view record_id, std::string_view field, std::string_view text) {
  const std::string where = std::string(record_id) + " " + std::string(field);
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("the value of " + where + " " + what).WithReason("E_JSON_VALUE");
  };
  JsonParseError err;
  const std::optional<Json> parsed = ParseJson(text, &err, kJsonValueLimits);
  if (!parsed) {
    return bad("is not JSON: " + err.message + " at its byte " + std::to_string(err.offset));
  }
  Result<std::string> canonical = parsed->DumpCanonical();
  if (!canonical.ok()) return bad("has no canonical JSON form: " + canonical.status().message());
  if (*canonical != text) {
    return bad("is not in canonical JSON form (RFC 8785); it would be written " +
               canonical->substr(0, 80));
  }
  // Nodes before the canonical form read a JSON value only when their own
  // writer gives back its exact bytes; they differ only for numbers whose
  // shortest text is exponential in one form and not the other (0.0001 is
  // 1e-04 there, 1e20 is 1e+20), which no valid record holds. Not
  // writing those keeps every older replica reading every change
  // (docs/envelope.md, JSON values).
  if (parsed->Dump() != text) {
    return bad("holds a number that nodes of an older version write differently (" +
               std::string(text.substr(0, 80)) + "): write it as text");
  }
  return Status::Ok();
}

Status CheckLimits(const crdt::Change& change, const Limits& limits) {
  auto over = [](const std::string& what) {
    return Status::InvalidArgument(what).WithReason("E_LIMIT");
  };
  if (change.officer.size() > limits.max_officer_bytes) {
    return over("the officer name is longer than " + std::to_string(limits.max_officer_bytes) +
                " bytes");
  }
  if (change.reason.size() > limits.max_reason_bytes) {
    return over("the reason is longer than " + std::to_string(limits.max_reason_bytes) + " bytes");
  }
  if (change.records.size() > limits.max_records_per_change)
    return over("too many records in one change");
  if (change.OpCount() > limits.max_ops_per_change) return over("too many ops in one change");
  std::set<crdt::ReplicaId> origins;
  for (const auto& r : change.records) {
    if (r.record_id.size() > limits.max_record_id_bytes) {
      return over("record id '" + r.record_id.substr(0, 40) + "...' is longer than " +
                  std::to_string(limits.max_record_id_bytes) + " bytes");
    }
    for (const auto& op : r.ops) {
      if (op.field.size() > limits.max_field_bytes) {
        return over("field name '" + op.field.substr(0, 40) + "...' is longer than " +
                    std::to_string(limits.max_field_bytes) + " bytes");
      }
      if (op.value.text().size() > limits.max_value_bytes) {
        return over("the value of " + op.field + " is longer than " +
                    std::to_string(limits.max_value_bytes) + " bytes");
      }
      if (op.value.kind() == crdt::Value::Kind::kJson)
        TUPHAP_RETURN_IF_ERROR(CheckJsonValue(r.record_id, op.field, op.value.text()));
      if (op.pred.size() > limits.max_pred_per_op) return over("too many preds on " + op.field);
      for (const auto& d : op.pred) origins.insert(d.origin);
    }
  }
  if (origins.size() > limits.max_origins_per_change) return over("preds name too many origins");
  return Status::Ok();
}

}  // namespace tuphap::replication
