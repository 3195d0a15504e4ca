// What the commune's pages share (pages_commune*.cc): field labels from
// the schema paths, values written for people, the register reference of a
// record, and the record forms generated from the schemas.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/domain/schema.h"
#include "web/html.h"
#include "web/webapp.h"

namespace tuphap::web {

// "data.child.full_name" -> "Họ, chữ đệm và tên (Trẻ)": the last segment's
// label (field.<type>.<segment> first, then field.<segment>) and its
// block's, in the officer's language.
std::string FieldLabel(const PageCtx& c, std::string_view type, std::string_view path);
// The last segment's label alone ("Họ, chữ đệm và tên"), under a heading
// that names the block.
std::string ShortLabel(const PageCtx& c, std::string_view type, std::string_view path);
// An enum value for people ("M" -> "Nam"); the value itself when unknown.
std::string ChoiceLabel(const PageCtx& c, std::string_view path, std::string_view value);
// "birth" -> "Khai sinh".
std::string TypeLabel(const PageCtx& c, std::string_view type);
// The input id of a field: "f_" + path with '.' as '_'.
std::string FieldId(std::string_view path);
// A stored value (as crdt::Value::ToDisplay gives it) for people: dates
// dd/mm/yyyy, enums by label, money with its unit, lists one per line.
std::string DisplayValue(const PageCtx& c, const domain::FieldSpec* spec, std::string_view path,
                         const std::string& value);
// The register reference of a record id "22333-KS-2026-000012":
// "KS 2026/000012"; "" when the id is not one.
std::string RegisterRef(std::string_view record_id);
// The winning value of a field of a record, "" when it has none.
std::string Winner(const store::RecordView& r, std::string_view field);
// The schema a stored record was checked against (its type and variant).
const domain::TypeSchema* SchemaOf(const store::RecordView& r);
// The person names of a record (its schema's name paths), joined by "; ".
std::string NamesOf(const store::RecordView& r);
// The record's registration (or decision) date, YYYY-MM-DD.
std::string DateOf(const store::RecordView& r);

// A record form: values and messages by field path.
struct FormState {
  std::map<std::string, std::string> values;  // as typed (dates dd/mm/yyyy)
  std::map<std::string, std::string> errors;
};
// Whether a schema field is one the officer fills in a form (the header and
// the fields that select the variant are the server's).
bool OfficerField(const domain::FieldSpec& f);
// The inputs of `schema`'s officer fields, in schema order, a fieldset per
// block; `type` for the labels.
void RenderFields(Html& h, const PageCtx& c, const domain::TypeSchema& schema,
                  const FormState& state);
// A form's text for a field read as the field's kind, as the CLI's --field
// does (dates dd/mm/yyyy to YYYY-MM-DD; money with dots; lists one per
// line). False with `*error` set when the text cannot be one (a date that
// is not dd/mm/yyyy).
bool FormValue(const PageCtx& c, const domain::FieldSpec& f, const std::string& text,
               std::string* out, std::string* error);
// The inverse, for amend forms: a stored value as the form shows it.
std::string FormText(const domain::FieldSpec& f, const std::string& stored);

// A domain message for people: the field paths it names ("data.child.
// birth_date") as their labels.
std::string Humanize(const PageCtx& c, std::string_view type, std::string_view message);
// A message shown at `field`: without a leading "field: " and humanized.
std::string FieldMessage(const PageCtx& c, std::string_view type, std::string_view field,
                         std::string_view message);
// The field a refusal names ("data.child.birth_date: ...") and its sentence.
std::pair<std::string, std::string> SplitRefusal(std::string_view message);

// Routes of each part.
void AddRegisterPages(std::vector<Route>* routes);
void AddRecordPages(std::vector<Route>* routes);

}  // namespace tuphap::web
