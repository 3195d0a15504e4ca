// Between a record's JSON document (a create line without its line-only
// keys) and its fields in the store: one field per leaf, named by its dot
// path; objects nest, lists are kept whole as canonical JSON text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "crdt/record_state.h"
#include "crdt/value.h"

namespace tuphap::domain {

// The node at a dot path, or nullptr.
const Json* JsonAt(const Json& doc, std::string_view path);
// Sets the node at a dot path, creating objects on the way (replacing
// non-objects). `doc` must be an object.
void SetJsonAt(Json* doc, std::string_view path, Json value);

crdt::Value ToValue(const Json& j);
Json FromValue(const crdt::Value& v);

// Leaf fields of a record document, skipping the line-only keys (seq, op,
// schema, type, record_id, expect_*). Empty objects are leaves (an empty
// object value), so nothing in a document is lost.
std::vector<std::pair<std::string, crdt::Value>> Flatten(const Json& doc);
// The record as a document of its display values (reserved $ fields left out).
Json Unflatten(const crdt::RecordState& state);

}  // namespace tuphap::domain
