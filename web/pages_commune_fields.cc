// Field labels, values for people and the record forms generated from the
// schemas (pages_commune.h).
#include <algorithm>
#include <charconv>
#include <map>
#include <regex>
#include <set>

#include "base/json.h"
#include "node/domain/messages.h"
#include "node/domain/record_json.h"
#include "node/domain/vn_text.h"
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

// Whether `path` sits in a block the record may leave out (a parent, a
// death notice): its required fields are required only when the block is
// filled in.
bool InOptionalBlock(const domain::TypeSchema& s, std::string_view path) {
  for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
    const domain::FieldSpec* b = s.Find(path.substr(0, dot));
    if (b != nullptr && b->kind == domain::Kind::kBlock && (!b->required || b->nullable))
      return true;
  }
  return false;
}

std::string_view LeafOf(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

std::string_view ParentOf(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

// The nationality most records carry, stored as the generator and imports
// write it ("VN"); the form shows the country's name.
constexpr std::string_view kVietNamCode = "VN";
constexpr std::string_view kVietNamName = "Việt Nam";

bool IsVietNam(const std::string& text) {
  const std::string folded = domain::FoldForSearch(text);
  return folded == "viet nam" || folded == "vietnam" || folded == "vn";
}

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  size_t at = 0;
  while ((at = s->find(from, at)) != std::string::npos) {
    s->replace(at, from.size(), to);
    at += to.size();
  }
}

// The field paths of `type` a message may name, the longest first (so that
// "data.child" is not taken out of "data.child.birth_date").
std::vector<const domain::FieldSpec*> PathsOf(std::string_view type) {
  std::vector<const domain::FieldSpec*> paths;
  for (const domain::TypeSchema& s : domain::AllSchemas()) {
    if (s.type != type) continue;
    for (const domain::FieldSpec& f : s.fields) paths.push_back(&f);
  }
  std::sort(paths.begin(), paths.end(), [](const domain::FieldSpec* a, const domain::FieldSpec* b) {
    return a->path.size() > b->path.size();
  });
  return paths;
}

// Every field path in `text` as its label: a person (a block) by its name
// ("Chồng"), a field in «» (its label may hold commas); `own` (the field
// the message is shown at) by `own_label`.
std::string ReplacePaths(const PageCtx& c, std::string_view type, std::string text,
                         std::string_view own, const std::string& own_label) {
  auto ident = [](char ch) { return (ch >= 'a' && ch <= 'z') || ch == '_' || ch == '.'; };
  for (const domain::FieldSpec* f : PathsOf(type)) {
    const std::string& p = f->path;
    size_t at = 0;
    while ((at = text.find(p, at)) != std::string::npos) {
      const size_t end = at + p.size();
      if ((at > 0 && ident(text[at - 1])) ||
          (end < text.size() && ident(text[end]) && text[end] != '.')) {
        at = end;
        continue;
      }
      std::string label = p == own ? own_label : FieldLabel(c, type, p);
      if (f->kind != domain::Kind::kBlock) label = "«" + label + "»";
      text.replace(at, p.size(), label);
      at += label.size();
    }
  }
  return text;
}

// The domain's sentence made to read as one: dates dd/mm/yyyy, sex codes as
// words, "mục" for the catalogue's "trường", a capital first, a full stop.
std::string Tidy(std::string text) {
  static const std::regex kDateTime(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}))");
  static const std::regex kDate(R"((^|[^0-9\-])(\d{4})-(\d{2})-(\d{2})(?![0-9\-]))");
  text = std::regex_replace(text, kDateTime, "$3/$2/$1 $4");
  text = std::regex_replace(text, kDate, "$1$4/$3/$2");
  // Shapes for people, the sex codes where the validator writes them
  // (IdCenturySex, Sexes), and "mục" for the jargon "trường".
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"YYYY-MM-DDTHH:MM", "dd/mm/yyyy hh:mm"},
      {"YYYY-MM-DD", "dd/mm/yyyy"},
      {"giới tính M ", "giới tính nam "},
      {"giới tính F ", "giới tính nữ "},
      {"phải là M:", "phải là nam:"},
      {"phải là F:", "phải là nữ:"},
      {"a M born", "a male born"},
      {"a F born", "a female born"},
      {"must be M:", "must be male:"},
      {"must be F:", "must be female:"},
      {"trường bắt buộc", "mục bắt buộc"},
      {"là trường của", "là mục của"},
      {"chứa trường này", "chứa mục này"},
  };
  for (const auto& [from, to] : kWords) ReplaceAll(&text, from, to);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.empty()) return text;
  // The first letter (a whole UTF-8 sequence) in capitals.
  size_t n = 1;
  const unsigned char lead = static_cast<unsigned char>(text[0]);
  if (lead >= 0xF0)
    n = 4;
  else if (lead >= 0xE0)
    n = 3;
  else if (lead >= 0xC0)
    n = 2;
  if (n <= text.size()) text = domain::ToUpper(text.substr(0, n)) + text.substr(n);
  const char last = text.back();
  if (last != '.' && last != '!' && last != '?') text += '.';
  return text;
}

