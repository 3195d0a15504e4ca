// A record: its page (every field, its history, whether its last change
// here reached the hub, its conflicts with resolve forms), amend, revoke,
// resolve, and the printable extract (trích lục).
#include <algorithm>
#include <set>

#include "node/domain/messages.h"
#include "node/domain/vn_text.h"
#include "web/format.h"
#include "web/i18n.h"
#include "web/pages_commune.h"

namespace tuphap::web {
namespace {

// "ID", "ID/amend", ... -> ("ID", "amend").
std::pair<std::string, std::string> SplitRest(const std::string& rest) {
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return {rest, ""};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

std::string RecordUrl(const std::string& id) { return "/records/" + UrlEncode(id); }

std::string Heading(const PageCtx& c, const store::RecordView& r) {
  std::string ref = RegisterRef(r.record_id);
  return TypeLabel(c, r.state.Type()) + (ref.empty() ? "" : " · " + ref);
}

const domain::FieldSpec* Spec(const domain::TypeSchema* s, std::string_view path) {
  return s != nullptr ? s->Find(path) : nullptr;
}

// Whether any field inside `block` has a value.
bool HasValues(const store::RecordView& r, const domain::TypeSchema& s, const std::string& block) {
  for (const domain::FieldSpec& g : s.fields) {
    if (g.kind != domain::Kind::kBlock && g.path.rfind(block + ".", 0) == 0 &&
        !Winner(r, g.path).empty())
      return true;
  }
  return false;
}

bool CanRegister(const PageCtx& c) {
  return c.officer->role == app::Role::kOfficer || c.officer->role == app::Role::kHead;
}
bool IsHead(const PageCtx& c) { return c.officer->role == app::Role::kHead; }

std::string CommuneText(const PageCtx& c, const std::string& code) {
  const std::string name = app::Office::CommuneName(code);
  return name.empty() ? code : PlaceName(c, name) + " (" + code + ")";
}

// A resolve refused: shown at its field's form on the record page.
struct ResolveError {
  std::string field;
  std::string message;
};

// A person's name parts: settled with the full name they make up.
constexpr const char* kNameParts[] = {"family_name", "middle_name", "given_name"};

std::string_view ParentPath(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

bool IsNamePart(std::string_view field) {
  const std::string_view leaf = field.substr(field.rfind('.') + 1);
  for (const char* p : kNameParts) {
    if (leaf == p) return true;
  }
  return false;
}

// A refusal's message to show: the field's label instead of its path.
std::string Readable(const PageCtx& c, std::string_view type, const Status& s) {
  auto [field, sentence] = SplitRefusal(s.message());
  if (field.empty() || domain::FindField(type, field) == nullptr)
    return Humanize(c, type, s.message());
  return NamedFieldMessage(c, type, field, sentence);
}

void FieldsTable(Html& h, const PageCtx& c, const app::Office::RecordPage& page) {
  const store::RecordView& r = page.record;
  const domain::TypeSchema* s = SchemaOf(r);
  const std::string type = r.state.Type();
  std::set<std::string> conflicted;
  for (const auto& [field, values] : page.conflicts) conflicted.insert(field);
  h << "<table id=\"fields\" class=\"fields\"><tbody>";
  auto row = [&](const std::string& label, const std::string& value, const std::string& path) {
    h << "<tr" << (conflicted.count(path) ? " class=\"conflict\"" : "") << "><th scope=\"row\">"
      << Esc(label) << "</th><td>";
    h.Text(value);
    if (conflicted.count(path))
      h << " <span class=\"badge bad\">" << Esc(c.T("record.in_conflict")) << "</span>";
    h << "</td></tr>";
  };
  row(std::string(c.T("record.reference")), RegisterRef(r.record_id), "");
  row(std::string(c.T("record.id")), r.record_id, "");
  row(FieldLabel(c, type, "commune_code"), CommuneText(c, Winner(r, "commune_code")),
      "commune_code");
  std::set<std::string> shown;
  if (s != nullptr) {
    for (const domain::FieldSpec& f : s->fields) {
      shown.insert(f.path);
      if (!OfficerField(f)) continue;
      if (f.kind == domain::Kind::kBlock) {
        if (HasValues(r, *s, f.path)) {
          h << "<tr class=\"part\"><th colspan=\"2\">" << Esc(FieldLabel(c, type, f.path))
            << "</th></tr>";
        }
        continue;
      }
      const std::string v = Winner(r, f.path);
      if (v.empty()) continue;
      row(f.block.empty() ? FieldLabel(c, type, f.path) : ShortLabel(c, type, f.path),
          DisplayValue(c, &f, f.path, v), f.path);
    }
  }
  // Fields a newer rule set added, kept as they came.
  for (const auto& [field, reg] : r.state.fields()) {
    if (field.empty() || field[0] == '$' || shown.count(field) || field.rfind("book", 0) == 0 ||
        field == "commune_code" || field == "province_code" || field == "version" ||
        field == "record_id" || field == "type" || field == "schema" || field == "op")
      continue;
    const std::string v = Winner(r, field);
    if (!v.empty()) row(field, v, field);
  }
  h << "</tbody></table>";
}

void ConflictsSection(Html& h, const PageCtx& c, const app::Office::RecordPage& page,
                      const ResolveError* error) {
  if (page.conflicts.empty() && page.person_conflicts.empty()) return;
  const store::RecordView& r = page.record;
  const std::string type = r.state.Type();
  const domain::TypeSchema* s = SchemaOf(r);
  std::set<std::string> conflicted;
  for (const auto& [field, values] : page.conflicts) conflicted.insert(field);
  // A name part in conflict beside its full name is settled with it: the
  // full name chosen brings the parts written with it.
  auto settled_with_full_name = [&](const std::string& field) {
    return IsNamePart(field) && conflicted.count(std::string(ParentPath(field)) + ".full_name") > 0;
  };
  h << "<section id=\"conflicts\" class=\"panel warn-panel\"><h2>" << Esc(c.T("record.conflicts"))
    << "</h2><p class=\"hint\">" << Esc(c.T("record.conflicts_intro")) << "</p>";
  for (const auto& [field, values] : page.conflicts) {
    if (settled_with_full_name(field)) continue;
    const bool duplicate = field == "$type";
    std::vector<std::string> parts;  // name parts settled with this full name
    if (field.ends_with(".full_name")) {
      for (const char* p : kNameParts) {
        const std::string part = std::string(ParentPath(field)) + "." + p;
        if (conflicted.count(part) > 0) parts.push_back(part);
      }
    }
    std::string label =
        duplicate ? std::string(c.T("record.duplicate_registration")) : FieldLabel(c, type, field);
    h << "<div class=\"conflict-field\" id=\"conflict-" << Esc(FieldId(field)) << "\"><h3>"
      << Esc(label) << "</h3>";
    if (!parts.empty()) {
      std::string names;
      for (const std::string& p : parts)
        names += (names.empty() ? "" : ", ") + ShortLabel(c, type, p);
      h << "<p class=\"hint\">" << Esc(c.T("record.names_together")) << " ";
      h.Text(names);
      h << "</p>";
    }
    const bool here = error != nullptr && error->field == field;
    if (here) {
      h << "<p class=\"error\" id=\"resolve-error\" role=\"alert\">";
      h.Text(error->message);
      h << "</p>";
    }
    if (IsHead(c)) {
      h << "<form class=\"resolve\" method=\"post\" action=\"" << Esc(RecordUrl(r.record_id))
        << "/resolve\">" << CsrfInput(c) << "<input type=\"hidden\" name=\"field\" value=\""
        << Esc(field) << "\">";
      for (const std::string& p : parts)
        h << "<input type=\"hidden\" name=\"with\" value=\"" << Esc(p) << "\">";
      h << "<fieldset><legend>" << Esc(c.T("record.choose_value")) << "</legend>";
    }
    h << "<ul class=\"values\">";
    size_t i = 0;
    for (const node::EntryView& e : values) {
      const std::string stored = e.value.ToDisplay();
      const std::string shown =
          duplicate ? TypeLabel(c, stored) : DisplayValue(c, Spec(s, field), field, stored);
      const std::string who = e.sealed ? std::string(c.T("record.officer_unknown")) : e.officer;
      h << "<li>";
      if (IsHead(c)) {
        const std::string id = "v_" + FieldId(field) + "_" + std::to_string(i);
        // Nothing chosen for the head: a value is a decision.
        h << "<label for=\"" << Esc(id) << "\"><input type=\"radio\" name=\"value\" id=\""
          << Esc(id) << "\" value=\"" << Esc(stored) << "\" required> ";
      }
      h << "<strong>";
      h.Text(shown.empty() ? std::string(c.T("record.empty_value")) : shown);
      h << "</strong> <span class=\"hint\">— ";
      h.Text(who);
      h << ", " << Esc(c.tz.Human(static_cast<int64_t>(e.hlc.millis()))) << "</span>";
      if (IsHead(c)) h << "</label>";
      h << "</li>";
      ++i;
    }
    h << "</ul>";
    if (IsHead(c)) {
      const std::string rid = "reason_" + FieldId(field);
      h << "</fieldset><div class=\"field\"><label for=\"" << Esc(rid) << "\">"
        << Esc(c.T("record.reason")) << " <abbr class=\"req\" title=\"" << Esc(c.T("form.required"))
        << "\">*</abbr></label><input id=\"" << Esc(rid)
        << "\" name=\"reason\" maxlength=\"2000\" class=\"wide-input\" required></div>"
        << "<button type=\"submit\">" << Esc(c.T("record.resolve")) << "</button></form>";
    } else {
      h << "<p class=\"hint\">" << Esc(c.T("record.head_resolves")) << "</p>";
    }
    h << "</div>";
  }
  for (const store::PersonConflictRow& p : page.person_conflicts) {
    const bool later = p.record_id == r.record_id;
    const std::string other = later ? p.other_id : p.record_id;
    h << "<div class=\"conflict-field person\"><h3>" << Esc(c.T("record.person_conflict")) << " ";
    h.Text(p.personal_id);
    h << "</h3><p>";
    const std::string rule_key = "rule." + p.rule;
    h << Esc(HasKey(rule_key) ? Tr(c.lang(), rule_key) : std::string_view(p.rule)) << " — "
      << Esc(c.T("record.other_record")) << " <a class=\"record-link\" href=\""
      << Esc(RecordUrl(other)) << "\">";
    h.Text(RegisterRef(other).empty() ? other : RegisterRef(other));
    h << "</a></p></div>";
  }
  h << "</section>";
}

void HistoryTable(Html& h, const PageCtx& c, const app::Office::RecordPage& page) {
  const store::RecordView& r = page.record;
  const std::string type = r.state.Type();
  const domain::TypeSchema* s = SchemaOf(r);
  h << "<h2>" << Esc(c.T("record.history")) << "</h2><table id=\"history\"><thead><tr><th>"
    << Esc(c.T("record.when")) << "</th><th>" << Esc(c.T("record.who")) << "</th><th>"
    << Esc(c.T("record.what")) << "</th><th>" << Esc(c.T("record.reason"))
    << "</th></tr></thead><tbody>";
  for (auto it = page.history.rbegin(); it != page.history.rend(); ++it) {
    const node::HistoryEntry& e = *it;
    h << "<tr><td class=\"nowrap\">" << Esc(c.tz.Human(static_cast<int64_t>(e.hlc.millis())))
      << "</td><td>";
    h.Text(e.officer);
    h << "</td><td>";
    bool creation = e.ops.size() > 3;
    for (const node::OpView& op : e.ops) creation = creation && op.old.empty();
    if (creation) {
      h << Esc(c.T("record.created")) << " <span class=\"hint\">(" << std::to_string(e.ops.size())
        << " " << Esc(c.T("record.fields_count")) << ")</span>";
    } else {
      h << "<ul class=\"changes\">";
      for (const node::OpView& op : e.ops) {
        if (op.field == "version") continue;  // bookkeeping: every edit raises it
        const domain::FieldSpec* f = Spec(s, op.field);
        std::string label;
        if (op.field == "$revoked") {
          label = std::string(c.T("record.revoked_op"));
        } else if (op.field.size() > 0 && op.field[0] == '$') {
          label = op.field;
        } else {
          label = f != nullptr ? FieldLabel(c, type, op.field) : op.field;
        }
        h << "<li><span class=\"label\">";
        h.Text(label);
        h << ":</span> ";
        for (size_t i = 0; i < op.old.size(); ++i) {
          h << (i ? " | " : "") << "<del>";
          const std::string o = DisplayValue(c, f, op.field, op.old[i].ToDisplay());
          h.Text(o.empty() ? std::string(c.T("record.empty_value")) : o);
          h << "</del>";
        }
        if (!op.old.empty()) h << " → ";
        const std::string n = DisplayValue(c, f, op.field, op.value.ToDisplay());
        h << "<ins>";
        h.Text(n.empty() ? std::string(c.T("record.empty_value")) : n);
        h << "</ins></li>";
      }
      h << "</ul>";
    }
    h << "</td><td>";
    h.Text(e.reason);
    h << "</td></tr>";
  }
  h << "</tbody></table>";
}

Response Page(PageCtx& c, const std::string& id, const ResolveError* error = nullptr) {
  auto page = c.office.Record(id);
  if (!page.ok()) {
    if (page.status().code() == StatusCode::kNotFound)
      return ErrorPage(c, 404, c.T("record.not_found"));
    return ErrorPage(c, 500, page.status().message());
  }
  const store::RecordView& r = page->record;
  const bool revoked = r.state.Revoked();
  Html h;
  h << "<p class=\"crumbs noprint\"><a href=\"/search\">" << Esc(c.T("nav.search")) << "</a> › "
    << Esc(c.T("record.title")) << "</p><div class=\"record-head\"><div><h1>" << Esc(Heading(c, r))
    << "</h1><p class=\"names\">";
  h.Text(NamesOf(r));
  h << "</p></div><div class=\"record-actions noprint\">";
  if (CanRegister(c) && !revoked) {
    h << "<a id=\"amend-link\" class=\"button\" href=\"" << Esc(RecordUrl(r.record_id))
      << "/amend\">" << Esc(c.T("record.amend")) << "</a> ";
  }
  h << "<a id=\"extract-link\" class=\"button secondary\" href=\"" << Esc(RecordUrl(r.record_id))
    << "/extract\">" << Esc(c.T("record.extract")) << "</a></div></div>";

  // Where the record stands: revoked, judged invalid, reached the hub.
  if (revoked) h << "<p class=\"banner bad\">" << Esc(c.T("record.revoked")) << "</p>";
  if (!page->flag_message.empty()) {
    h << "<p class=\"banner warn\">" << Esc(c.T("record.attention")) << " ";
    h.Text(page->flag_message);
    h << "</p>";
  }
  bool reached = true;
  if (!c.hub()) {
    auto state = c.office.RecordHubState(r);
    reached = state.ok() && *state != app::Office::HubState::kWaiting;
  }
  h << "<p id=\"sync-state\" class=\"sync-state " << (reached ? "ok" : "waiting") << "\">"
    << "<span class=\"dot\"></span>"
    << Esc(reached ? c.T("record.reached_hub") : c.T("record.waiting_sync")) << "</p>";

  ConflictsSection(h, c, *page, error);
  h << "<h2>" << Esc(c.T("record.fields")) << "</h2>";
  FieldsTable(h, c, *page);
  HistoryTable(h, c, *page);

  if (IsHead(c) && !revoked) {
    h << "<details class=\"danger noprint\"><summary>" << Esc(c.T("record.revoke")) << "</summary>"
      << "<form id=\"revoke-form\" method=\"post\" action=\"" << Esc(RecordUrl(r.record_id))
      << "/revoke\" data-confirm=\"" << Esc(c.T("record.revoke_confirm")) << "\">" << CsrfInput(c)
      << "<p class=\"hint\">" << Esc(c.T("record.revoke_intro"))
      << "</p><label for=\"revoke-reason\">" << Esc(c.T("record.reason"))
      << " <span class=\"req\">*</span></label>"
      << "<textarea id=\"revoke-reason\" name=\"reason\" rows=\"2\" required maxlength=\"2000\">"
      << "</textarea><button type=\"submit\" class=\"danger\">" << Esc(c.T("record.revoke_button"))
      << "</button></form></details>";
  }
  Response resp = PageResponse(c, Heading(c, r), h.str());
  if (error != nullptr) resp.status = 422;
  return resp;
}

// --- amend -----------------------------------------------------------------

Response AmendForm(const PageCtx& c, const store::RecordView& r, const FormState& state,
                   const std::string& reason, std::string_view heading, const std::string& other,
                   int status) {
  const domain::TypeSchema* s = SchemaOf(r);
  Html h;
  h << "<p class=\"crumbs noprint\"><a href=\"" << Esc(RecordUrl(r.record_id)) << "\">"
    << Esc(Heading(c, r)) << "</a> › " << Esc(c.T("record.amend")) << "</p><h1>"
    << Esc(c.T("amend.title")) << " — " << Esc(Heading(c, r)) << "</h1><p class=\"hint\">"
    << Esc(c.T("amend.intro")) << "</p>";
  FormErrorSummary(h, c, *s, state, heading, other);
  h << "<form id=\"amend-form\" class=\"record-form\" method=\"post\" action=\""
    << Esc(RecordUrl(r.record_id)) << "/amend\" data-check=\""
    << Esc("/register/" + s->type + "/check") << "\" novalidate>" << CsrfInput(c);
  // The variant the check judges the form by.
  for (const char* variant : {"data.event_type", "data.violator_kind"}) {
    if (s->Find(variant) != nullptr) {
      h << "<input type=\"hidden\" name=\"" << variant << "\" value=\"" << Esc(Winner(r, variant))
        << "\">";
    }
  }
  RenderFields(h, c, *s, state, /*new_record=*/false);
  auto err = state.errors.find("reason");
  h << "<div class=\"field wide reason\"><label for=\"f_reason\">" << Esc(c.T("amend.reason"))
    << " <abbr class=\"req\" title=\"" << Esc(c.T("form.required")) << "\">*</abbr></label>"
    << "<textarea id=\"f_reason\" name=\"reason\" rows=\"2\" required maxlength=\"2000\">"
    << Esc(reason) << "</textarea><span class=\"field-error\" id=\"f_reason-err\" role=\"alert\">";
  if (err != state.errors.end()) h.Text(err->second);
  h << "</span></div><div class=\"actions\"><button type=\"submit\" id=\"submit\">"
    << Esc(c.T("amend.submit")) << "</button> <a class=\"button secondary\" href=\""
    << Esc(RecordUrl(r.record_id)) << "\">" << Esc(c.T("form.cancel")) << "</a></div></form>";
  Response resp = PageResponse(c, c.T("amend.title"), h.str());
  resp.status = status;
  return resp;
}

FormState CurrentValues(const store::RecordView& r, const domain::TypeSchema& s) {
  FormState state;
  for (const domain::FieldSpec& f : s.fields) {
    if (!OfficerField(f) || f.kind == domain::Kind::kBlock) continue;
    state.values[f.path] = FormText(f, Winner(r, f.path));
  }
  return state;
}

Response Amend(PageCtx& c, const std::string& id, bool post) {
  auto rec = c.office.GetRecord(id);
  if (!rec.ok()) return ErrorPage(c, 404, c.T("record.not_found"));
  if (rec->state.Revoked()) return ErrorPage(c, 409, c.T("amend.revoked"));
  const domain::TypeSchema* s = SchemaOf(*rec);
  if (s == nullptr) return ErrorPage(c, 409, c.T("amend.no_schema"));
  FormState current = CurrentValues(*rec, *s);
  if (!post) return AmendForm(c, *rec, current, "", {}, {}, 200);

  FormState state;
  std::vector<std::pair<std::string, std::string>> changes;
  for (const domain::FieldSpec& f : s->fields) {
    if (!OfficerField(f) || f.kind == domain::Kind::kBlock) continue;
    const std::string typed = FieldValue(c.form, f.path);
    state.values[f.path] = typed;
    const std::string& was = current.values[f.path];
    std::string a = typed, b = was;
    for (std::string* t : {&a, &b}) {
      while (!t->empty() && (t->back() == ' ' || t->back() == '\r' || t->back() == '\n'))
        t->pop_back();
    }
    if (a == b) continue;
    if (a.empty()) {
      changes.emplace_back(f.path, f.nullable ? "null" : "");
      continue;
    }
    std::string text, error;
    if (!FormValue(c, f, typed, &text, &error)) {
      state.errors[f.path] = error;
      continue;
    }
    changes.emplace_back(f.path, text);
  }
  const std::string reason = FieldValue(c.form, "reason");
  if (reason.find_first_not_of(" \r\n\t") == std::string::npos)
    state.errors["reason"] = std::string(c.T("amend.reason_needed"));
  // Every problem of the record as it would be, each at its field.
  auto judge = [&] {
    FormState draft;
    const Json doc = DraftDoc(c, *s, &draft);
    JudgeAll(c, *s, doc, &state);
  };
  if (!state.errors.empty() && changes.empty() && state.errors.count("reason") > 0 &&
      state.errors.size() == 1) {
    return AmendForm(c, *rec, state, reason, c.T("amend.nothing"), {}, 422);
  }
  if (!state.errors.empty()) {
    judge();
    return AmendForm(c, *rec, state, reason, c.T("amend.fix_fields"), {}, 422);
  }
  if (changes.empty()) return AmendForm(c, *rec, state, reason, c.T("amend.nothing"), {}, 422);
  Status done = c.office.Amend(id, changes, reason);
  if (!done.ok()) {
    judge();
    auto [field, sentence] = SplitRefusal(done.message());
    std::string other;
    if (!field.empty() && s->Find(field) != nullptr) {
      if (state.errors.count(field) == 0) {
        state.errors[field] = FieldMessage(c, s->type, field, sentence);
        state.named[field] = NamedFieldMessage(c, s->type, field, sentence);
      }
    } else {
      other = Readable(c, s->type, done);
    }
    return AmendForm(c, *rec, state, reason, c.T("amend.fix_fields"), other, 422);
  }
  c.session.flash = std::string(c.T("amend.done"));
  return Response::Redirect(RecordUrl(id));
}

// --- resolve, revoke ------------------------------------------------------

Response Resolve(PageCtx& c, const std::string& id) {
  const std::string field = FieldValue(c.form, "field");
  const bool chosen =
      std::any_of(c.form.begin(), c.form.end(), [](const auto& f) { return f.first == "value"; });
  const std::string value = FieldValue(c.form, "value");
  const std::string reason = FieldValue(c.form, "reason");
  auto page = c.office.Record(id);
  if (!page.ok()) {
    if (page.status().code() == StatusCode::kNotFound)
      return ErrorPage(c, 404, c.T("record.not_found"));
    return ErrorPage(c, 500, page.status().message());
  }
  // Refused: the record page again, the message at the field's form.
  auto refuse = [&](std::string message) {
    ResolveError e{field, std::move(message)};
    return Page(c, id, &e);
  };
  if (field.empty() || !chosen) return refuse(std::string(c.T("resolve.choose")));
  if (reason.find_first_not_of(" \r\n\t") == std::string::npos)
    return refuse(std::string(c.T("resolve.reason_needed")));

  // The name parts settled with a full name: each takes the value written
  // in the same change as the full name chosen.
  std::vector<std::pair<std::string, std::string>> settle;
  const node::EntryView* written = nullptr;
  for (const auto& [f, values] : page->conflicts) {
    if (f != field) continue;
    for (const node::EntryView& e : values) {
      if (e.value.ToDisplay() == value) written = &e;
    }
  }
  for (const auto& [key, part] : c.form) {
    if (key != "with" || !IsNamePart(part) || ParentPath(part) != ParentPath(field)) continue;
    for (const auto& [f, values] : page->conflicts) {
      if (f != part) continue;
      for (const node::EntryView& e : values) {
        if (written != nullptr && e.origin == written->origin && e.seq == written->seq)
          settle.emplace_back(part, e.value.ToDisplay());
      }
    }
  }
  settle.emplace_back(field, value);
  const std::string type = page->record.state.Type();
  for (size_t i = 0; i < settle.size(); ++i) {
    Status s = c.office.Resolve(id, settle[i].first, settle[i].second, reason);
    if (s.ok()) continue;
    // The registry settles one field at a time and checks the record with
    // the others as shown, so a name chosen from the side not shown is
    // refused part by part (its full name does not match the parts shown).
    // One amend writes them together over every competing value, checked
    // as a whole.
    if (i == 0 && settle.size() > 1) s = c.office.Amend(id, settle, reason);
    if (!s.ok()) return refuse(Readable(c, type, s));
    break;
  }
  c.session.flash = std::string(c.T("resolve.done"));
  return Response::Redirect(RecordUrl(id));
}

Response Revoke(PageCtx& c, const std::string& id) {
  const std::string reason = FieldValue(c.form, "reason");
  if (reason.find_first_not_of(" \r\n\t") == std::string::npos)
    return ErrorPage(c, 422, c.T("revoke.reason_needed"));
  Status s = c.office.Revoke(id, reason);
  if (!s.ok()) return ErrorPage(c, s.code() == StatusCode::kNotFound ? 404 : 422, s.message());
  c.session.flash = std::string(c.T("revoke.done"));
  return Response::Redirect(RecordUrl(id));
}

// --- the extract -------------------------------------------------------------

Response Extract(PageCtx& c, const std::string& id) {
  auto rec = c.office.GetRecord(id);
  if (!rec.ok()) return ErrorPage(c, 404, c.T("record.not_found"));
  const store::RecordView& r = *rec;
  const domain::TypeSchema* s = SchemaOf(r);
  const std::string type = r.state.Type();
  const std::string commune = Winner(r, "commune_code");
  std::string commune_name = PlaceName(c, app::Office::CommuneName(commune));
  if (commune_name.empty()) commune_name = commune;
  const std::string province = PlaceName(c, app::Office::ProvinceName(Winner(r, "province_code")));

  Html h;
  h << "<div class=\"noprint extract-tools\"><a href=\"" << Esc(RecordUrl(r.record_id)) << "\">← "
    << Esc(Heading(c, r)) << "</a> <button type=\"button\" id=\"print\" data-print>"
    << Esc(c.T("extract.print")) << "</button></div>";
  h << "<article id=\"extract\" class=\"extract\"><header class=\"extract-head\"><div "
       "class=\"issuer\">";
  if (!province.empty()) {
    h << "<div>";
    h.Text(domain::ToUpper(province));
    h << "</div>";
  }
  h << "<div class=\"strong\">" << Esc(c.T("extract.committee")) << " ";
  h.Text(domain::ToUpper(commune_name));
  h << "</div><div class=\"rule\"></div><div>" << Esc(c.T("extract.number")) << " ";
  h.Text(Winner(r, "book.entry_no"));
  h << "/" << Esc(RegisterRef(r.record_id).substr(0, RegisterRef(r.record_id).find(' ')))
    << "</div></div><div class=\"nation\"><div class=\"strong\">" << Esc(c.T("extract.nation"))
    << "</div><div class=\"motto\">" << Esc(c.T("extract.motto"))
    << "</div><div class=\"rule\"></div></div></header>";
  std::string title_key = "extract.title." + type;
  h << "<h1 class=\"extract-title\">"
    << Esc(HasKey(title_key) ? Tr(c.lang(), title_key) : std::string_view(title_key));
  if (type == "re_registration") {
    h << " — ";
    h.Text(domain::ToUpper(ChoiceLabel(c, "data.event_type", Winner(r, "data.event_type"))));
  }
  h << "</h1>";
  if (r.state.Revoked()) h << "<p class=\"banner bad\">" << Esc(c.T("extract.revoked")) << "</p>";
  h << "<table class=\"extract-fields\"><tbody>";
  std::string current_block;
  if (s != nullptr) {
    for (const domain::FieldSpec& f : s->fields) {
      if (!OfficerField(f) || f.path == "registered_at") continue;
      if (f.kind == domain::Kind::kNotes) continue;  // notes stay in the office
      if (f.path.find(".signer") != std::string::npos || f.path.ends_with(".registrar")) continue;
      if (f.kind == domain::Kind::kBlock) {
        // A heading for a person or a part, when anything of it is shown.
        if (HasValues(r, *s, f.path)) {
          h << "<tr class=\"part\"><th colspan=\"2\">";
          h.Text(FieldLabel(c, type, f.path));
          h << "</th></tr>";
        }
        continue;
      }
      // The full name stands for its parts on an extract.
      if (f.kind == domain::Kind::kNamePart) continue;
      std::string v = Winner(r, f.path);
      if (v.empty()) continue;
      v = DisplayValue(c, &f, f.path, v);
      if (f.kind == domain::Kind::kFullName) v = domain::ToUpper(v);
      h << "<tr><th scope=\"row\">";
      h.Text(f.block.empty() ? FieldLabel(c, type, f.path) : ShortLabel(c, type, f.path));
      h << "</th><td>";
      h.Text(v);
      h << "</td></tr>";
    }
  }
  h << "</tbody></table><p class=\"registered\">" << Esc(c.T("extract.registered_at")) << " ";
  h.Text(commune_name);
  h << ", " << Esc(c.T("extract.on")) << " ";
  h.Text(DisplayDate(Winner(r, "registered_at")));
  h << ". " << Esc(c.T("record.reference")) << ": ";
  h.Text(RegisterRef(r.record_id));
  const std::string book_no = Winner(r, "book.book_no");
  if (!book_no.empty()) {
    h << ", " << Esc(c.T("field.book_no")) << " ";
    h.Text(book_no);
  }
  h << ".</p>";
  // The place and date of this copy, and the signature block.
  const std::string today = c.office.Today();
  const std::string signer = Winner(r, s != nullptr && s->Find("data.event.signer.full_name")
                                           ? "data.event.signer.full_name"
                                           : "data.signer.full_name");
  const std::string title =
      Winner(r, s != nullptr && s->Find("data.event.signer.title") ? "data.event.signer.title"
                                                                   : "data.signer.title");
  h << "<div class=\"signature\"><p class=\"place-date\"><em>";
  h.Text(domain::FillTemplate(
      std::string(c.T("extract.place_date")).c_str(),
      {commune_name, today.substr(8, 2), today.substr(5, 2), today.substr(0, 4)}));
  h << "</em></p><p class=\"strong\">" << Esc(c.T("extract.signer")) << "</p><p class=\"hint\">"
    << Esc(c.T("extract.sign_hint")) << "</p><div class=\"sign-space\"></div><p class=\"strong\">";
  h.Text(domain::ToUpper(signer));
  h << "</p>";
  if (!title.empty()) {
    h << "<p>";
    h.Text(title);
    h << "</p>";
  }
  h << "</div></article>";
  return PageResponse(c, std::string(c.T("record.extract")) + " — " + Heading(c, r), h.str());
}

Response Get(PageCtx& c) {
  auto [id, what] = SplitRest(c.rest);
  if (what.empty()) return Page(c, id);
  if (what == "extract") return Extract(c, id);
  if (what == "amend") {
    if (!CanRegister(c)) return ErrorPage(c, 403, c.T("error.role"));
    return Amend(c, id, false);
  }
  return ErrorPage(c, 404, c.T("error.not_found"));
}

Response Post(PageCtx& c) {
  auto [id, what] = SplitRest(c.rest);
  if (what == "amend") return Amend(c, id, true);
  if (what == "resolve" || what == "revoke") {
    if (!IsHead(c)) return ErrorPage(c, 403, c.T("error.role"));
    return what == "resolve" ? Resolve(c, id) : Revoke(c, id);
  }
  return ErrorPage(c, 404, c.T("error.not_found"));
}

}  // namespace

void AddRecordPages(std::vector<Route>* routes) {
  routes->push_back({"GET", "/records/", Access::kAnyone, Get});
  routes->push_back({"POST", "/records/", Access::kRegister, Post});
}

}  // namespace tuphap::web
