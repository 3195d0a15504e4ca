// The Vietnamese message catalogue: po/vi.po (gettext PO: msgid = the English
// text, msgstr = the Vietnamese; placeholders {0}..{9}), compiled into the
// binary so a node needs no locale files and no vi_VN locale on the machine.
// English is the msgid itself, so an English run never consults the file.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/domain/messages.h"

namespace tuphap::domain {

// The Vietnamese for `msgid` (in context `ctxt`, empty for none), or nullopt.
std::optional<std::string_view> CatalogueLookup(std::string_view msgid, std::string_view ctxt = {});

// `en` in `lang`, with {N} filled from `args`. A Vietnamese miss falls back to
// the English; with TUPHAP_I18N_STRICT=1 in the environment the miss is
// marked "[UNTRANSLATED]" so the walk test (tests/i18n) sees it.
std::string Tr(Lang lang, std::string_view en, std::initializer_list<std::string_view> args = {});
// The same with a msgctxt, for an English text that needs two translations.
std::string TrCtx(Lang lang, std::string_view ctxt, std::string_view en,
                  std::initializer_list<std::string_view> args = {});

// The same with the arguments in a vector.
std::string TrList(Lang lang, std::string_view en, const std::vector<std::string>& args);

// A message built in English by node code (a Status message) in `lang`: the
// exact text from the catalogue, else a template whose literal parts match
// and whose {N} parts take the variable pieces (ids, paths, numbers, and
// nested messages, translated in turn), else the parts around ": " each
// translated. What matches nothing is left as is (marked under strict mode).
// Field paths in it get their labels (LabelPaths).
std::string TranslateMessage(Lang lang, std::string_view message);
// The same with field paths left as paths, for a front end that labels them
// its own way (the web app, from the form being shown).
std::string TranslateMessageText(Lang lang, std::string_view message);

// A field path ("child.full_name", "parties[0].birth_date") with the
// Vietnamese labels the web app's catalogue gives its parts, followed by the
// path itself; the path alone when a part has no label.
std::string FieldLabel(Lang lang, std::string_view path);

// `text` with every field path in it given its labels (FieldLabel); as it
// is in English.
std::string LabelPaths(Lang lang, std::string_view text);

// How many entries the catalogue holds (for tests).
size_t CatalogueSize();

}  // namespace tuphap::domain
