#include "node/domain/record_json.h"

#include "node/domain/schema.h"

namespace tuphap::domain {
namespace {

// `path` is one buffer extended and cut back while walking: only the
// leaves' own names are allocated.
void FlattenInto(const Json& node, std::string* path,
                 std::vector<std::pair<std::string, crdt::Value>>* out) {
  if (node.is_object() && !node.as_object().empty()) {
    const size_t mark = path->size();
    for (const auto& [k, v] : node.as_object()) {
      if (mark == 0 && IsLineOnlyKey(k)) continue;
      if (mark != 0) path->push_back('.');
      path->append(k);
      FlattenInto(v, path, out);
      path->resize(mark);
    }
    return;
  }
  if (!path->empty()) out->emplace_back(*path, ToValue(node));
}

}  // namespace

const Json* JsonAt(const Json& doc, std::string_view path) {
  const Json* cur = &doc;
  size_t start = 0;
  while (cur != nullptr) {
    const size_t dot = path.find('.', start);
    cur = cur->Find(
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return cur;
    start = dot + 1;
  }
  return nullptr;
}

void SetJsonAt(Json* doc, std::string_view path, Json value) {
  Json* cur = doc;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key(
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) {
      cur->Set(key, std::move(value));
      return;
    }
    Json* next = cur->Find(key);
    if (next == nullptr || !next->is_object()) next = &cur->Set(key, Json::MakeObject());
    cur = next;
    start = dot + 1;
  }
}

crdt::Value ToValue(const Json& j) {
  switch (j.type()) {
    case Json::Type::kNull:
      return crdt::Value::Null();
    case Json::Type::kBool:
      return crdt::Value::Bool(j.as_bool());
    case Json::Type::kInt:
      return crdt::Value::Int(j.as_int());
    case Json::Type::kString:
      return crdt::Value::String(j.as_string());
    default: {
      // Lists, empty objects, non-integers: canonical JSON (RFC 8785), the
      // form a change carries. Without one (an integer beyond 2^53), the
      // plain text, which the change's checks then refuse with the reason.
      auto canonical = j.DumpCanonical();
      return crdt::Value::JsonText(canonical.ok() ? std::move(*canonical) : j.Dump());
    }
  }
}

Json FromValue(const crdt::Value& v) {
  switch (v.kind()) {
    case crdt::Value::Kind::kNull:
      return Json();
    case crdt::Value::Kind::kBool:
      return Json(v.as_bool());
    case crdt::Value::Kind::kInt:
      return Json(v.as_int());
    case crdt::Value::Kind::kString:
      return Json(v.text());
    case crdt::Value::Kind::kJson: {
      auto parsed = ParseJson(v.text(), nullptr);
      return parsed ? *parsed : Json(v.text());
    }
  }
  return Json();
}

std::vector<std::pair<std::string, crdt::Value>> Flatten(const Json& doc) {
  std::vector<std::pair<std::string, crdt::Value>> out;
  out.reserve(64);
  std::string path;
  path.reserve(64);
  FlattenInto(doc, &path, &out);
  return out;
}

Json Unflatten(const crdt::RecordState& state) {
  Json doc = Json::MakeObject();
  for (const auto& [name, reg] : state.fields()) {
    if (name.starts_with('$') || reg.Winner() == nullptr) continue;
    SetJsonAt(&doc, name, FromValue(reg.Winner()->value));
  }
  return doc;
}

}  // namespace tuphap::domain
