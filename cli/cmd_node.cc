// tuphap init, tuphap digest, tuphap snapshot.
#include <ostream>

#include "base/hex.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/passphrase.h"

namespace tuphap::cli {

void RegisterNodeCommands(CLI::App& app, Context& ctx, Action* action) {
  struct InitArgs {
    std::string role = "commune";
    std::string commune;
    std::string province;
    bool secondary = false;
  };
  auto init_args = std::make_shared<InitArgs>();
  CLI::App* init =
      app.add_subcommand("init", "Create a node (its store and identity) in the data directory");
  init->add_option("--role", init_args->role, "commune or hub")->capture_default_str();
  init->add_option("--commune", init_args->commune, "5-digit commune code (commune role)");
  init->add_option("--province", init_args->province, "2-digit province code (hub role)");
  init->add_flag("--secondary", init_args->secondary,
                 "a further node of a commune that already has its primary node: it takes register "
                 "numbers only from blocks the primary leases to it");
  init->callback([&ctx, action, init_args] {
    *action = [&ctx, init_args]() -> Status {
      node::InitParams p;
      TUPHAP_ASSIGN_OR_RETURN(p.role, node::ParseRole(init_args->role));
      p.commune = init_args->commune;
      p.province = init_args->province;
      p.secondary = init_args->secondary;
      if (p.role == node::Role::kCommune && p.commune.empty()) {
        return Status::InvalidArgument("a commune node needs --commune CODE");
      }
      if (p.role == node::Role::kHub && p.province.empty()) {
        return Status::InvalidArgument("a hub needs --province CODE");
      }
      // Flags that cannot apply to the role are refused, not ignored: a
      // commune's province comes from its code, a hub has no commune and
      // takes no leased numbers.
      if (p.role == node::Role::kCommune && !p.province.empty()) {
        return Status::InvalidArgument(Tr(
            ctx, "--province cannot apply to a commune node: its province comes from --commune"));
      }
      if (p.role == node::Role::kHub && (!p.commune.empty() || p.secondary)) {
        return Status::InvalidArgument(
            Tr(ctx, "{0} cannot apply to a hub (it serves a province: --province)",
               {std::string(p.secondary ? "--secondary" : "--commune")}));
      }
      TUPHAP_ASSIGN_OR_RETURN(replication::SecretBytes pass, ReadNewPassphrase(ctx));
      TUPHAP_RETURN_IF_ERROR(app::Office::Init(ctx.data_dir, p, pass, KdfFromEnvironment()));
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("data", ctx.data_dir);
        j.Set("role", node::RoleName(office->info().role));
        j.Set("node_id", office->node_id());
        j.Set("commune", office->info().commune);
        j.Set("province", office->info().province);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "created {0} node {1} in {2}",
                       {Tr(ctx, node::RoleName(office->info().role)),
                        ShortNodeId(office->info().id), ctx.data_dir})
                 << '\n';
      }
      return Status::Ok();
    };
  });

  auto scope = std::make_shared<std::string>();
  CLI::App* digest = app.add_subcommand(
      "digest", "State digest per scope: equal on two nodes exactly when their records are");
  digest->add_option("--scope", *scope, "only this commune code");
  digest->callback([&ctx, action, scope] {
    *action = [&ctx, scope]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ScopeDigest> digests, office->Digests(*scope));
      if (ctx.json) {
        Json list = Json::MakeArray();
        for (const auto& d : digests) {
          Json j = Json::MakeObject();
          j.Set("scope", d.scope);
          j.Set("records", static_cast<int64_t>(d.records));
          j.Set("digest", ToHex(d.digest));
          list.Push(std::move(j));
        }
        ctx.PrintJson(list);
        return Status::Ok();
      }
      Table t({Tr(ctx, "scope"), Tr(ctx, "records"), Tr(ctx, "digest")});
      for (const auto& d : digests) t.Add({d.scope, std::to_string(d.records), ToHex(d.digest)});
      if (t.empty()) {
        *ctx.out << Tr(ctx, "no records yet") << '\n';
      } else {
        t.Print(*ctx.out);
      }
      return Status::Ok();
    };
  });

  // A consistent copy of the store in one file (SQLite's VACUUM INTO, read
  // under one transaction while the node keeps working): a backup, and what
  // `report reconcile --from` compares with.
  auto snap_out = std::make_shared<std::string>();
  CLI::App* snapshot =
      app.add_subcommand("snapshot", "Write a consistent copy of the store to one file");
  snapshot->add_option("--out", *snap_out, "the file to write (must not exist)")->required();
  snapshot->callback([&ctx, action, snap_out] {
    *action = [&ctx, snap_out]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(uint64_t bytes, office->Snapshot(*snap_out));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("file", *snap_out);
        j.Set("bytes", static_cast<int64_t>(bytes));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "snapshot written to {0} ({1} bytes)",
                       {*snap_out, std::to_string(bytes)})
                 << '\n';
      }
      return Status::Ok();
    };
  });
}

}  // namespace tuphap::cli