// `message` without the leading "field: " the registry's refusals and the
// validator's own sentences put before it (once or twice).
std::string_view WithoutPrefix(std::string_view field, std::string_view message) {
  if (field.empty()) return message;
  const std::string prefix = std::string(field) + ": ";
  while (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  return message;
}

bool IsMissing(std::string_view field, std::string_view message) {
  for (domain::Lang l : {domain::Lang::kVietnamese, domain::Lang::kEnglish}) {
    if (message == domain::Format(l, domain::Msg::kMissing, {field})) return true;
  }
  return false;
}

int DaysInMonth(int month, int year) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

// Why `text`, written dd/mm/yyyy, is no date; "" when it is not even
// written so (then the shape is what to say).
std::string NoSuchDate(const PageCtx& c, const std::string& text) {
  static const std::regex kShape(R"((\d{1,2})/(\d{1,2})/(\d{4}))");
  std::smatch m;
  if (!std::regex_match(text, m, kShape)) return "";
  const int d = std::atoi(m[1].str().c_str());
  const int mo = std::atoi(m[2].str().c_str());
  const int y = std::atoi(m[3].str().c_str());
  char shown[32], month[32];
  std::snprintf(shown, sizeof shown, "%02d/%02d/%04d", d, mo, y);
  std::snprintf(month, sizeof month, "%02d/%04d", mo, y);
  if (mo < 1 || mo > 12)
    return domain::FillTemplate(std::string(c.T("form.no_such_month")).c_str(), {shown});
  const int days = DaysInMonth(mo, y);
  if (d < 1 || d > days) {
    return domain::FillTemplate(std::string(c.T("form.no_such_day")).c_str(),
                                {shown, month, std::to_string(days)});
  }
  return domain::FillTemplate(std::string(c.T("form.date_out_of_range")).c_str(), {shown});
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
      if (LeafOf(path) == "nationality" && value == kVietNamCode) return std::string(kVietNamName);
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

std::string RecordLink(const std::string& id) {
  const std::string ref = RegisterRef(id);
  return "<a class=\"record-link\" href=\"/records/" + Esc(UrlEncode(id)) + "\">" +
         Esc(ref.empty() ? id : ref) + "</a>";
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

std::string ImpliedValue(const domain::TypeSchema& schema, std::string_view path) {
  if (LeafOf(path) != "sex") return "";
  for (const domain::Rule& r : schema.rules) {
    if (r.kind == domain::RuleKind::kSexIs && r.a == ParentOf(path)) return r.b;
  }
  return "";
}

namespace {

// What a registration form leaves out: a marriage's dissolution is written
// into its entry later (by an amend), or re-registered with it.
bool LaterField(const domain::TypeSchema& s, const domain::FieldSpec& f) {
  return s.type == "marriage" &&
         (f.path.ends_with(".dissolved_on") || f.path.ends_with(".dissolution"));
}

// The schema's fields in form order: a full name after the last of its
// name parts (the parts are typed, the full name follows from them).
std::vector<const domain::FieldSpec*> FormOrder(const domain::TypeSchema& s) {
  std::map<std::string, size_t> last_part;
  for (size_t i = 0; i < s.fields.size(); ++i) {
    if (s.fields[i].kind == domain::Kind::kNamePart)
      last_part[std::string(ParentOf(s.fields[i].path))] = i;
  }
  std::vector<const domain::FieldSpec*> out;
  std::map<std::string, const domain::FieldSpec*> held;
  for (size_t i = 0; i < s.fields.size(); ++i) {
    const domain::FieldSpec& f = s.fields[i];
    const std::string block(ParentOf(f.path));
    auto last = last_part.find(block);
    if (f.kind == domain::Kind::kFullName && last != last_part.end() && last->second > i) {
      held[block] = &f;
      continue;
    }
    out.push_back(&f);
    if (last != last_part.end() && last->second == i) {
      auto h = held.find(block);
      if (h != held.end()) out.push_back(h->second);
    }
  }
  return out;
}

// Defaults of people's fields: most people registered are Kinh and
// Vietnamese.
std::string PersonDefault(std::string_view path) {
  const std::string_view leaf = LeafOf(path);
  if (leaf == "ethnicity") return "Kinh";
  if (leaf == "nationality") return std::string(kVietNamName);
  return "";
}

}  // namespace

void RenderFields(Html& h, const PageCtx& c, const domain::TypeSchema& schema,
                  const FormState& state, bool new_record) {
  std::vector<std::string> open;  // blocks whose fieldset is open
  auto close_to = [&](const std::string& path) {
    while (!open.empty() && path.rfind(open.back() + ".", 0) != 0) {
      h << "</fieldset>";
      open.pop_back();
    }
  };
  bool nationality_list = false;
  for (const domain::FieldSpec* fp : FormOrder(schema)) {
    const domain::FieldSpec& f = *fp;
    if (!OfficerField(f)) continue;
    if (new_record && LaterField(schema, f)) continue;
    close_to(f.path);
    if (f.kind == domain::Kind::kBlock) {
      h << "<fieldset class=\"block\" id=\"" << Esc(FieldId(f.path)) << "\"><legend>"
        << Esc(FieldLabel(c, schema.type, f.path));
      if (!f.required || f.nullable)
        h << " <span class=\"hint\">" << Esc(c.T("form.optional_block")) << "</span>";
      h << "</legend>";
      open.push_back(f.path);
      continue;
    }
    const std::string id = FieldId(f.path);
    auto v = state.values.find(f.path);
    const std::string value = v != state.values.end() ? v->second : std::string();
    // A value the rules leave no choice for (a husband is a man): filled,
    // not asked.
    const std::string implied = ImpliedValue(schema, f.path);
    if (!implied.empty()) {
      h << "<input type=\"hidden\" id=\"" << Esc(id) << "\" name=\"" << Esc(f.path) << "\" value=\""
        << Esc(value.empty() ? implied : value) << "\">";
      continue;
    }
    auto e = state.errors.find(f.path);
    const bool bad = e != state.errors.end();
    auto w = state.warnings.find(f.path);
    const bool wide = f.kind == domain::Kind::kNotes || f.kind == domain::Kind::kTextList ||
                      f.kind == domain::Kind::kIntList || f.kind == domain::Kind::kPlace ||
                      f.path.ends_with("description");
    // Inside a person's fieldset its legend names the person.
    const std::string label =
        open.empty() ? FieldLabel(c, schema.type, f.path) : ShortLabel(c, schema.type, f.path);
    const bool conditional = f.required && InOptionalBlock(schema, f.path);
    h << "<div class=\"field" << (wide ? " wide" : "") << "\"><label for=\"" << Esc(id) << "\">"
      << Esc(label);
    if (f.required) {
      h << " <abbr class=\"req" << (conditional ? " if-filled" : "") << "\" title=\""
        << Esc(conditional ? c.T("form.required_if_block") : c.T("form.required")) << "\">*</abbr>";
    }
    h << "</label>";
    std::string describedby;
    if (bad) describedby = id + "-err";
    if (conditional) describedby += (describedby.empty() ? "" : " ") + id + "-hint";
    const std::string common =
        " id=\"" + Esc(id) + "\" name=\"" + Esc(f.path) + "\"" +
        (f.required && !conditional ? " aria-required=\"true\"" : "") +
        (bad ? " aria-invalid=\"true\"" : "") +
        (describedby.empty() ? "" : " aria-describedby=\"" + Esc(describedby) + "\"");
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
        if (LeafOf(f.path) == "nationality") {
          extra += " list=\"nationalities\"";
          nationality_list = true;
        }
        // In a block the record may leave out, the defaults are filled by
        // the script once the block is begun (a parent who is named).
        const std::string fallback = PersonDefault(f.path);
        if (!fallback.empty() && InOptionalBlock(schema, f.path))
          extra += " data-default=\"" + Esc(fallback) + "\"";
        h << "<input type=\"text\"" << common << " value=\"" << Esc(value) << "\"";
        if (!kind.empty()) h << " data-kind=\"" << kind << "\"";
        h << extra << ">";
      }
    }
    if (conditional) {
      h << "<span class=\"hint\" id=\"" << Esc(id) << "-hint\">"
        << Esc(c.T("form.required_if_block")) << "</span>";
    }
    h << "<span class=\"field-error\" id=\"" << Esc(id) << "-err\" role=\"alert\">";
    if (bad) h.Text(e->second);
    h << "</span><span class=\"field-warning\" id=\"" << Esc(id) << "-warn\" role=\"status\">";
    if (w != state.warnings.end()) h.Text(w->second);
    h << "</span></div>";
  }
  close_to("");
  if (nationality_list) {
    h << "<datalist id=\"nationalities\"><option value=\"" << Esc(kVietNamName)
      << "\"></option></datalist>";
  }
}

void FormDefaults(const PageCtx& c, const domain::TypeSchema& schema, FormState* state) {
  state->values["registered_at"] = DisplayDate(c.office.Today());
  for (const domain::FieldSpec& f : schema.fields) {
    if (!OfficerField(f) || f.kind == domain::Kind::kBlock) continue;
    std::string v;
    if (LeafOf(f.path) == "registrar" && c.officer != nullptr) {
      v = c.officer->name;
    } else if (!InOptionalBlock(schema, f.path)) {
      v = PersonDefault(f.path);
      if (v.empty()) v = ImpliedValue(schema, f.path);
    }
    if (!v.empty()) state->values[f.path] = v;
  }
}

void FillFullNames(const domain::TypeSchema& schema, std::map<std::string, std::string>* values) {
  auto blank = [](const std::string& t) {
    return t.find_first_not_of(" \t\r\n") == std::string::npos;
  };
  for (const domain::FieldSpec& f : schema.fields) {
    if (f.kind != domain::Kind::kFullName) continue;
    std::string& full = (*values)[f.path];
    if (!blank(full)) continue;
    const std::string p(ParentOf(f.path));
    std::string joined;
    for (const char* part : {".family_name", ".middle_name", ".given_name"}) {
      auto it = values->find(p + part);
      if (it == values->end() || blank(it->second)) continue;
      std::string t = it->second;
      while (!t.empty() && t.back() == ' ') t.pop_back();
      while (!t.empty() && t.front() == ' ') t.erase(0, 1);
      joined += (joined.empty() ? "" : " ") + t;
    }
    full = joined;
  }
}

std::map<std::string, std::string> DraftWarnings(const PageCtx& c, const domain::TypeSchema& schema,
                                                 const Json& doc) {
  std::map<std::string, std::string> out;
  auto year_of = [&](const std::string& person, std::string* field) -> int {
    const Json* y = domain::JsonAt(doc, person + ".birth_year");
    if (y != nullptr && y->is_int()) {
      *field = person + ".birth_year";
      return static_cast<int>(y->as_int());
    }
    const Json* d = domain::JsonAt(doc, person + ".birth_date");
    if (d != nullptr && d->is_string() && d->as_string().size() >= 4) {
      *field = person + ".birth_date";
      return std::atoi(d->as_string().substr(0, 4).c_str());
    }
    return 0;
  };
  // A parent and the child of one record: a birth's mother and father, a
  // recognition's parent.
  for (const domain::FieldSpec& f : schema.fields) {
    if (f.kind != domain::Kind::kBlock) continue;
    const std::string_view leaf = LeafOf(f.path);
    if (leaf != "mother" && leaf != "father" && leaf != "parent") continue;
    const std::string child = std::string(ParentOf(f.path)) + ".child";
    std::string parent_field, child_field;
    const int parent_year = year_of(f.path, &parent_field);
    const int child_year = year_of(child, &child_field);
    if (parent_year == 0 || child_year == 0) continue;
    const int age = child_year - parent_year;
    if (age >= 12) continue;
    const std::string who = FieldLabel(c, schema.type, f.path);
    out[parent_field] =
        age < 0 ? domain::FillTemplate(std::string(c.T("form.parent_after_child")).c_str(), {who})
                : domain::FillTemplate(std::string(c.T("form.parent_too_young")).c_str(),
                                       {who, std::to_string(age)});
  }
  return out;
}

void FormErrorSummary(Html& h, const PageCtx& c, const domain::TypeSchema& schema,
                      const FormState& state, std::string_view heading, const std::string& other) {
  const bool any = !heading.empty() || !state.errors.empty() || !other.empty();
  h << "<div class=\"error\" id=\"form-error\" role=\"alert\" tabindex=\"-1\""
    << (any ? "" : " hidden") << "><p>" << Esc(heading) << "</p><ul>";
  std::set<std::string> listed;
  auto item = [&](const std::string& path) {
    auto e = state.errors.find(path);
    if (e == state.errors.end() || !listed.insert(path).second) return;
    h << "<li data-field=\"" << Esc(path) << "\"><a href=\"#" << Esc(FieldId(path)) << "\">";
    auto named = state.named.find(path);
    if (named != state.named.end()) {
      h.Text(named->second);
    } else {
      const std::string label = schema.Find(path) != nullptr ? FieldLabel(c, schema.type, path)
                                : path == "reason"           ? std::string(c.T("amend.reason"))
                                                             : path;
      h.Text(label + ": " + e->second);
    }
    h << "</a></li>";
  };
  for (const domain::FieldSpec* f : FormOrder(schema)) item(f->path);
  for (const auto& [path, message] : state.errors) item(path);
  if (!other.empty()) {
    h << "<li>";
    h.Text(other);
    h << "</li>";
  }
  h << "</ul></div>";
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
        const std::string why = NoSuchDate(c, text);
        *error = why.empty() ? std::string(c.T("form.bad_date")) : why;
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
        const std::string why = d ? "" : NoSuchDate(c, text.substr(0, space));
        *error = why.empty() ? std::string(c.T("form.bad_datetime")) : why;
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
      *out = LeafOf(f.path) == "nationality" && IsVietNam(text) ? std::string(kVietNamCode) : text;
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
      if (LeafOf(f.path) == "nationality" && stored == kVietNamCode)
        return std::string(kVietNamName);
      return stored;
  }
}

