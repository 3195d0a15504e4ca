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
// "vi" / "en".
std::string_view LangCode(domain::Lang lang);

}  // namespace tuphap::web
