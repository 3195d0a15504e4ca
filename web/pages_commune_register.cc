// Registering a record of each of the nine types: forms generated from the
// schemas, refused with the import's messages at the field, and checked as
// the officer types (POST /register/TYPE/check: the same rules, only for
// the fields typed so far).
#include "base/json.h"
#include "node/domain/record_json.h"
#include "web/format.h"
#include "web/i18n.h"
#include "web/pages_commune.h"

namespace tuphap::web {
namespace {

// The schema of a form: the type and, for the types with variants, the
// variant the form names (?event= / ?kind= or the hidden field).
const domain::TypeSchema* FormSchema(std::string_view type, std::string_view variant) {
  const domain::TypeSchema* first = nullptr;
  for (const domain::TypeSchema& s : domain::AllSchemas()) {
    if (s.type != type) continue;
    if (first == nullptr) first = &s;
    if (s.variant == variant) return &s;
  }
  return first;
}

// The field a variant is chosen by.
std::string VariantField(std::string_view type) {
  if (type == "re_registration") return "data.event_type";
  if (type == "violation_decision") return "data.violator_kind";
  return "";
}

std::string VariantQuery(const domain::TypeSchema& s) {
  if (s.type == "re_registration") return "?event=" + s.variant;
  if (s.type == "violation_decision") return "?kind=" + s.variant;
  return "";
}

std::string FormTitle(const PageCtx& c, const domain::TypeSchema& s) {
  std::string title = std::string(c.T("register.title")) + " " + TypeLabel(c, s.type);
  if (!s.variant.empty()) {
    const std::string field = VariantField(s.type);
    title += " — " + ChoiceLabel(c, field, s.variant);
  }
  return title;
}

// The type of /register/TYPE[/check], and whether it is the check.
bool ParseRest(const std::string& rest, std::string* type, bool* check) {
  *check = false;
  *type = rest;
  if (rest.ends_with("/check")) {
    *check = true;
    *type = rest.substr(0, rest.size() - 6);
  }
  return domain::IsRecordType(*type);
}

Response FormPage(const PageCtx& c, const domain::TypeSchema& s, const FormState& state,
                  std::string_view heading, const std::string& other, int status) {
  Html h;
  const std::string title = FormTitle(c, s);
  h << "<p class=\"crumbs noprint\"><a href=\"/register\">" << Esc(c.T("nav.register")) << "</a> › "
    << Esc(TypeLabel(c, s.type)) << "</p>";
  h << "<h1>" << Esc(title) << "</h1>";
  h << "<p class=\"hint\">" << Esc(c.T("register.intro")) << "</p>";
  FormErrorSummary(h, c, s, state, heading, other);
  const std::string action = "/register/" + s.type + VariantQuery(s);
  h << "<form id=\"register-form\" class=\"record-form\" method=\"post\" action=\"" << Esc(action)
    << "\" data-check=\"" << Esc("/register/" + s.type + "/check") << "\" novalidate>"
    << CsrfInput(c);
  const std::string variant_field = VariantField(s.type);
  if (!variant_field.empty()) {
    h << "<input type=\"hidden\" name=\"" << Esc(variant_field) << "\" value=\"" << Esc(s.variant)
      << "\">";
  }
  RenderFields(h, c, s, state, /*new_record=*/true);
  h << "<div class=\"actions\"><button type=\"submit\" id=\"submit\">"
    << Esc(c.T("register.submit")) << "</button> <a class=\"button secondary\" href=\"/register\">"
    << Esc(c.T("form.cancel")) << "</a></div></form>";
  Response r = PageResponse(c, title, h.str());
  r.status = status;
  return r;
}

Response Index(PageCtx& c) {
  Html h;
  h << "<h1>" << Esc(c.T("register.index_title")) << "</h1><p class=\"hint\">"
    << Esc(c.T("register.index_intro")) << "</p><ul class=\"type-list\">";
  auto item = [&](const std::string& href, const std::string& label, const std::string& code) {
    h << "<li><a href=\"" << Esc(href) << "\"><span class=\"code\">" << Esc(code) << "</span> ";
    h.Text(label);
    h << "</a></li>";
  };
  for (const std::string& type : domain::RecordTypes()) {
    if (type == "re_registration") {
      for (const char* e : {"birth", "marriage", "death"}) {
        item("/register/re_registration?event=" + std::string(e),
             TypeLabel(c, type) + " — " + ChoiceLabel(c, "data.event_type", e),
             std::string(domain::RegisterOf(type, e)));
      }
    } else if (type == "violation_decision") {
      for (const char* k : {"individual", "organization"}) {
        item("/register/violation_decision?kind=" + std::string(k),
             TypeLabel(c, type) + " — " + ChoiceLabel(c, "data.violator_kind", k),
             std::string(domain::RegisterOf(type)));
      }
    } else {
      item("/register/" + type, TypeLabel(c, type), std::string(domain::RegisterOf(type)));
    }
  }
  h << "</ul>";
  return PageResponse(c, c.T("register.index_title"), h.str());
}

Response Form(PageCtx& c) {
  std::string type;
  bool check = false;
  if (!ParseRest(c.rest, &type, &check) || check) return ErrorPage(c, 404, c.T("error.not_found"));
  std::string variant = FieldValue(c.query, type == "re_registration" ? "event" : "kind");
  const domain::TypeSchema* s = FormSchema(type, variant);
  FormState state;
  FormDefaults(c, *s, &state);
  return FormPage(c, *s, state, {}, {}, 200);
}

Response Submit(PageCtx& c) {
  std::string type;
  bool check = false;
  if (!ParseRest(c.rest, &type, &check)) return ErrorPage(c, 404, c.T("error.not_found"));
  const std::string variant_field = VariantField(type);
  const domain::TypeSchema* s =
      FormSchema(type, variant_field.empty() ? "" : FieldValue(c.form, variant_field));
  FormState state;
  Json doc = DraftDoc(c, *s, &state);

  if (check) {
    // The fields the officer has typed in so far (the script names them).
    std::vector<std::string> touched;
    const std::string list = FieldValue(c.form, "touched");
    size_t at = 0;
    while (at < list.size()) {
      size_t comma = list.find(',', at);
      if (comma == std::string::npos) comma = list.size();
      if (comma > at) touched.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
    Json out = Json::MakeObject();
    for (const std::string& p : touched) {
      if (s->Find(p) != nullptr) out.Set(p, "");
    }
    auto problems = c.office.CheckDraft(type, doc, touched);
    if (problems.ok()) {
      for (const domain::Problem& p : *problems)
        out.Set(p.field, FieldMessage(c, type, p.field, p.message));
    }
    for (const auto& [path, message] : state.errors) {
      if (out.Find(path) != nullptr) out.Set(path, message);
    }
    // Hints that refuse nothing, under a key no field path takes.
    Json warnings = Json::MakeObject();
    for (const auto& [path, message] : DraftWarnings(c, *s, doc)) warnings.Set(path, message);
    out.Set("$warnings", std::move(warnings));
    Response r;
    r.content_type = "application/json; charset=utf-8";
    r.body = out.Dump();
    return r;
  }

  state.warnings = DraftWarnings(c, *s, doc);
  if (!state.errors.empty()) {
    JudgeAll(c, *s, doc, &state);
    return FormPage(c, *s, state, c.T("register.fix_fields"), {}, 422);
  }
  auto done = c.office.Register(type, Json(doc));
  if (!done.ok()) {
    JudgeAll(c, *s, doc, &state);
    // The refusal itself: a rule the draft check does not run (a person
    // already registered) or one it reported already.
    auto [field, sentence] = SplitRefusal(done.status().message());
    std::string other;
    if (!field.empty() && s->Find(field) != nullptr) {
      if (state.errors.count(field) == 0) {
        state.errors[field] = FieldMessage(c, type, field, sentence);
        state.named[field] = NamedFieldMessage(c, type, field, sentence);
      }
    } else {
      other = Humanize(c, type, done.status().message());
    }
    return FormPage(c, *s, state, c.T("register.fix_fields"), other, 422);
  }
  std::string flash = std::string(c.T("register.done")) + " " + RegisterRef(done->id);
  if (done->marital && !done->marital->status.empty()) {
    flash += " · " + FieldLabel(c, type, "data.marital_status") + ": " +
             ChoiceLabel(c, "data.marital_status", done->marital->status);
  }
  for (const auto& [path, message] : state.warnings) {
    flash += " · " + std::string(c.T("form.warning")) + " " + message;
  }
  c.session.flash = flash;
  return Response::Redirect("/records/" + UrlEncode(done->id));
}

}  // namespace

void AddRegisterPages(std::vector<Route>* routes) {
  routes->push_back({"GET", "/register", Access::kRegister, Index});
  routes->push_back({"GET", "/register/", Access::kRegister, Form});
  routes->push_back({"POST", "/register/", Access::kRegister, Submit});
}

}  // namespace tuphap::web
