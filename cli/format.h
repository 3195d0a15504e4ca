// Output helpers shared by commands: values as JSON, node ids as text, and
// aligned tables whose columns line up for Vietnamese text (width counts
// what a terminal shows: combining marks take no column).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "crdt/replica_id.h"
#include "crdt/value.h"
#include "node/domain/messages.h"

namespace tuphap::node {
struct EntryView;
}

namespace tuphap::cli {

struct Context;

Json ValueToJson(const crdt::Value& v);
// One competing value of a field, the same in every command's JSON:
// {"value", "origin" (node id text), "officer", "sealed", "hlc", "seq"};
// "sealed" true (and "officer" "") when its change did not open here.
Json EntryToJson(const Context& ctx, const node::EntryView& e);
// Who wrote a value, the same in every command's text: the officer, or
// "(encrypted)" / "(mã hoá)" when the change did not open here (the keys
// are locked: no passphrase, or a wrong one), "-" when none was recorded.
std::string OfficerText(const node::EntryView& e, domain::Lang lang);
std::string OfficerText(std::string_view officer, bool sealed, domain::Lang lang);
// A field's values, display winner first.
Json EntriesToJson(const Context& ctx, const std::vector<node::EntryView>& entries);
// What people read for a record type ("birth": "Khai sinh"), a person's
// role in a record ("child": "Trẻ") and a field path ("data.child.sex":
// "Nội dung › Trẻ › Giới tính (data.child.sex)"; the reserved $type and
// $revoked by name) in `lang`. Record types and roles come from po/vi.po
// (msgctxt "record type" / "person role", the record types worded as the
// web app's catalogue names them); field labels from the web app's
// catalogue (domain::FieldLabel). English shows the codes as they are.
std::string RecordTypeText(domain::Lang lang, std::string_view type);
std::string PersonRoleText(domain::Lang lang, std::string_view role);
std::string FieldText(domain::Lang lang, std::string_view path);
// A calendar date ("2026-12-05") in the one form people read:
// "05/12/2026"; anything else as it is.
std::string PersonDay(std::string_view iso);
// A short form of a node id for tables.
std::string ShortNodeId(const crdt::ReplicaId& id);
// Terminal columns taken by UTF-8 text.
size_t DisplayWidth(std::string_view s);

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace tuphap::cli
