// The CLI's own texts in the officer's language: CLI11's help (descriptions,
// group names, labels), its parse errors, and the node's error messages
// printed when a command fails (po/vi.po; docs/architecture.md "Messages").
#pragma once

#include <ostream>
#include <streambuf>
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

// The lines the node writes while it serves (node::ServeOptions::log), in
// the officer's language: node code writes them in English, like its Status
// messages, and each whole line goes through the catalogue the same way
// (domain::TranslateMessage) before it reaches `out`. Node code stays free
// of the language, and a line is never split by a translation.
class TranslatedLines final : public std::streambuf {
 public:
  TranslatedLines(std::ostream& out, domain::Lang lang);
  ~TranslatedLines() override;  // an unfinished last line is written too
  TranslatedLines(const TranslatedLines&) = delete;
  TranslatedLines& operator=(const TranslatedLines&) = delete;

  // What node code writes to.
  std::ostream& stream() { return stream_; }

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  void Emit();

  std::ostream& out_;
  domain::Lang lang_;
  std::string line_;
  std::ostream stream_;
};

}  // namespace tuphap::cli
