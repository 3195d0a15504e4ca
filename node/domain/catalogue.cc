#include "node/domain/catalogue.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

namespace tuphap::embedded {
std::string_view vi_po();
std::string_view field_labels_tsv();
}  // namespace tuphap::embedded

namespace tuphap::domain {
namespace {

// Bounds on the compiled-in file: it is ours, but a bad edit should fail
// loudly in the tests rather than make every command slow.
constexpr size_t kMaxEntries = 20000;
constexpr size_t kMaxText = 4096;
constexpr int kMaxDepth = 4;

// A template split at its placeholders: literal[0] {slot[0]} literal[1] ...
struct Template {
  std::string msgid;
  std::string msgstr;
  std::vector<std::string> literals;
  std::vector<int> slots;
  size_t literal_size = 0;
};

struct Catalogue {
  std::map<std::pair<std::string, std::string>, std::string> entries;  // (ctxt, msgid)
  std::vector<Template> templates;                         // entries with placeholders, no ctxt
  std::map<std::string, std::string, std::less<>> labels;  // field part -> Vietnamese
};

// The text of one PO string token ("..." with C escapes).
std::string Unquote(std::string_view s) {
  std::string out;
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return out;
  s = s.substr(1, s.size() - 2);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    switch (s[++i]) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      default:
        out.push_back(s[i]);
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Template Split(const std::string& msgid, const std::string& msgstr) {
  Template t{msgid, msgstr, {""}, {}, 0};
  for (size_t i = 0; i < msgid.size(); ++i) {
    if (msgid[i] == '{' && i + 2 < msgid.size() && msgid[i + 1] >= '0' && msgid[i + 1] <= '9' &&
        msgid[i + 2] == '}') {
      t.slots.push_back(msgid[i + 1] - '0');
      t.literals.emplace_back();
      i += 2;
    } else {
      t.literals.back().push_back(msgid[i]);
      ++t.literal_size;
    }
  }
  return t;
}

void Add(Catalogue* c, std::string ctxt, std::string id, std::string str) {
  if (id.empty() || str.empty() || c->entries.size() >= kMaxEntries) return;
  if (id.size() > kMaxText || str.size() > kMaxText) return;
  if (ctxt.empty() && id.find('{') != std::string::npos) {
    Template t = Split(id, str);
    if (!t.slots.empty() && t.literal_size > 0) c->templates.push_back(std::move(t));
  }
  c->entries[{std::move(ctxt), std::move(id)}] = std::move(str);
}

Catalogue Parse() {
  Catalogue c;
  std::string ctxt, id, str;
  std::string* current = nullptr;
  bool have = false;
  auto flush = [&] {
    if (have) Add(&c, ctxt, id, str);
    ctxt.clear(), id.clear(), str.clear();
    have = false;
    current = nullptr;
  };
  const std::string_view po = embedded::vi_po();
  size_t at = 0;
  while (at < po.size()) {
    size_t end = po.find('\n', at);
    if (end == std::string_view::npos) end = po.size();
    const std::string_view line = Trim(po.substr(at, end - at));
    at = end + 1;
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '"') {
      if (current != nullptr) current->append(Unquote(line));
      continue;
    }
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, sp);
    const std::string value = Unquote(Trim(line.substr(sp + 1)));
    if (key == "msgctxt") {
      flush();
      ctxt = value, current = &ctxt;
    } else if (key == "msgid") {
      if (current != &ctxt) flush();  // a msgid right after its msgctxt: one entry
      id = value, current = &id, have = true;
    } else if (key == "msgstr") {
      str = value, current = &str;
    }
  }
  flush();
  // Field labels come from the web app's catalogue (field.<part>), so a
  // field has one Vietnamese name everywhere.
  const std::string_view tsv = embedded::field_labels_tsv();
  at = 0;
  while (at < tsv.size()) {
    size_t end = tsv.find('\n', at);
    if (end == std::string_view::npos) end = tsv.size();
    const std::string_view line = tsv.substr(at, end - at);
    at = end + 1;
    if (line.substr(0, 6) != "field.") continue;
    const size_t t1 = line.find('\t');
    const size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) continue;
    c.labels.emplace(std::string(line.substr(6, t1 - 6)),
                     std::string(line.substr(t1 + 1, t2 - t1 - 1)));
  }
  return c;
}

const Catalogue& Get() {
  static const Catalogue c = Parse();
  return c;
}