std::string Humanize(const PageCtx& c, std::string_view type, std::string_view message) {
  // A node's message (English, as node code writes it) in the page's
  // language; its field paths are labelled below, from this form.
  return Tidy(ReplacePaths(c, type, NodeMessage(c.lang(), message), {}, {}));
}

std::string FieldMessage(const PageCtx& c, std::string_view type, std::string_view field,
                         std::string_view message) {
  std::string_view m = WithoutPrefix(field, message);
  if (IsMissing(field, m)) return std::string(c.T("form.missing"));
  // Under its label the field is "it": a sentence that starts by naming it
  // starts with its short name instead, unquoted.
  const std::string own = ShortLabel(c, type, field);
  std::string text(m);
  if (!field.empty() && m.substr(0, field.size() + 1) == std::string(field) + " ")
    text = own + text.substr(field.size());
  return Tidy(ReplacePaths(c, type, std::move(text), field, own));
}

std::string NamedFieldMessage(const PageCtx& c, std::string_view type, std::string_view field,
                              std::string_view message) {
  std::string_view m = WithoutPrefix(field, message);
  if (field.empty()) return Humanize(c, type, m);
  const std::string label = FieldLabel(c, type, field);
  if (IsMissing(field, m)) return label + ": " + std::string(c.T("form.missing_short"));
  std::string text(m);
  if (m.substr(0, field.size() + 1) == std::string(field) + " ") {
    text = label + text.substr(field.size());
  } else {
    text = label + ": " + text;
  }
  return Tidy(ReplacePaths(c, type, std::move(text), field, label));
}

