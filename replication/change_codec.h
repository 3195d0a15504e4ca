// Canonical msgpack encoding of a change's body (its officer and ops); the
// header fields (origin, scope, seq, hlc) travel in the envelope header.
// Layout (docs/envelope.md has the byte-level spec):
//   body   = [officer: str, reason: str, origins: [bin32...], records: [record...]]
//   record = [record_id: str, ops: [op...]]
//   op     = [field: str, value, pred: [[origin_index, seq, index]...]]
//   value  = nil | bool | int | str | ext 1 (JSON text)
// A JSON value is written in RFC 8785 canonical form (Json::DumpCanonical);
// a decoder accepts any well-formed JSON text there and keeps its bytes.
// `origins` lists the distinct origins named by preds, in first-use order.
#pragma once

#include <string>
#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "crdt/change.h"
#include "replication/limits.h"
#include "replication/msgpack.h"

namespace tuphap::replication {

inline constexpr int8_t kJsonExtType = 1;
// Nesting of a JSON value: at most 8 arrays or objects deep.
inline constexpr JsonLimits kJsonValueLimits{8};

void WriteValue(MsgpackWriter& w, const crdt::Value& v);
crdt::Value ReadValue(MsgpackReader& r, size_t max_bytes);

std::string EncodeChangeBody(const crdt::Change& change);
// Fills officer, reason and records; the header fields must already be set.
// InvalidArgument on bad input: E_FRAME_MALFORMED (not canonical msgpack,
// over a limit, or not the one byte form of its change) or E_CHANGE_SHAPE
// (decodes but breaks Change::CheckShape).
Status DecodeChangeBody(std::string_view body, const Limits& limits, crdt::Change* change);

// The limits a decoder enforces, checked on a change before it is written,
// so a node never writes what it or its peers would refuse (E_LIMIT), and
// the writer's rule for JSON values (CheckJsonValue).
Status CheckLimits(const crdt::Change& change, const Limits& limits);

// A JSON value as a writer must write it: JSON text within
// kJsonValueLimits, in canonical form (RFC 8785). InvalidArgument
// (E_JSON_VALUE) otherwise, naming the record and field.
Status CheckJsonValue(std::string_view record_id, std::string_view field, std::string_view text);

}  // namespace tuphap::replication
