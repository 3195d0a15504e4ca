// tuphap schema [TYPE]: the record schemas as the validator uses them —
// every field with its kind, whether it is required, and its merge policy.
#include <ostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "node/domain/schema.h"

namespace tuphap::cli {
namespace {

Status RunSchema(const Context& ctx, const std::string& type) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<const domain::TypeSchema*> schemas,
                          app::Office::Schemas(type));
  Json all = Json::MakeArray();
  for (const domain::TypeSchema* schema : schemas) {
    const domain::TypeSchema& s = *schema;
    if (ctx.json) {
      Json fields = Json::MakeArray();
      for (const domain::FieldSpec& f : s.fields) {
        Json j = Json::MakeObject();
        j.Set("path", f.path);
        j.Set("kind", domain::KindName(f.kind));
        j.Set("required", f.required);
        j.Set("nullable", f.nullable);
        j.Set("merge", domain::MergeName(f.merge));
        if (!f.choices.empty()) {
          Json c = Json::MakeArray();
          for (const auto& v : f.choices) c.Push(v);
          j.Set("choices", std::move(c));
        }
        fields.Push(std::move(j));
      }
      Json j = Json::MakeObject();
      j.Set("type", s.type);
      if (!s.variant.empty()) j.Set("variant", s.variant);
      j.Set("fields", std::move(fields));
      all.Push(std::move(j));
      continue;
    }
    *ctx.out << RecordTypeText(ctx.lang, s.type)
             << (ctx.lang == domain::Lang::kVietnamese ? " ('" + s.type + "')" : "")
             << (s.variant.empty() ? "" : " (" + RecordTypeText(ctx.lang, s.variant) + ")") << '\n';
    Table t({Tr(ctx, "field"), TrCtx(ctx, "schema", "kind"), Tr(ctx, "required"),
             TrCtx(ctx, "schema", "merge")});
    for (const domain::FieldSpec& f : s.fields) {
      std::string kind = TrCtx(ctx, "schema", domain::KindName(f.kind));
      for (size_t i = 0; i < f.choices.size(); ++i) kind += (i == 0 ? " " : "|") + f.choices[i];
      t.Add({FieldText(ctx.lang, f.path), kind,
             f.required ? (f.nullable ? Tr(ctx, "yes, or null") : Tr(ctx, "yes")) : "",
             TrCtx(ctx, "schema", domain::MergeName(f.merge))});
    }
    t.Print(*ctx.out);
    *ctx.out << '\n';
  }
  if (ctx.json) ctx.PrintJson(all);
  return Status::Ok();
}

}  // namespace

void RegisterSchemaCommand(CLI::App& app, Context& ctx, Action* action) {
  auto type = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("schema", "Show the fields of each record type and their merge policy");
  cmd->add_option("type", *type, "one record type (default: all)");
  cmd->callback([&ctx, action, type] { *action = [&ctx, type] { return RunSchema(ctx, *type); }; });
}

}  // namespace tuphap::cli
