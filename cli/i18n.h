// The CLI's own texts in the officer's language: CLI11's help (descriptions,
// group names, labels), its parse errors, and the node's error messages
// printed when a command fails (po/vi.po; docs/architecture.md "Messages").
#pragma once

#include <string>

#include "base/status.h"
#include "cli/context.h"

namespace CLI {
class App;
class Error;
}  // namespace CLI

namespace tuphap::cli {

// Translates the descriptions of `app`, its commands and options (recursively)
// and the help's labels. Call after every command is registered.
void TranslateHelp(CLI::App& app, const Context& ctx);

// What a failed parse prints: CLI11's message translated, and the hint.
std::string ParseFailure(const Context& ctx, const CLI::App& app, const CLI::Error& e);

// A failed Status's message for a person: node code writes English; the
// catalogue turns it into the officer's language (domain::TranslateMessage).
std::string ErrorMessage(const Context& ctx, const Status& s);

}  // namespace tuphap::cli
