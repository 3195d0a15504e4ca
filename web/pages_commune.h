// What the commune's pages share (pages_commune*.cc): field labels from
// the schema paths, values written for people, the register reference of a
// record, and the record forms generated from the schemas.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
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
// A link to a record's page that shows its register reference (the id when
// it has none): the commune pages and the hub console alike.
std::string RecordLink(const std::string& id);
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
  // The errors standing alone, for the summary (NamedFieldMessage); a field
  // without one is listed as "label: error".
  std::map<std::string, std::string> named;
  // What looks wrong but the law does not forbid: said, never refused.
  std::map<std::string, std::string> warnings;
};
// Whether a schema field is one the officer fills in a form (the header and
// the fields that select the variant are the server's).
bool OfficerField(const domain::FieldSpec& f);
// The value the schema's rules leave no choice for ("M" for a husband's
// sex: RuleKind::kSexIs); "" when the officer chooses.
std::string ImpliedValue(const domain::TypeSchema& schema, std::string_view path);
// The inputs of `schema`'s officer fields, a fieldset per block, in schema
// order but for a person's full name, which follows its parts; fields with
// an implied value hidden. `new_record`: a registration form, which leaves
// out what only a later event writes (a marriage's dissolution).
void RenderFields(Html& h, const PageCtx& c, const domain::TypeSchema& schema,
                  const FormState& state, bool new_record);
// What a new form starts with: the registration date, the officer's name as
// registrar, ethnicity Kinh and nationality Việt Nam for the people the
// record must name.
void FormDefaults(const PageCtx& c, const domain::TypeSchema& schema, FormState* state);
// A full name left empty but whose parts were typed: the parts joined, as
// the form's script fills it (`values` as typed).
void FillFullNames(const domain::TypeSchema& schema, std::map<std::string, std::string>* values);
// Warnings on a draft record (its fields as a create line): a parent
// younger than 12 at the child's birth. The law states no minimum age for
// a parent (DOMAIN.md), so this is a hint to check the years, not a rule.
std::map<std::string, std::string> DraftWarnings(const PageCtx& c, const domain::TypeSchema& schema,
                                                 const Json& doc);
// The summary of a refused form: `heading`, then one linked line per field
// message in `state.errors` (schema order), then `other` (a refusal no
// field carries). Element #form-error.
void FormErrorSummary(Html& h, const PageCtx& c, const domain::TypeSchema& schema,
                      const FormState& state, std::string_view heading, const std::string& other);
// A form's text for a field read as the field's kind, as the CLI's --field
// does (dates dd/mm/yyyy to YYYY-MM-DD; money with dots; lists one per
// line). False with `*error` set when the text cannot be one (a date that
// is not dd/mm/yyyy).
bool FormValue(const PageCtx& c, const domain::FieldSpec& f, const std::string& text,
               std::string* out, std::string* error);
// The inverse, for amend forms: a stored value as the form shows it.
std::string FormText(const domain::FieldSpec& f, const std::string& stored);

// A domain message for people: the field paths it names ("data.child.
// birth_date") as their labels, dates dd/mm/yyyy, sex codes as words, a
// capital first and a full stop at the end. The domain's words stay the
// domain's (import and the CLI print them as they are).
std::string Humanize(const PageCtx& c, std::string_view type, std::string_view message);
// A message shown at `field`, under its label: without the leading
// "field: " and without naming the field again.
std::string FieldMessage(const PageCtx& c, std::string_view type, std::string_view field,
                         std::string_view message);
// The same message standing alone (a summary line): the field's label once,
// then what is wrong.
std::string NamedFieldMessage(const PageCtx& c, std::string_view type, std::string_view field,
                              std::string_view message);
// The field a refusal names ("data.child.birth_date: ...") and its sentence.
std::pair<std::string, std::string> SplitRefusal(std::string_view message);

// A commune's or province's name as the reference data writes it
// ("Phường Bắc Nha Trang", "Tỉnh Khánh Hòa") in the officer's language: in
// English the kind follows the name in English ("Bắc Nha Trang Ward",
// "Khánh Hòa Province"), the name itself kept as written.
std::string PlaceName(const PageCtx& c, const std::string& name);

// A form's fields as a create line (FormState::values as typed; a date the
// form cannot read goes to `errors` instead). A full name left empty is
// its parts joined, an implied value filled in (ImpliedValue).
Json DraftDoc(const PageCtx& c, const domain::TypeSchema& s, FormState* state);
// The draft judged as the live check judges it with every field touched
// (Office::CheckDraft): each problem at its field, in `errors` and `named`;
// a message already there (from reading the form) stays.
void JudgeAll(PageCtx& c, const domain::TypeSchema& s, const Json& doc, FormState* state);

// Routes of each part.
void AddRegisterPages(std::vector<Route>* routes);
void AddRecordPages(std::vector<Route>* routes);

}  // namespace tuphap::web
