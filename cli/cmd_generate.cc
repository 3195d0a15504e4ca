// tuphap generate: synthetic records in the import format, for trying
// tuphap out, tests and benchmarks (node/domain/record_generator.h).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "node/domain/record_generator.h"
#include "node/domain/reference_data.h"

namespace tuphap::cli {
namespace {

struct GenerateArgs {
  domain::GeneratorOptions options;
  std::vector<std::string> communes;
  std::string province;
  int communes_in_province = 0;
  std::string out = "-";
  std::vector<std::string> bad_classes;
};

Status RunGenerate(const Context&, GenerateArgs& args) {
  domain::GeneratorOptions o = args.options;
  o.communes = args.communes;
  const auto& ref = domain::ReferenceData::Get();
  if (args.communes_in_province != 0 && args.province.empty())
    return Status::InvalidArgument("--communes counts a province's communes: give --province too");
  if (args.communes_in_province < 0)
    return Status::InvalidArgument("--communes cannot be negative");
  if (!args.province.empty()) {
    auto in_province = ref.CommunesOf(args.province);
    if (in_province.empty())
      return Status::InvalidArgument("no communes in province " + args.province);
    const size_t n = args.communes_in_province > 0 ? static_cast<size_t>(args.communes_in_province)
                                                   : in_province.size();
    for (size_t i = 0; i < std::min(n, in_province.size()); ++i)
      o.communes.push_back(in_province[i]->code);
  }
  if (o.communes.empty())
    return Status::InvalidArgument("give --commune CODE (repeatable) or --province CODE");
  for (const auto& c : o.communes) {
    if (ref.Commune(c) == nullptr)
      return Status::InvalidArgument("'" + c + "' is not a current commune code");
  }
  for (const auto& name : args.bad_classes) {
    const std::vector<domain::ErrorClass> known = domain::GeneratedErrorClasses();
    auto it = std::find_if(known.begin(), known.end(),
                           [&](domain::ErrorClass c) { return domain::ErrorClassName(c) == name; });
    if (it == known.end())
      return Status::InvalidArgument("--bad-class '" + name +
                                     "' is not a class the generator builds");
    o.bad_classes.push_back(*it);
  }
  TUPHAP_RETURN_IF_ERROR(domain::CheckGeneratorOptions(o));
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (args.out != "-") {
    file.open(args.out, std::ios::binary);
    if (!file) return Status::IoError("cannot write " + args.out);
    out = &file;
  }
  domain::GenerateRecords(o, [&](const std::string& line) { *out << line << '\n'; });
  out->flush();
  if (!*out) return Status::IoError("writing " + args.out + " failed");
  return Status::Ok();
}

}  // namespace

void RegisterGenerateCommand(CLI::App& app, Context& ctx, Action* action) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* g =
      app.add_subcommand("generate", "Write synthetic records (JSON Lines) for trying tuphap out");
  g->add_option("--records", args->options.records, "create lines")->capture_default_str();
  g->add_option("--seed", args->options.seed, "same seed, same output")->capture_default_str();
  g->add_option("--commune", args->communes, "commune code, repeatable");
  g->add_option("--province", args->province, "take communes from this province");
  g->add_option("--communes", args->communes_in_province,
                "how many of the province's communes (default all)");
  g->add_option("--edits", args->options.edits, "edit lines")->capture_default_str();
  g->add_option("--bad", args->options.bad,
                "share of lines built to be refused, each tagged expect_error");
  g->add_option("--bad-class", args->bad_classes,
                "only this class for bad lines, repeatable (default: every class)");
  g->add_option("--from", args->options.from, "first registration date")->capture_default_str();
  g->add_option("--to", args->options.to, "last registration date")->capture_default_str();
  g->add_option("--out", args->out, "file (default: standard output)");
  g->callback([&ctx, action, args] { *action = [&ctx, args] { return RunGenerate(ctx, *args); }; });
}

}  // namespace tuphap::cli
