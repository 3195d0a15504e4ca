// tuphap backup, restore and receipts (docs/operator-guide.md, "Backup and
// restore", "Delivery receipts").
#include <map>

#include "base/clock.h"
#include "base/hex.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "node/keys.h"
#include "node/restore.h"

namespace tuphap::cli {
namespace {

std::string Hex(std::string_view bytes) { return ToHex(bytes); }

// Per scope of this node's own feeds: the highest seq a hub signed for.
std::map<std::string, store::ReceiptRow> BestPerScope(const std::vector<store::ReceiptRow>& rows,
                                                      const crdt::ReplicaId& self) {
  std::map<std::string, store::ReceiptRow> out;
  for (const auto& r : rows) {
    if (r.feed.origin != self) continue;
    auto [it, fresh] = out.try_emplace(r.feed.scope, r);
    if (!fresh && it->second.seq < r.seq) it->second = r;
  }
  return out;
}

}  // namespace

Status AddDeliveryToStatus(const Context& ctx, app::Office& office, Json* j) {
  node::Node& n = office.node();
  TUPHAP_ASSIGN_OR_RETURN(bool restored, n.Restored());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ReceiptRow> rows, n.store().Receipts());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::HubRollbackRow> rollbacks, n.store().HubRollbacks());
  const auto best = BestPerScope(rows, n.info().id);
  // What the hub announced it holds of each feed at the last sync. It may
  // stand above the receipt: a restored node that pulled its changes back
  // sent nothing, so the hub signed nothing new. Unsigned, so shown beside
  // the receipt, never as one.
  std::map<std::string, uint64_t> announced;
  for (const auto& [scope, r] : best) {
    TUPHAP_ASSIGN_OR_RETURN(auto heads, n.PeerHeads(r.hub.bytes));
    auto it = heads.find(store::FeedKey{n.info().id, scope});
    if (it != heads.end() && it->second > r.seq) announced[scope] = it->second;
  }
  if (j != nullptr) {
    j->Set("restored", restored);
    Json delivered = Json::MakeArray();
    for (const auto& [scope, r] : best) {
      Json o = Json::MakeObject();
      o.Set("scope", scope);
      o.Set("seq", static_cast<int64_t>(r.seq));
      o.Set("received_at", ctx.JsonTime(r.received_ms));
      o.Set("hub", node::NodeIdText(r.hub.bytes));
      if (auto it = announced.find(scope); it != announced.end())
        o.Set("announced_seq", static_cast<int64_t>(it->second));
      delivered.Push(std::move(o));
    }
    j->Set("delivered", std::move(delivered));
    Json rb = Json::MakeArray();
    for (const auto& r : rollbacks) {
      Json o = Json::MakeObject();
      o.Set("hub", node::NodeIdText(r.hub.bytes));
      o.Set("scope", r.feed.scope);
      o.Set("signed_seq", static_cast<int64_t>(r.signed_seq));
      o.Set("announced_seq", static_cast<int64_t>(r.announced_seq));
      o.Set("seen_at", ctx.JsonTime(r.seen_ms));
      rb.Push(std::move(o));
    }
    j->Set("hub_rollbacks", std::move(rb));
    return Status::Ok();
  }
  std::ostream& out = *ctx.out;
  if (restored && n.info().role == node::Role::kHub) {
    out << Tr(ctx,
              "RESTORED     from a backup: no writing until its operator runs 'tuphap "
              "resume-writes', once the communes have synced with it (E_RESTORED)")
        << '\n';
  } else if (restored) {
    out << Tr(ctx,
              "RESTORED     from a backup: no writing until a sync with the hub brings "
              "back this node's latest changes (E_RESTORED)")
        << '\n';
  }
  for (const auto& [scope, r] : best) {
    out << Tr(ctx, "delivered to the hub up to {0} of {1} (receipt of {2})",
              {std::to_string(r.seq), scope, ctx.PersonTime(r.received_ms)});
    if (auto it = announced.find(scope); it != announced.end()) {
      out << Tr(ctx,
                "; at the last sync the hub said it holds up to {0} (not signed: its receipt "
                "comes with the next change sent)",
                {std::to_string(it->second)});
    }
    out << '\n';
  }
  for (const auto& r : rollbacks) {
    out << Tr(ctx,
              "HUB ROLLBACK (E_HUB_ROLLBACK): hub {0} signed for {1} of {2} but later announced "
              "{3} ({4}); what it lacked was sent again",
              {node::NodeIdText(r.hub.bytes), std::to_string(r.signed_seq), r.feed.scope,
               std::to_string(r.announced_seq), ctx.PersonTime(r.seen_ms)})
        << '\n';
  }
  return Status::Ok();
}

