// Field labels, values for people and the record forms generated from the
// schemas (pages_commune.h).
#include <algorithm>
#include <charconv>

#include "base/json.h"
#include "web/format.h"
#include "web/i18n.h"
#include "web/pages_commune.h"

namespace tuphap::web {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at <= path.size()) {
    size_t dot = path.find('.', at);
    if (dot == std::string_view::npos) dot = path.size();
    out.push_back(path.substr(at, dot - at));
    at = dot + 1;
  }
  return out;
}

// The label of one segment: a type's own wording first.
std::string SegmentLabel(const PageCtx& c, std::string_view type, std::string_view segment) {
  const std::string own = "field." + std::string(type) + "." + std::string(segment);
  if (HasKey(own)) return std::string(Tr(c.lang(), own));
  const std::string key = "field." + std::string(segment);
  if (HasKey(key)) return std::string(Tr(c.lang(), key));
  return std::string(segment);
}

bool IsDateKind(domain::Kind k) { return k == domain::Kind::kDate; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    while (!line.empty() && line.front() == ' ') line.erase(0, 1);
    if (!line.empty()) out.push_back(std::move(line));
    at = end + 1;
  }
  return out;
}

// "77.650.000" / "77 650 000" / "77650000" -> "77650000"; anything else as
// it is (the validator names what is wrong with it).
std::string PlainNumber(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '.' || ch == ' ' || ch == ',') continue;
    out += ch;
  }
  return out.empty() ? text : out;
}

}  // namespace

std::string FieldLabel(const PageCtx& c, std::string_view type, std::string_view path) {
  std::vector<std::string_view> seg = Segments(path);
  // "data" and a re-registration's "event" only hold the content.
  std::vector<std::string_view> shown;
  for (size_t i = 0; i < seg.size(); ++i) {
    if (i == 0 && seg[i] == "data" && seg.size() > 1) continue;
    if (i == 1 && seg[0] == "data" && seg[i] == "event" && seg.size() > 2) continue;
    shown.push_back(seg[i]);
  }
  std::string label = SegmentLabel(c, type, shown.back());
  if (shown.size() >= 2) label += " (" + SegmentLabel(c, type, shown[shown.size() - 2]) + ")";
  return label;
}

std::string ShortLabel(const PageCtx& c, std::string_view type, std::string_view path) {
  return SegmentLabel(c, type, Segments(path).back());
}

std::string ChoiceLabel(const PageCtx& c, std::string_view path, std::string_view value) {
  std::vector<std::string_view> seg = Segments(path);
  const std::string key = "enum." + std::string(seg.back()) + "." + std::string(value);
  if (HasKey(key)) return std::string(Tr(c.lang(), key));
  return std::string(value);
}

std::string TypeLabel(const PageCtx& c, std::string_view type) {
  const std::string key = "type." + std::string(type);
  return HasKey(key) ? std::string(Tr(c.lang(), key)) : std::string(type);
}

std::string FieldId(std::string_view path) {
  std::string id = "f_";
  for (char ch : path) id += ch == '.' ? '_' : ch;
  return id;
}

std::string DisplayValue(const PageCtx& c, const domain::FieldSpec* spec, std::string_view path,
                         const std::string& value) {
  if (value == "null") return "";
  if (spec == nullptr) return value;
  switch (spec->kind) {
    case domain::Kind::kDate:
      return DisplayDate(value);
    case domain::Kind::kDateTime:
      if (value.size() == 16 && value[10] == 'T')
        return DisplayDate(value.substr(0, 10)) + " " + value.substr(11);
      return value;
    case domain::Kind::kEnum:
      return ChoiceLabel(c, path, value);
    case domain::Kind::kMoney: {
      int64_t v = 0;
      auto r = std::from_chars(value.data(), value.data() + value.size(), v);
      if (r.ec == std::errc() && r.ptr == value.data() + value.size()) return Money(v, c.lang());
      return value;
    }
    case domain::Kind::kTextList:
    case domain::Kind::kIntList:
      return FormText(*spec, value);
    default:
      return value;
  }
}

