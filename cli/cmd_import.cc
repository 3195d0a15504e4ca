// tuphap import FILE|- : streams JSON Lines, validates each line, commits
// accepted lines in batches, reports every refused line, then a summary.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <ostream>

#include "base/line_reader.h"
#include "cli/commands.h"
#include "node/domain/catalogue.h"

namespace tuphap::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted = true; }

struct ImportArgs {
  std::string file;
  bool all_or_nothing = false;
  int batch = 1000;
};

Status RunImport(const Context& ctx, const ImportArgs& args) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> reader, LineReader::Open(args.file));
  g_interrupted = false;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sa.sa_flags = SA_RESTART;  // reads and writes go on; the import loop polls the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  domain::ImportOptions options;
  options.all_or_nothing = args.all_or_nothing;
  options.batch = args.batch;
  options.interrupted = &g_interrupted;
  // A progress bar only on a terminal, never in piped output.
  const uint64_t total = reader->size();
  if (isatty(STDERR_FILENO) != 0 && total > 0 && !ctx.json) {
    options.progress = [total](uint64_t bytes, uint64_t lines) {
      const int pct = static_cast<int>(bytes * 100 / total);
      std::string bar(static_cast<size_t>(pct * 30 / 100), '#');
      bar.resize(30, '.');
      std::fprintf(stderr, "\r[%s] %3d%%  %llu lines", bar.c_str(), pct,
                   static_cast<unsigned long long>(lines));
    };
  }
  options.refused = [&ctx](uint64_t line, const domain::Problem& p) {
    const std::string_view cls = domain::ErrorClassName(p.error_class);
    if (ctx.json) {
      Json j = Json::MakeObject();
      j.Set("line", static_cast<int64_t>(line));
      j.Set("class", cls);
      j.Set("field", p.field);
      j.Set("message", p.message);
      ctx.PrintJson(j);
    } else {
      *ctx.out << Tr(ctx, "line {0}", {std::to_string(line)}) << ": " << cls << ": "
               << (p.field.empty() ? "-" : domain::FieldLabel(ctx.lang, p.field)) << ": "
               << domain::LabelPaths(ctx.lang, p.message) << '\n';
    }
  };
  TUPHAP_ASSIGN_OR_RETURN(domain::ImportSummary s, office->Import(*reader, options));
  if (options.progress) std::fprintf(stderr, "\r%60s\r", "");
  if (ctx.json) {
    Json sum = Json::MakeObject();
    sum.Set("accepted", static_cast<int64_t>(s.accepted));
    sum.Set("refused", static_cast<int64_t>(s.refused));
    sum.Set("duplicates", static_cast<int64_t>(s.duplicates));
    Json by = Json::MakeObject();
    for (const auto& [k, v] : s.by_class) by.Set(k, static_cast<int64_t>(v));
    sum.Set("by_class", std::move(by));
    sum.Set("lines", static_cast<int64_t>(s.lines));
    sum.Set("complete", s.complete);
    sum.Set("rolled_back", s.rolled_back);
    Json j = Json::MakeObject();
    j.Set("summary", std::move(sum));
    ctx.PrintJson(j);
  } else {
    *ctx.out << Tr(ctx, "accepted {0}, refused {1}, already present {2} ({3} lines)",
                   {std::to_string(s.accepted), std::to_string(s.refused),
                    std::to_string(s.duplicates), std::to_string(s.lines)})
             << '\n';
    for (const auto& [k, v] : s.by_class) *ctx.out << "  " << k << ": " << v << '\n';
    if (s.accepted == 0 && s.duplicates > 0 && s.refused == 0) {
      *ctx.out << Tr(ctx, "nothing new: every record in the file was already imported") << '\n';
    }
    if (s.rolled_back)
      *ctx.out << Tr(ctx, "--all-or-nothing: nothing was committed because some lines were refused")
               << '\n';
  }
  if (!s.complete) {
    const std::string done =
        s.lines == 0 ? "nothing was committed"
                     : "the batches through line " + std::to_string(s.lines) + " are committed";
    return Status::Cancelled(
        "interrupted: " + done +
        "; run the same import again to finish (records already in are skipped)");
  }
  // Exit 2 (invalid input, README) when any line was refused: a script
  // must not take a file with refused lines for a clean import. The
  // summary above says what was committed.
  if (s.refused > 0) {
    const std::string count = std::to_string(s.refused);
    return Status::InvalidArgument(
        s.rolled_back
            ? Tr(ctx, "{0} line(s) refused: nothing was committed (--all-or-nothing)", {count})
            : Tr(ctx, "{0} line(s) refused (listed above); the accepted lines are committed",
                 {count}));
  }
  return Status::Ok();
}

}  // namespace

void RegisterImportCommand(CLI::App& app, Context& ctx, Action* action) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* imp =
      app.add_subcommand("import", "Import records from a JSON Lines file (- for stdin)");
  imp->add_option("file", args->file, "JSON Lines file, or - for standard input")->required();
  imp->add_flag("--all-or-nothing", args->all_or_nothing, "commit nothing if any line is refused");
  imp->add_option("--batch", args->batch, "lines per committed batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  imp->callback([&ctx, action, args] { *action = [&ctx, args] { return RunImport(ctx, *args); }; });
}

}  // namespace tuphap::cli
