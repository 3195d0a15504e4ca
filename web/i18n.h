// Every string the web app shows a person, in one catalogue
// (web/catalogue.tsv: key, Vietnamese, English — compiled in). Pages ask by
// key; Vietnamese is the default, English by the switch in the page header.
// A key missing from the catalogue shows as itself (and the catalogue test
// fails for it: every key the sources use must be there).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "node/domain/messages.h"

namespace tuphap::web {

std::string_view Tr(domain::Lang lang, std::string_view key);
bool HasKey(std::string_view key);
// Every key in the catalogue (tests).
std::vector<std::string> CatalogueKeys();
// A node's message (English, as node code writes it: a refusal, an error)
// in `lang`, through the CLI's message catalogue (po/vi.po); field paths are
// left for the page to label.
std::string NodeMessage(domain::Lang lang, std::string_view message);
// "vi" / "en".
std::string_view LangCode(domain::Lang lang);

}  // namespace tuphap::web