std::string RegisterRef(std::string_view id) {
  // COMMUNE-REGISTER-YEAR-NUMBER
  std::vector<std::string_view> seg;
  size_t at = 0;
  while (at <= id.size()) {
    size_t dash = id.find('-', at);
    if (dash == std::string_view::npos) dash = id.size();
    seg.push_back(id.substr(at, dash - at));
    at = dash + 1;
  }
  if (seg.size() != 4 || seg[2].size() != 4 || seg[3].empty()) return "";
  return std::string(seg[1]) + " " + std::string(seg[2]) + "/" + std::string(seg[3]);
}

std::string Winner(const store::RecordView& r, std::string_view field) {
  const crdt::MvRegister* reg = r.state.Field(field);
  const crdt::RegisterEntry* w = reg != nullptr ? reg->Winner() : nullptr;
  if (w == nullptr || w->value.is_null()) return "";
  return w->value.ToDisplay();
}

const domain::TypeSchema* SchemaOf(const store::RecordView& r) {
  const std::string type = r.state.Type();
  const std::string event = Winner(r, "data.event_type");
  const std::string kind = Winner(r, "data.violator_kind");
  const domain::TypeSchema* first = nullptr;
  for (const domain::TypeSchema& s : domain::AllSchemas()) {
    if (s.type != type) continue;
    if (first == nullptr) first = &s;
    if (s.variant.empty() || s.variant == event || s.variant == kind) return &s;
  }
  return first;
}

std::string NamesOf(const store::RecordView& r) {
  const domain::TypeSchema* s = SchemaOf(r);
  if (s == nullptr) return "";
  std::string out;
  for (const std::string& p : s->name_paths) {
    const std::string v = Winner(r, p);
    if (v.empty()) continue;
    out += (out.empty() ? "" : "; ") + v;
  }
  return out;
}

std::string DateOf(const store::RecordView& r) {
  std::string d = Winner(r, "registered_at");
  if (d.empty()) d = Winner(r, "data.decision_date");
  return d;
}

bool OfficerField(const domain::FieldSpec& f) {
  const std::string& p = f.path;
  if (p == "registered_at") return true;
  if (p.rfind("data.", 0) != 0) return false;  // header: the server's
  return p != "data.event_type" && p != "data.violator_kind" && p != "data.event";
}