bool Strict() {
  const char* v = std::getenv("TUPHAP_I18N_STRICT");
  return v != nullptr && std::string_view(v) == "1";
}

std::string Fill(std::string_view tmpl, const std::vector<std::string>& args) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{' && i + 2 < tmpl.size() && tmpl[i + 1] >= '0' && tmpl[i + 1] <= '9' &&
        tmpl[i + 2] == '}') {
      const size_t n = static_cast<size_t>(tmpl[i + 1] - '0');
      if (n < args.size()) out.append(args[n]);
      i += 2;
    } else {
      out.push_back(tmpl[i]);
    }
  }
  return out;
}

// Matches `m` against t's literals from literal `k` on, capturing the pieces
// between them; the first (shortest) capture that lets the rest match wins.
bool Match(const Template& t, std::string_view m, size_t k, std::vector<std::string_view>* caps) {
  const std::string& lit = t.literals[k];
  if (m.substr(0, lit.size()) != lit) return false;
  m.remove_prefix(lit.size());
  if (k + 1 == t.literals.size()) return m.empty();
  const std::string& next = t.literals[k + 1];
  const bool last = k + 2 == t.literals.size();
  for (size_t len = 1; len <= m.size(); ++len) {
    if (last && !next.empty()) {
      // The last literal ends the message: one place only.
      len = m.size() >= next.size() ? m.size() - next.size() : 0;
      if (len == 0 || m.substr(len) != next) return false;
    }
    if (m.substr(len, next.size()) == next) {
      caps->push_back(m.substr(0, len));
      if (Match(t, m.substr(len), k + 1, caps)) return true;
      caps->pop_back();
    }
    if (last && !next.empty()) return false;
  }
  return false;
}

bool LooksLikePath(std::string_view s) {
  if (s.empty() || s.find('.') == std::string_view::npos) return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
          ch == '[' || ch == ']'))
      return false;
  }
  return true;
}

// The operating system's error texts (strerror, std::error_code::message()
// of the generic and system categories: glibc's English) to their errno
// numbers, built once. The common ones have catalogue entries; this finds
// the others, so they are still said to be the system's words.
const std::map<std::string, int, std::less<>>& OsErrorTexts() {
  static const auto* texts = [] {
    auto* m = new std::map<std::string, int, std::less<>>;
    for (int e = 1; e < 256; ++e) {
      char buf[256];
      const char* text = strerror_r(e, buf, sizeof buf);  // GNU: returns the text
      if (text == nullptr || std::string_view(text).starts_with("Unknown error")) continue;
      m->emplace(text, e);
    }
    return m;
  }();
  return *texts;
}

std::optional<std::string> Translate(std::string_view m, int depth);

std::string TranslatePiece(std::string_view piece, int depth) {
  if (auto t = Translate(piece, depth + 1)) return *t;
  return std::string(piece);
}

