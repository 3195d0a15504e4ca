#include "cli/format.h"

#include <ostream>

#include "base/utf8.h"
#include "cli/context.h"
#include "crdt/change.h"
#include "node/domain/catalogue.h"
#include "node/keys.h"
#include "node/node.h"

namespace tuphap::cli {

Json ValueToJson(const crdt::Value& v) {
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

std::string ShortNodeId(const crdt::ReplicaId& id) { return node::NodeIdText(id.bytes); }

std::string RecordTypeText(domain::Lang lang, std::string_view type) {
  return domain::TrCtx(lang, "record type", type);
}

std::string PersonRoleText(domain::Lang lang, std::string_view role) {
  return domain::TrCtx(lang, "person role", role);
}

std::string FieldText(domain::Lang lang, std::string_view path) {
  if (path == crdt::kTypeField) return domain::Tr(lang, "record type");
  if (path == crdt::kRevokedField) return domain::Tr(lang, "revocation");
  return domain::FieldLabel(lang, path);
}

std::string PersonDay(std::string_view iso) {
  auto digits = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i)
      if (i >= iso.size() || iso[i] < '0' || iso[i] > '9') return false;
    return true;
  };
  if (iso.size() != 10 || !digits(0, 4) || iso[4] != '-' || !digits(5, 2) || iso[7] != '-' ||
      !digits(8, 2))
    return std::string(iso);
  return std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" +
         std::string(iso.substr(0, 4));
}

Json EntryToJson(const Context& ctx, const node::EntryView& e) {
  Json j = Json::MakeObject();
  j.Set("value", ValueToJson(e.value));
  j.Set("origin", ShortNodeId(e.origin));
  j.Set("officer", e.officer);
  j.Set("sealed", e.sealed);
  ctx.SetHlc(&j, "hlc", e.hlc);
  j.Set("seq", static_cast<int64_t>(e.seq));
  return j;
}

std::string OfficerText(std::string_view officer, bool sealed, domain::Lang lang) {
  if (sealed) return domain::Tr(lang, "(encrypted)");
  return officer.empty() ? "-" : std::string(officer);
}

std::string OfficerText(const node::EntryView& e, domain::Lang lang) {
  return OfficerText(e.officer, e.sealed, lang);
}

Json EntriesToJson(const Context& ctx, const std::vector<node::EntryView>& entries) {
  Json list = Json::MakeArray();
  for (const auto& e : entries) list.Push(EntryToJson(ctx, e));
  return list;
}

size_t DisplayWidth(std::string_view s) {
  if (!IsValidUtf8(s)) return s.size();
  size_t width = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t cp = NextCodePoint(s, &pos);
    const bool combining = (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
                           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
                           cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0xFEFF;
    if (!combining) ++width;
  }
  return width;
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  print(header_);
  for (const auto& r : rows_) print(r);
}

}  // namespace tuphap::cli