void RenderFields(Html& h, const PageCtx& c, const domain::TypeSchema& schema,
                  const FormState& state) {
  std::vector<std::string> open;  // blocks whose fieldset is open
  auto close_to = [&](const std::string& path) {
    while (!open.empty() && path.rfind(open.back() + ".", 0) != 0) {
      h << "</fieldset>";
      open.pop_back();
    }
  };
  for (const domain::FieldSpec& f : schema.fields) {
    if (!OfficerField(f)) continue;
    close_to(f.path);
    if (f.kind == domain::Kind::kBlock) {
      h << "<fieldset class=\"block\" id=\"" << Esc(FieldId(f.path)) << "\"><legend>"
        << Esc(FieldLabel(c, schema.type, f.path));
      if (!f.required)
        h << " <span class=\"hint\">" << Esc(c.T("form.optional_block")) << "</span>";
      h << "</legend>";
      open.push_back(f.path);
      continue;
    }
    const std::string id = FieldId(f.path);
    auto v = state.values.find(f.path);
    const std::string value = v != state.values.end() ? v->second : std::string();
    auto e = state.errors.find(f.path);
    const bool bad = e != state.errors.end();
    const bool wide = f.kind == domain::Kind::kNotes || f.kind == domain::Kind::kTextList ||
                      f.kind == domain::Kind::kIntList || f.path.ends_with("description");
    // Inside a person's fieldset its legend names the person.
    const std::string label =
        open.empty() ? FieldLabel(c, schema.type, f.path) : ShortLabel(c, schema.type, f.path);
    h << "<div class=\"field" << (wide ? " wide" : "") << "\"><label for=\"" << Esc(id) << "\">"
      << Esc(label);
    if (f.required) {
      h << " <abbr class=\"req\" title=\"" << Esc(c.T("form.required")) << "\">*</abbr>";
    }
    h << "</label>";
    const std::string common =
        " id=\"" + Esc(id) + "\" name=\"" + Esc(f.path) + "\"" +
        (f.required ? " aria-required=\"true\"" : "") +
        (bad ? " aria-invalid=\"true\" aria-describedby=\"" + Esc(id) + "-err\"" : "");
    switch (f.kind) {
      case domain::Kind::kEnum: {
        h << "<select" << common << "><option value=\"\"></option>";
        for (const std::string& ch : f.choices) {
          h << "<option value=\"" << Esc(ch) << "\"" << (ch == value ? " selected" : "") << ">"
            << Esc(ChoiceLabel(c, f.path, ch)) << "</option>";
        }
        h << "</select>";
        break;
      }
      case domain::Kind::kNotes:
      case domain::Kind::kTextList:
      case domain::Kind::kIntList:
        h << "<textarea" << common << " rows=\"3\">" << Esc(value) << "</textarea>";
        if (f.kind != domain::Kind::kNotes)
          h << "<span class=\"hint\">" << Esc(c.T("form.one_per_line")) << "</span>";
        break;
      default: {
        std::string kind, extra;
        if (IsDateKind(f.kind)) {
          kind = "date";
          extra = " placeholder=\"dd/mm/yyyy\" inputmode=\"numeric\" maxlength=\"10\"";
        } else if (f.kind == domain::Kind::kDateTime) {
          kind = "datetime";
          extra = " placeholder=\"dd/mm/yyyy hh:mm\" maxlength=\"16\"";
        } else if (f.kind == domain::Kind::kPersonalId) {
          kind = "personal_id";
          extra = " inputmode=\"numeric\" maxlength=\"12\" autocomplete=\"off\"";
        } else if (f.kind == domain::Kind::kCommuneCode ||
                   f.kind == domain::Kind::kOldCommuneCode) {
          kind = "commune";
          extra = " inputmode=\"numeric\" maxlength=\"5\"";
        } else if (f.kind == domain::Kind::kInt || f.kind == domain::Kind::kYear) {
          kind = f.kind == domain::Kind::kYear ? "year" : "int";
          extra = " inputmode=\"numeric\"";
        } else if (f.kind == domain::Kind::kMoney) {
          kind = "money";
          extra = " inputmode=\"numeric\"";
        }
        h << "<input type=\"text\"" << common << " value=\"" << Esc(value) << "\"";
        if (!kind.empty()) h << " data-kind=\"" << kind << "\"";
        h << extra << ">";
      }
    }
    h << "<span class=\"field-error\" id=\"" << Esc(id) << "-err\" role=\"alert\">";
    if (bad) h.Text(e->second);
    h << "</span></div>";
  }
  close_to("");
}

