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

std::string Date(uint64_t ms) { return FormatUtc(static_cast<int64_t>(ms), "%Y-%m-%d"); }
Json CertJson(const replication::Certificate& c) {
  Json j = Json::MakeObject();
  j.Set("node_id", node::NodeIdText(c.sign_key));
  j.Set("role", replication::NodeRoleCode(c.role));
  j.Set("commune", c.commune);
  j.Set("province", c.province);
  j.Set("valid_from", Date(c.not_before_ms));
  j.Set("valid_to", Date(c.not_after_ms));
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
    if (s.certificate) j.Set("certificate", CertJson(*s.certificate));
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
      o.Set("last_contact", JsonTime(p.last_contact_ms));
      o.Set("last_success", JsonTime(p.last_success_ms));
      o.Set("pending_out", static_cast<int64_t>(p.pending_out));
      o.Set("pending_in", static_cast<int64_t>(p.pending_in));
      o.Set("sent", static_cast<int64_t>(p.sent));
      o.Set("received", static_cast<int64_t>(p.received));
      o.Set("refused", static_cast<int64_t>(p.refused));
      peers.Push(std::move(o));
    }
    j.Set("peers", std::move(peers));
    ctx.PrintJson(j);
    return Status::Ok();
  }
  std::ostream& out = *ctx.out;
  out << Tr(ctx, "node id      ", "mã nút       ") << s.node_id << '\n';
  out << Tr(ctx, "role         ", "vai trò      ") << node::RoleName(info.role) << "  "
      << (info.role == node::Role::kHub ? Tr(ctx, "province ", "tỉnh ") + info.province
                                        : Tr(ctx, "commune ", "xã ") + info.commune)
      << '\n';
  if (s.certificate) {
    out << Tr(ctx, "enrolment    ", "đăng ký      ")
        << (s.revoked ? Tr(ctx, "REVOKED", "ĐÃ THU HỒI") : Tr(ctx, "enrolled", "đã đăng ký"))
        << Tr(ctx, ", valid ", ", hiệu lực ") << Date(s.certificate->not_before_ms) << " → "
        << Date(s.certificate->not_after_ms) << Tr(ctx, ", root ", ", gốc ") << s.root << '\n';
  } else {
    out << Tr(ctx, "enrolment    not enrolled (tuphap enroll request, then enroll accept)",
              "đăng ký      chưa đăng ký (tuphap enroll request, rồi enroll accept)")
        << '\n';
  }
  std::string keys;
  for (const auto& [scope, epoch] : s.key_epochs)
    keys += (keys.empty() ? "" : ", ") + scope + Tr(ctx, " epoch ", " kỳ ") + std::to_string(epoch);
  out << Tr(ctx, "data keys    ", "khoá dữ liệu ") << (keys.empty() ? "-" : keys) << '\n';
  if (info.role == node::Role::kCommune) {
    out << Tr(ctx, "drafts       ", "bản nháp     ") << s.drafts
        << Tr(ctx, " (sealed when enrolled)", " (niêm phong khi đăng ký)") << '\n';
  }
  out << Tr(ctx, "held         ", "đang giữ     ") << s.held
      << Tr(ctx, " (waiting for earlier changes)", " (chờ thay đổi trước)") << '\n';
  out << Tr(ctx, "trust        ", "tin cậy      ") << s.certificates
      << Tr(ctx, " certificates, ", " chứng chỉ, ") << s.revocations
      << Tr(ctx, " revoked", " đã thu hồi") << '\n';
  if (s.refusals.empty()) {
    out << Tr(ctx, "refusals     none", "từ chối      không có") << '\n';
  } else {
    out << Tr(ctx, "refusals:", "từ chối:") << '\n';
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
    out << Tr(ctx, "EQUIVOCATION (two different changes for one position; proof kept):",
              "GIAN LẬN CHUỖI (hai thay đổi khác nhau cho một vị trí; đã giữ bằng chứng):")
        << '\n';
    Table t({"origin", "scope", "seq", "kind"});
    for (const auto& e : s.equivocations)
      t.Add({node::NodeIdText(e.origin.bytes), e.scope, std::to_string(e.seq), e.kind});
    t.Print(out);
  }
  for (const auto& q : s.quarantined)
    out << Tr(ctx, "quarantined  ", "cách ly      ") << node::NodeIdText(q.bytes) << '\n';
  if (!s.invalid.empty()) {  // kept and forwarded, never numbered or counted
    std::map<std::string, uint64_t> by_reason;
    for (const auto& c : s.invalid) by_reason[c.reason] += c.count;
    out << Tr(ctx, "invalid content (E_INVALID_CONTENT; tuphap report attention):",
              "nội dung không hợp lệ (E_INVALID_CONTENT; tuphap report attention):")
        << '\n';
    Table t({Tr(ctx, "reason", "lý do"), Tr(ctx, "records", "hồ sơ")});
    for (const auto& [reason, count] : by_reason) t.Add({reason, std::to_string(count)});
    t.Print(out);
  }
  if (rows.empty()) {
    out << Tr(ctx, "peers        none yet (tuphap sync, tuphap serve)",
              "đồng bộ      chưa có (tuphap sync, tuphap serve)")
        << '\n';
  } else {
    Table t({Tr(ctx, "peer", "nút"), Tr(ctx, "endpoint", "địa chỉ"),
             Tr(ctx, "last contact", "liên lạc cuối"), Tr(ctx, "last sync", "đồng bộ cuối"),
             Tr(ctx, "pending out", "chờ gửi"), Tr(ctx, "pending in", "chờ nhận"),
             Tr(ctx, "sent", "đã gửi"), Tr(ctx, "received", "đã nhận"),
             Tr(ctx, "refused", "từ chối")});
    for (const auto& p : rows)
      t.Add({node::NodeIdText(p.peer), p.endpoint.empty() ? "-" : p.endpoint,
             TableTime(p.last_contact_ms), TableTime(p.last_success_ms),
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
        *ctx.out << Tr(ctx, "wrote the enrolment request of node ",
                       "đã ghi yêu cầu đăng ký của nút ")
                 << id << " (" << office->info().commune << ") " << Tr(ctx, "to ", "vào ")
                 << req->out << '\n'
                 << Tr(ctx,
                       "take it to the hub; it answers with a certificate file for "
                       "'tuphap enroll accept'",
                       "mang tới Sở; Sở trả lại tệp chứng chỉ cho 'tuphap enroll accept'")
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
        Json j = CertJson(e->certificate);
        Json epochs = Json::MakeArray();
        for (uint32_t ep : e->epochs_granted) epochs.Push(static_cast<int64_t>(ep));
        j.Set("epochs_granted", std::move(epochs));
        j.Set("file", sign->out);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "certified node ", "đã cấp chứng chỉ cho nút ")
                 << node::NodeIdText(e->certificate.sign_key) << Tr(ctx, " of commune ", " của xã ")
                 << e->certificate.commune << Tr(ctx, " until ", " đến ")
                 << Date(e->certificate.not_after_ms) << "; " << e->epochs_granted.size()
                 << Tr(ctx, " key epoch(s) granted; wrote ", " kỳ khoá đã cấp; đã ghi ")
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
        Json j = CertJson(r->certificate);
        j.Set("root", root);
        j.Set("drafts_sealed", static_cast<int64_t>(r->drafts_sealed));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "enrolled: node ", "đã đăng ký: nút ")
                 << node::NodeIdText(r->certificate.sign_key) << Tr(ctx, ", commune ", ", xã ")
                 << r->certificate.commune << Tr(ctx, ", valid until ", ", hiệu lực đến ")
                 << Date(r->certificate.not_after_ms)
                 << Tr(ctx, "; province root ", "; gốc của tỉnh ") << root << "; "
                 << r->drafts_sealed
                 << Tr(ctx, " earlier change(s) signed and encrypted",
                       " thay đổi trước đó đã được ký và mã hoá")
                 << '\n';
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
        *ctx.out << Tr(ctx, "revoked node ", "đã thu hồi nút ")
                 << node::NodeIdText(r.revocation.node) << ':';
        for (const auto& [scope, seq, id] : r.revocation.cuts)
          *ctx.out << ' ' << scope << Tr(ctx, " accepted up to seq ", " nhận đến số ") << seq;
        *ctx.out << '\n';
        if (r.new_epoch != 0) {
          *ctx.out << Tr(ctx, "new data key of ", "khoá dữ liệu mới của ") << r.scope
                   << Tr(ctx, ", epoch ", ", kỳ ") << r.new_epoch
                   << Tr(ctx, ", granted to ", ", cấp cho ") << r.members_rekeyed
                   << Tr(ctx, " remaining node(s); it reaches them with the next sync",
                         " nút còn lại; sẽ tới họ ở lần đồng bộ sau")
                   << '\n';
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