Json DraftDoc(const PageCtx& c, const domain::TypeSchema& s, FormState* state) {
  Json doc = Json::MakeObject();
  // The variant the schema is (the server's, not typed).
  if (!s.variant.empty()) {
    for (const char* field : {"data.event_type", "data.violator_kind"}) {
      if (s.Find(field) != nullptr) domain::SetJsonAt(&doc, field, Json(s.variant));
    }
  }
  for (const domain::FieldSpec& f : s.fields) {
    if (!OfficerField(f) || f.kind == domain::Kind::kBlock) continue;
    std::string raw = FieldValue(c.form, f.path);
    if (raw.empty()) raw = ImpliedValue(s, f.path);
    state->values[f.path] = raw;
  }
  FillFullNames(s, &state->values);
  for (const domain::FieldSpec& f : s.fields) {
    if (!OfficerField(f) || f.kind == domain::Kind::kBlock) continue;
    const std::string& raw = state->values[f.path];
    if (raw.find_first_not_of(" \r\n\t") == std::string::npos) continue;
    std::string text, error;
    if (!FormValue(c, f, raw, &text, &error)) {
      state->errors[f.path] = error;
      continue;
    }
    domain::SetJsonAt(&doc, f.path, app::Office::CoerceField(s.type, f.path, text));
  }
  return doc;
}