bool FormValue(const PageCtx& c, const domain::FieldSpec& f, const std::string& raw,
               std::string* out, std::string* error) {
  std::string text = raw;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '\n'))
    text.pop_back();
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.erase(0, 1);
  switch (f.kind) {
    case domain::Kind::kDate: {
      auto d = ParseDisplayDate(text);
      if (!d) {
        *error = std::string(c.T("form.bad_date"));
        return false;
      }
      *out = *d;
      return true;
    }
    case domain::Kind::kDateTime: {
      // "dd/mm/yyyy hh:mm" (or the stored form).
      const size_t space = text.find_first_of(" T");
      auto d = ParseDisplayDate(text.substr(0, space));
      std::string time = space == std::string::npos ? "" : text.substr(space + 1);
      while (!time.empty() && time.front() == ' ') time.erase(0, 1);
      if (time.size() == 4 && time[1] == ':') time = "0" + time;
      if (!d || time.size() != 5 || time[2] != ':') {
        *error = std::string(c.T("form.bad_datetime"));
        return false;
      }
      *out = *d + "T" + time;
      return true;
    }
    case domain::Kind::kMoney:
    case domain::Kind::kInt:
    case domain::Kind::kYear:
      *out = PlainNumber(text);
      return true;
    case domain::Kind::kTextList:
    case domain::Kind::kIntList: {
      // Written as JSON text: the field's kind reads it back (CoerceField).
      std::string list = "[";
      for (const std::string& line : Lines(text)) {
        if (list.size() > 1) list += ",";
        if (f.kind == domain::Kind::kIntList) {
          const std::string n = PlainNumber(line);
          int64_t v = 0;
          auto r = std::from_chars(n.data(), n.data() + n.size(), v);
          if (r.ec != std::errc() || r.ptr != n.data() + n.size()) {
            *error = std::string(c.T("form.bad_number_list"));
            return false;
          }
          list += std::to_string(v);
        } else {
          list += Json(line).Dump();
        }
      }
      *out = list + "]";
      return true;
    }
    default:
      *out = text;
      return true;
  }
}

std::string FormText(const domain::FieldSpec& f, const std::string& stored) {
  if (stored == "null") return "";
  switch (f.kind) {
    case domain::Kind::kDate:
      return DisplayDate(stored);
    case domain::Kind::kDateTime:
      if (stored.size() == 16 && stored[10] == 'T')
        return DisplayDate(stored.substr(0, 10)) + " " + stored.substr(11);
      return stored;
    case domain::Kind::kTextList:
    case domain::Kind::kIntList: {
      auto j = ParseJson(stored, nullptr);
      if (!j || !j->is_array()) return stored;
      std::string out;
      for (const Json& e : j->as_array()) {
        out += (out.empty() ? "" : "\n") + (e.is_string() ? e.as_string() : e.Dump());
      }
      return out;
    }
    default:
      return stored;
  }
}

std::string Humanize(const PageCtx& c, std::string_view type, std::string_view message) {
  std::vector<const std::string*> paths;
  for (const domain::TypeSchema& s : domain::AllSchemas()) {
    if (s.type != type) continue;
    for (const domain::FieldSpec& f : s.fields) paths.push_back(&f.path);
  }
  std::sort(paths.begin(), paths.end(),
            [](const std::string* a, const std::string* b) { return a->size() > b->size(); });
  auto ident = [](char ch) { return (ch >= 'a' && ch <= 'z') || ch == '_' || ch == '.'; };
  std::string out(message);
  for (const std::string* p : paths) {
    size_t at = 0;
    while ((at = out.find(*p, at)) != std::string::npos) {
      const size_t end = at + p->size();
      if ((at > 0 && ident(out[at - 1])) ||
          (end < out.size() && ident(out[end]) && out[end] != '.')) {
        at = end;
        continue;
      }
      const std::string label = "«" + FieldLabel(c, type, *p) + "»";
      out.replace(at, p->size(), label);
      at += label.size();
    }
  }
  return out;
}

std::string FieldMessage(const PageCtx& c, std::string_view type, std::string_view field,
                         std::string_view message) {
  std::string_view m = message;
  const std::string prefix = std::string(field) + ": ";
  if (!field.empty() && m.substr(0, prefix.size()) == prefix) m.remove_prefix(prefix.size());
  return Humanize(c, type, m);
}

std::pair<std::string, std::string> SplitRefusal(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon != std::string_view::npos && colon > 0 &&
      message.substr(0, colon).find(' ') == std::string_view::npos) {
    return {std::string(message.substr(0, colon)), std::string(message.substr(colon + 2))};
  }
  return {std::string(), std::string(message)};
}

}  // namespace tuphap::web
