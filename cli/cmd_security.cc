// tuphap enroll request|sign|accept, tuphap revoke, tuphap status.
#include <map>
#include <ostream>

#include "base/file_io.h"
#include "base/hex.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/report_format.h"
#include "cli/version.h"

namespace tuphap::cli {
namespace {

Json CertJson(const Context& ctx, const replication::Certificate& c) {
  Json j = Json::MakeObject();
  j.Set("node_id", node::NodeIdText(c.sign_key));
  j.Set("role", replication::NodeRoleCode(c.role));
  j.Set("commune", c.commune);
  j.Set("province", c.province);
  j.Set("valid_from", ctx.JsonTime(static_cast<int64_t>(c.not_before_ms)));
  j.Set("valid_to", ctx.JsonTime(static_cast<int64_t>(c.not_after_ms)));
  return j;
}

Status PrintStatus(const Context& ctx, app::Office& office) {
  TUPHAP_ASSIGN_OR_RETURN(app::Office::NodeStatus status, office.GetNodeStatus());
  const node::SecurityStatus& s = status.security;
  const std::vector<node::Node::PeerRow>& rows = status.peers;
  const node::NodeInfo& info = status.info;
  if (ctx.json) {
    Json j = Json::MakeObject();
    j.Set("node_id", s.node_id);
    j.Set("role", node::RoleName(info.role));
    j.Set("commune", info.commune);
    j.Set("province", info.province);
    SetVersionKeys(j);
    j.Set("enrolled", s.enrolled);
    j.Set("revoked", s.revoked);
    j.Set("root", s.root);
    if (s.certificate) j.Set("certificate", CertJson(ctx, *s.certificate));
    Json keys = Json::MakeObject();
    for (const auto& [scope, epoch] : s.key_epochs) keys.Set(scope, static_cast<int64_t>(epoch));
    j.Set("key_epochs", std::move(keys));
    j.Set("drafts", static_cast<int64_t>(s.drafts));
    j.Set("held", static_cast<int64_t>(s.held));
    Json refusals = Json::MakeObject();
    int64_t total = 0;
    for (const auto& r : s.refusals) {
      refusals.Set(r.reason, static_cast<int64_t>(r.count));
      total += static_cast<int64_t>(r.count);
    }
    j.Set("refused", total);
    j.Set("refusals", std::move(refusals));
    Json eq = Json::MakeArray();
    for (const auto& e : s.equivocations) {
      Json o = Json::MakeObject();
      o.Set("origin", node::NodeIdText(e.origin.bytes));
      o.Set("scope", e.scope);
      o.Set("seq", static_cast<int64_t>(e.seq));
      o.Set("kind", e.kind);
      eq.Push(std::move(o));
    }
    j.Set("equivocations", std::move(eq));
    Json q = Json::MakeArray();
    for (const auto& o : s.quarantined) q.Push(node::NodeIdText(o.bytes));
    j.Set("quarantined", std::move(q));
    j.Set("E_INVALID_CONTENT", InvalidJson(s.invalid));
    j.Set("certificates", static_cast<int64_t>(s.certificates));
    j.Set("revocations", static_cast<int64_t>(s.revocations));
    Json peers = Json::MakeArray();
    for (const auto& p : rows) {
      Json o = Json::MakeObject();
      o.Set("node_id", node::NodeIdText(p.peer));
      o.Set("endpoint", p.endpoint);
      o.Set("last_contact", ctx.JsonTime(p.last_contact_ms));
      o.Set("last_success", ctx.JsonTime(p.last_success_ms));
      o.Set("pending_out", static_cast<int64_t>(p.pending_out));
      o.Set("pending_in", static_cast<int64_t>(p.pending_in));
      o.Set("sent", static_cast<int64_t>(p.sent));
      o.Set("received", static_cast<int64_t>(p.received));
      o.Set("refused", static_cast<int64_t>(p.refused));
      peers.Push(std::move(o));
    }
    j.Set("peers", std::move(peers));
    TUPHAP_RETURN_IF_ERROR(AddDeliveryToStatus(ctx, office, &j));
    ctx.PrintJson(j);
    return Status::Ok();
  }
  std::ostream& out = *ctx.out;
  out << Tr(ctx, "node id      ") << s.node_id << '\n';
  out << Tr(ctx, "role         ") << Tr(ctx, node::RoleName(info.role)) << "  "
      << (info.role == node::Role::kHub ? Tr(ctx, "province ") + info.province
                                        : Tr(ctx, "commune ") + info.commune)
      << '\n';
  if (s.certificate) {
    out << Tr(ctx, "enrolment    ") << (s.revoked ? Tr(ctx, "REVOKED") : Tr(ctx, "enrolled"))
        << Tr(ctx, ", valid ") << ctx.PersonDate(static_cast<int64_t>(s.certificate->not_before_ms))
        << " → " << ctx.PersonDate(static_cast<int64_t>(s.certificate->not_after_ms))
        << Tr(ctx, ", root ") << s.root << '\n';
  } else {
    out << Tr(ctx, "enrolment    not enrolled (tuphap enroll request, then enroll accept)") << '\n';
  }
  std::string keys;
  for (const auto& [scope, epoch] : s.key_epochs)
    keys += (keys.empty() ? "" : ", ") + scope + Tr(ctx, " epoch ") + std::to_string(epoch);
  out << Tr(ctx, "data keys    ") << (keys.empty() ? "-" : keys) << '\n';
  if (info.role == node::Role::kCommune) {
    out << Tr(ctx, "drafts       ") << s.drafts << Tr(ctx, " (sealed when enrolled)") << '\n';
  }
  out << Tr(ctx, "held         ") << s.held << Tr(ctx, " (waiting for earlier changes)") << '\n';
  out << Tr(ctx, "trust        ") << s.certificates << Tr(ctx, " certificates, ") << s.revocations
      << Tr(ctx, " revoked") << '\n';
  if (s.refusals.empty()) {
    out << Tr(ctx, "refusals     none") << '\n';
  } else {
    out << Tr(ctx, "refusals:") << '\n';
    Table t({"reason", "count", "last origin", "scope", "seq"});
    for (const auto& r : s.refusals) {
      // An envelope that did not parse names no origin (E_MALFORMED).
      const bool known = r.last_origin != crdt::ReplicaId{};
      t.Add({r.reason, std::to_string(r.count), known ? node::NodeIdText(r.last_origin.bytes) : "-",
             known ? r.last_scope : "-", known ? std::to_string(r.last_seq) : "-"});
    }
    t.Print(out);
  }
  if (!s.equivocations.empty()) {
    out << Tr(ctx, "EQUIVOCATION (two different changes for one position; proof kept):") << '\n';
    Table t({"origin", "scope", "seq", "kind"});
    for (const auto& e : s.equivocations)
      t.Add({node::NodeIdText(e.origin.bytes), e.scope, std::to_string(e.seq), e.kind});
    t.Print(out);
  }
  for (const auto& q : s.quarantined)
    out << Tr(ctx, "quarantined  ") << node::NodeIdText(q.bytes) << '\n';
  TUPHAP_RETURN_IF_ERROR(AddDeliveryToStatus(ctx, office, nullptr));
  if (!s.invalid.empty()) {  // kept and forwarded, never numbered or counted
    std::map<std::string, uint64_t> by_reason;
    for (const auto& c : s.invalid) by_reason[c.reason] += c.count;
    out << Tr(ctx, "invalid content (E_INVALID_CONTENT; tuphap report attention):") << '\n';
    Table t({Tr(ctx, "reason"), Tr(ctx, "records")});
    for (const auto& [reason, count] : by_reason) t.Add({reason, std::to_string(count)});
    t.Print(out);
  }
  if (rows.empty()) {
    out << Tr(ctx, "peers        none yet (tuphap sync, tuphap serve)") << '\n';
  } else {
    Table t({Tr(ctx, "peer"), Tr(ctx, "endpoint"), Tr(ctx, "last contact"), Tr(ctx, "last sync"),
             Tr(ctx, "pending out"), Tr(ctx, "pending in"), Tr(ctx, "sent"), Tr(ctx, "received"),
             Tr(ctx, "refused")});
    for (const auto& p : rows)
      t.Add({node::NodeIdText(p.peer), p.endpoint.empty() ? "-" : p.endpoint,
             ctx.PersonTime(p.last_contact_ms), ctx.PersonTime(p.last_success_ms),
             std::to_string(p.pending_out), std::to_string(p.pending_in), std::to_string(p.sent),
             std::to_string(p.received), std::to_string(p.refused)});
    t.Print(out);
  }
  return Status::Ok();
}

}  // namespace

void RegisterSecurityCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* enroll = app.add_subcommand("enroll", "Enrol a commune node with its provincial hub");
  enroll->require_subcommand(1);