std::optional<std::string> Translate(std::string_view m, int depth) {
  const Catalogue& c = Get();
  if (m.empty()) return std::string();
  if (auto it = c.entries.find({std::string(), std::string(m)}); it != c.entries.end()) {
    return it->second;
  }
  if (auto it = OsErrorTexts().find(m); it != OsErrorTexts().end()) {
    // An OS error without an entry of its own: named as the system's, with
    // its number, the English kept for a search.
    if (auto vi = c.entries.find({std::string(), "operating system error {0}: {1}"});
        vi != c.entries.end()) {
      return Fill(vi->second, {std::to_string(it->second), std::string(m)});
    }
  }
  if (depth > kMaxDepth || m.size() > 4 * kMaxText) return std::nullopt;
  const Template* best = nullptr;
  std::vector<std::string_view> best_caps;
  for (const Template& t : c.templates) {
    if (best != nullptr && t.literal_size <= best->literal_size) continue;
    std::vector<std::string_view> caps;
    if (Match(t, m, 0, &caps)) best = &t, best_caps = std::move(caps);
  }
  if (best != nullptr) {
    std::vector<std::string> args(10);
    for (size_t i = 0; i < best->slots.size(); ++i) {
      args[static_cast<size_t>(best->slots[i])] = TranslatePiece(best_caps[i], depth);
    }
    return Fill(best->msgstr, args);
  }
  // "context: message" built by Annotate or by hand: each side on its own.
  if (const size_t colon = m.find(": "); colon != std::string_view::npos) {
    auto head = Translate(m.substr(0, colon), depth + 1);
    auto tail = Translate(m.substr(colon + 2), depth + 1);
    if (head || tail) {
      const std::string h = head ? *head : std::string(m.substr(0, colon));
      const std::string t = tail ? *tail : std::string(m.substr(colon + 2));
      return h + ": " + t;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> CatalogueLookup(std::string_view msgid, std::string_view ctxt) {
  const Catalogue& c = Get();
  auto it = c.entries.find({std::string(ctxt), std::string(msgid)});
  if (it == c.entries.end()) return std::nullopt;
  return std::string_view(it->second);
}

size_t CatalogueSize() { return Get().entries.size(); }

std::string TrCtx(Lang lang, std::string_view ctxt, std::string_view en,
                  std::initializer_list<std::string_view> args) {
  const std::vector<std::string> a(args.begin(), args.end());
  if (lang != Lang::kVietnamese) return Fill(en, a);
  if (auto vi = CatalogueLookup(en, ctxt)) return Fill(*vi, a);
  return (Strict() ? "[UNTRANSLATED] " : "") + Fill(en, a);
}

std::string Tr(Lang lang, std::string_view en, std::initializer_list<std::string_view> args) {
  return TrCtx(lang, {}, en, args);
}

std::string TrList(Lang lang, std::string_view en, const std::vector<std::string>& args) {
  if (lang != Lang::kVietnamese) return Fill(en, args);
  if (auto vi = CatalogueLookup(en)) return Fill(*vi, args);
  return (Strict() ? "[UNTRANSLATED] " : "") + Fill(en, args);
}

// Text a front end already put in Vietnamese (through Tr) carries letters
// English never has: it passes through as it is.
bool LooksVietnamese(std::string_view s) {
  for (std::string_view mark : {"đ", "ư", "ơ", "ă", "â", "ê", "ô", "à", "á", "ả", "ã", "ạ", "ế",
                                "ề", "ệ", "ố", "ồ", "ộ", "ớ", "ờ", "ợ", "ứ", "ừ", "ự", "í", "ì",
                                "ị", "ú", "ù", "ụ", "ó", "ò", "ọ", "é", "è", "ẹ", "ấ", "ầ", "ậ"}) {
    if (s.find(mark) != std::string_view::npos) return true;
  }
  return false;
}

std::string TranslateMessageText(Lang lang, std::string_view message) {
  if (lang != Lang::kVietnamese) return std::string(message);
  if (auto t = Translate(message, 0)) return *t;
  if (LooksVietnamese(message)) return std::string(message);
  return (Strict() ? "[UNTRANSLATED] " : "") + std::string(message);
}

std::string TranslateMessage(Lang lang, std::string_view message) {
  return LabelPaths(lang, TranslateMessageText(lang, message));
}

std::string LabelPaths(Lang lang, std::string_view text) {
  if (lang != Lang::kVietnamese) return std::string(text);
  auto in_path = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
           ch == '[' || ch == ']';
  };
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    if (!in_path(text[at])) {
      out += text[at++];
      continue;
    }
    size_t end = at;
    while (end < text.size() && in_path(text[end])) ++end;
    std::string_view token = text.substr(at, end - at);
    // A sentence's full stop is not part of the path.
    while (!token.empty() && token.back() == '.') token.remove_suffix(1);
    out += LooksLikePath(token) ? FieldLabel(lang, token) : std::string(token);
    at += token.empty() ? 1 : token.size();
    if (token.empty()) out += text[at - 1];
  }
  return out;
}

std::string FieldLabel(Lang lang, std::string_view path) {
  if (lang != Lang::kVietnamese) return std::string(path);
  const Catalogue& c = Get();
  std::string out;
  size_t at = 0;
  while (at < path.size()) {
    size_t end = path.find_first_of(".[", at);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(at, end - at);
    auto it = c.labels.find(part);
    if (it == c.labels.end()) return std::string(path);
    if (!out.empty()) out += " › ";
    out += it->second;
    if (end < path.size() && path[end] == '[') {
      const size_t close = path.find(']', end);
      if (close == std::string_view::npos) return std::string(path);
      out += " " + std::to_string(
                       std::atoi(std::string(path.substr(end + 1, close - end - 1)).c_str()) + 1);
      end = close + 1;
    }
    at = end < path.size() && path[end] == '.' ? end + 1 : end;
  }
  return out + " (" + std::string(path) + ")";
}

}  // namespace tuphap::domain