void RegisterBackupCommands(CLI::App& app, Context& ctx, Action* action) {
  auto out_path = std::make_shared<std::string>();
  CLI::App* backup = app.add_subcommand(
      "backup", "Write a backup of this node (store, encrypted keys, config) to one file");
  backup->add_option("--out", *out_path, "the backup file to write (mode 0600)")->required();
  backup->callback([&ctx, action, out_path] {
    *action = [&ctx, out_path]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(node::BackupSummary s,
                              node::WriteBackup(office->node(), ctx.data_dir, *out_path));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("file", *out_path);
        j.Set("bytes", static_cast<int64_t>(s.bytes));
        j.Set("store_bytes", static_cast<int64_t>(s.store_bytes));
        j.Set("config", s.config);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "backup written: {0} ({1} bytes; keep it as safe as the data folder)",
                       {*out_path, std::to_string(s.bytes)})
                 << '\n';
      }
      return Status::Ok();
    };
  });

  auto in_path = std::make_shared<std::string>();
  CLI::App* restore =
      app.add_subcommand("restore", "Restore a backup into --data DIR (which must hold no node)");
  restore->add_option("FILE", *in_path, "the backup file")->required();
  restore->callback([&ctx, action, in_path] {
    *action = [&ctx, in_path]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(
          node::BackupSummary s,
          node::RestoreBackup(*in_path, ctx.data_dir, SystemClock().WallMillis()));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("data", ctx.data_dir);
        j.Set("store_bytes", static_cast<int64_t>(s.store_bytes));
        j.Set("config", s.config);
        j.Set("restored", true);
        j.Set("role", node::RoleName(s.hub ? node::Role::kHub : node::Role::kCommune));
        ctx.PrintJson(j);
      } else {
        // What unlocks writing differs: a commune pulls its feeds back from
        // its hub; a hub has no hub above it, so its operator lets the
        // communes sync, then says so (node::RestoredRefusal words it alike).
        *ctx.out << Tr(ctx, "restored into {0}", {ctx.data_dir}) << '\n'
                 << (s.hub ? Tr(ctx,
                                "this hub writes nothing (certificates, revocations) "
                                "until its operator runs 'tuphap resume-writes': let its communes "
                                "sync with it first, so it holds the latest of what it published")
                           : Tr(ctx,
                                "this node writes nothing until it has synced with its hub "
                                "(tuphap sync ENDPOINT --once): it may not hold its latest "
                                "changes"))
                 << '\n';
      }
      return Status::Ok();
    };
  });

  CLI::App* resume = app.add_subcommand(
      "resume-writes",
      "Let a restored node write again on its operator's word that it holds its latest changes "
      "(a hub once its communes have synced; a commune whose hub is lost)");
  resume->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(bool resumed, office->node().ResumeWrites());
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("resumed", resumed);
        ctx.PrintJson(j);
      } else {
        *ctx.out << (resumed ? Tr(ctx,
                                  "writes resumed: if this node's latest changes were not "
                                  "brought back, its next writes fork its history (E_EQUIVOCATION)")
                             : Tr(ctx, "this node was not restored from a backup: nothing to do"))
                 << '\n';
      }
      return Status::Ok();
    };
  });

  CLI::App* receipts = app.add_subcommand(
      "receipts", "The hub's signed delivery receipts: per feed, the highest seq it signed for");
  receipts->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      node::Node& n = office->node();
      TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ReceiptRow> rows, n.store().Receipts());
      if (ctx.json) {
        Json arr = Json::MakeArray();
        for (const auto& r : rows) {
          Json o = Json::MakeObject();
          o.Set("scope", r.feed.scope);
          o.Set("origin", node::NodeIdText(r.feed.origin.bytes));
          o.Set("hub", node::NodeIdText(r.hub.bytes));
          o.Set("hub_key", Hex(std::string_view(reinterpret_cast<const char*>(r.hub.bytes.data()),
                                                r.hub.bytes.size())));
          o.Set("seq", static_cast<int64_t>(r.seq));
          o.Set("hash",
                Hex(std::string_view(reinterpret_cast<const char*>(r.hash.data()), r.hash.size())));
          o.Set("received_at", ctx.JsonTime(r.received_ms));
          o.Set("signed_body", Hex(r.body));
          o.Set("signature", Hex(r.signature));
          arr.Push(std::move(o));
        }
        ctx.PrintJson(arr);
        return Status::Ok();
      }
      if (rows.empty()) {
        // A hub has no hub above it: it signs receipts for its communes
        // (they keep them) and receives none.
        *ctx.out << (n.info().role == node::Role::kHub
                         ? Tr(ctx,
                              "a hub keeps no receipts: it signs them for its communes, which "
                              "keep them ('tuphap receipts' on a commune node)")
                         : Tr(ctx,
                              "no receipt yet: nothing of this node's was acknowledged by "
                              "a hub"))
                 << '\n';
        return Status::Ok();
      }
      Table t({Tr(ctx, "scope"), TrCtx(ctx, "cmd_backup", "hub"), Tr(ctx, "signed up to seq"),
               Tr(ctx, "received")});
      for (const auto& r : rows)
        t.Add({r.feed.scope, node::NodeIdText(r.hub.bytes), std::to_string(r.seq),
               ctx.PersonTime(r.received_ms)});
      t.Print(*ctx.out);
      return Status::Ok();
    };
  });
}

}  // namespace tuphap::cli