  struct RequestArgs {
    std::string out;
    std::string label;
  };
  auto req = std::make_shared<RequestArgs>();
  CLI::App* request =
      enroll->add_subcommand("request", "Commune side: write the request file for the hub");
  request->add_option("--out", req->out, "the request file to write")->required();
  request->add_option("--label", req->label, "a note for the hub operator (office, machine)");
  request->callback([&ctx, action, req] {
    *action = [&ctx, req]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(std::string bytes, office->EnrollRequest(req->label));
      TUPHAP_RETURN_IF_ERROR(WriteFileAtomic(req->out, bytes));
      const std::string id = office->node_id();
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("node_id", id);
        j.Set("commune", office->info().commune);
        j.Set("file", req->out);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "wrote the enrolment request of node ") << id << " ("
                 << office->info().commune << ") " << Tr(ctx, "to ") << req->out << '\n'
                 << Tr(ctx,
                       "take it to the hub; it answers with a certificate file for 'tuphap enroll "
                       "accept'")
                 << '\n';
      }
      return Status::Ok();
    };
  });

  struct SignArgs {
    std::string request;
    std::string out;
    int days = 5 * 365;
  };
  auto sign = std::make_shared<SignArgs>();
  CLI::App* sign_cmd = enroll->add_subcommand(
      "sign", "Hub side: certify a commune node's request and grant it its commune's keys");
  sign_cmd->add_option("REQUEST", sign->request, "the request file")->required();
  sign_cmd->add_option("--out", sign->out, "the enrolment file to write")->required();
  sign_cmd->add_option("--days", sign->days, "days the certificate is valid")
      ->capture_default_str();
  sign_cmd->callback([&ctx, action, sign] {
    *action = [&ctx, sign]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::string bytes,
                              ReadFileBounded(sign->request, app::kMaxRequestFile));
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      auto e = office->EnrollSign(bytes, sign->days);
      if (!e.ok()) return Status(e.status()).Annotate(sign->request);
      TUPHAP_RETURN_IF_ERROR(WriteFileAtomic(sign->out, e->file));
      if (ctx.json) {
        Json j = CertJson(ctx, e->certificate);
        Json epochs = Json::MakeArray();
        for (uint32_t ep : e->epochs_granted) epochs.Push(static_cast<int64_t>(ep));
        j.Set("epochs_granted", std::move(epochs));
        j.Set("file", sign->out);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "certified node ") << node::NodeIdText(e->certificate.sign_key)
                 << Tr(ctx, " of commune ") << e->certificate.commune << Tr(ctx, " until ")
                 << ctx.PersonDate(static_cast<int64_t>(e->certificate.not_after_ms)) << "; "
                 << e->epochs_granted.size() << Tr(ctx, " key epoch(s) granted; wrote ")
                 << sign->out << '\n';
      }
      return Status::Ok();
    };
  });

  auto cert_file = std::make_shared<std::string>();
  CLI::App* accept = enroll->add_subcommand(
      "accept", "Commune side: take the hub's enrolment file (certificate and keys)");
  accept->add_option("FILE", *cert_file, "the enrolment file from the hub")->required();
  accept->callback([&ctx, action, cert_file] {
    *action = [&ctx, cert_file]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::string bytes,
                              ReadFileBounded(*cert_file, app::kMaxEnrolmentFile));
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      auto r = office->EnrollAccept(bytes);
      if (!r.ok()) return Status(r.status()).Annotate(*cert_file);
      const std::string& root = r->root;
      if (ctx.json) {
        Json j = CertJson(ctx, r->certificate);
        j.Set("root", root);
        j.Set("drafts_sealed", static_cast<int64_t>(r->drafts_sealed));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "enrolled: node ") << node::NodeIdText(r->certificate.sign_key)
                 << Tr(ctx, ", commune ") << r->certificate.commune << Tr(ctx, ", valid until ")
                 << ctx.PersonDate(static_cast<int64_t>(r->certificate.not_after_ms))
                 << Tr(ctx, "; province root ") << root << "; " << r->drafts_sealed
                 << Tr(ctx, " earlier change(s) signed and encrypted") << '\n';
      }
      return Status::Ok();
    };
  });

  struct RevokeArgs {
    std::string node;
    std::string reason;
    std::optional<uint64_t> cut;
  };
  auto rev = std::make_shared<RevokeArgs>();
  CLI::App* revoke = app.add_subcommand(
      "revoke", "Hub side: revoke a node (a lost laptop): cut its feeds and rotate its keys");
  revoke->add_option("NODE_ID", rev->node, "the node id (XXXX-XXXX-XXXX-XXXX-XXXX)")->required();
  revoke->add_option("--reason", rev->reason, "why (kept in the signed revocation)")->required();
  revoke->add_option("--cut", rev->cut,
                     "accept its changes up to this seq (default: what this hub holds)");
  revoke->callback([&ctx, action, rev] {
    *action = [&ctx, rev]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(node::RevocationResult r,
                              office->RevokeNode(rev->node, rev->reason, rev->cut));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("node_id", node::NodeIdText(r.revocation.node));
        Json cuts = Json::MakeObject();
        for (const auto& [scope, seq, id] : r.revocation.cuts)
          cuts.Set(scope, static_cast<int64_t>(seq));
        j.Set("cuts", std::move(cuts));
        j.Set("scope", r.scope);
        j.Set("new_epoch", static_cast<int64_t>(r.new_epoch));
        j.Set("members_rekeyed", static_cast<int64_t>(r.members_rekeyed));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "revoked node ") << node::NodeIdText(r.revocation.node) << ':';
        for (const auto& [scope, seq, id] : r.revocation.cuts)
          *ctx.out << ' ' << scope << Tr(ctx, " accepted up to seq ") << seq;
        *ctx.out << '\n';
        if (r.new_epoch != 0) {
          *ctx.out << Tr(ctx, "new data key of ") << r.scope << Tr(ctx, ", epoch ") << r.new_epoch
                   << Tr(ctx, ", granted to ") << r.members_rekeyed
                   << Tr(ctx, " remaining node(s); it reaches them with the next sync") << '\n';
        }
      }
      return Status::Ok();
    };
  });

  CLI::App* status = app.add_subcommand(
      "status", "This node: id, enrolment, keys, drafts, held changes, refusals, equivocations");
  status->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      return PrintStatus(ctx, *office);
    };
  });
}

}  // namespace tuphap::cli