void JudgeAll(PageCtx& c, const domain::TypeSchema& s, const Json& doc, FormState* state) {
  std::vector<std::string> all;
  for (const domain::FieldSpec& f : s.fields) {
    if (OfficerField(f) && f.kind != domain::Kind::kBlock) all.push_back(f.path);
  }
  auto problems = c.office.CheckDraft(s.type, doc, all);
  if (!problems.ok()) return;
  for (const domain::Problem& p : *problems) {
    if (s.Find(p.field) == nullptr || state->errors.count(p.field) > 0) continue;
    state->errors[p.field] = FieldMessage(c, s.type, p.field, p.message);
    state->named[p.field] = NamedFieldMessage(c, s.type, p.field, p.message);
  }
}

std::string PlaceName(const PageCtx& c, const std::string& name) {
  if (c.lang() != domain::Lang::kEnglish) return name;
  static constexpr std::pair<std::string_view, std::string_view> kKinds[] = {
      {"Thành phố ", " City"},
      {"Tỉnh ", " Province"},
      {"Phường ", " Ward"},
      {"Đặc khu ", " Special Zone"},
      {"Xã ", " Commune"}};
  for (const auto& [vi, en] : kKinds) {
    if (name.starts_with(vi)) return name.substr(vi.size()) + std::string(en);
  }
  return name;
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
