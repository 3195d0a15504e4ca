// tuphap demo: the quickstart. In a temporary folder it creates the hub of
// Khánh Hòa (province 56) and three commune nodes, enrols them, registers
// generated records at each commune offline, syncs everyone over loopback,
// makes one concurrent correction at a commune and at the hub, syncs again,
// and prints digests, the conflict on both sides and the hub's peers. It
// needs nothing outside the binary and leaves nothing running.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <thread>

#include "base/hex.h"
#include "base/line_reader.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/passphrase.h"
#include "node/app/officers.h"
#include "node/domain/record_generator.h"
#include "node/domain/reference_data.h"
#include "web/ui.h"

namespace tuphap::cli {
namespace {

namespace fs = std::filesystem;

// A node serving in a thread of this process, stopped (and joined) on
// destruction: the demo leaves nothing running. It serves a node of its own,
// opened in that thread: a Store is used from one thread only.
class DemoServe {
 public:
  DemoServe(std::function<Result<std::unique_ptr<app::Office>>()> open, node::ServeOptions options)
      : options_(std::move(options)) {
    thread_ = std::thread([this, open = std::move(open)] {
      auto office = open();
      status_ = office.ok() ? (*office)->Serve(options_, &stop_) : office.status();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ~DemoServe() { (void)Stop(); }
  Status Stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    return status_;
  }

 private:
  node::ServeOptions options_;
  std::atomic<bool> stop_{false};
  Status status_;
  std::thread thread_;
};

node::ServeOptions Listening(const std::string& endpoint) {
  node::ServeOptions o;
  o.listen = endpoint;
  return o;
}

// `tuphap demo --ui`: the hub and the first commune keep running, syncing
// live, each with the web app and demo accounts, until Ctrl-C.
Status KeepServing(const Context& ctx, const std::filesystem::path& dir,
                   const std::function<node::NodeOptions(const std::string&)>& options_for,
                   const std::string& commune) {
  std::ostream& out = *ctx.out;
  const std::string password = "tuphap-demo";
  struct Account {
    const char* node;
    const char* login;
    const char* name;
    app::Role role;
  };
  const std::string commune_dir = "commune-" + commune;
  const Account accounts[] = {
      {"hub", "hung", "Nguyễn Văn Hùng", app::Role::kOperator},
      {commune_dir.c_str(), "lan", "Trần Thị Lan", app::Role::kHead},
      {commune_dir.c_str(), "hoa", "Lê Thị Hoa", app::Role::kOfficer},
  };
  for (const Account& a : accounts) {
    TUPHAP_ASSIGN_OR_RETURN(
        std::unique_ptr<app::Office> office,
        app::Office::Open((dir / a.node).string(), options_for(a.node), ctx.lang));
    app::Officers officers(office->node().store(), SystemClock(), ctx.lang, KdfFromEnvironment());
    TUPHAP_RETURN_IF_ERROR(officers.Add(a.login, a.name, a.role, password).status());
  }
  const std::string endpoint = node::FreeLoopbackEndpoint();
  auto open = [&](const std::string& name) {
    return [&, name]() {
      return app::Office::Open((dir / name).string(), options_for(name), ctx.lang);
    };
  };
  DemoServe hub(open("hub"), Listening(endpoint));
  node::ServeOptions up;
  up.upstreams = {endpoint};
  DemoServe commune_serve(open(commune_dir), up);
  web::UiOptions uo;
  uo.port = 0;
  uo.web.time_zone = ctx.time_zone;
  uo.web.upstreams = {endpoint};
  uo.web.officer_kdf = KdfFromEnvironment();
  TUPHAP_ASSIGN_OR_RETURN(
      std::unique_ptr<web::Ui> commune_ui,
      web::Ui::Start((dir / commune_dir).string(), options_for(commune_dir), uo));
  uo.web.upstreams.clear();
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<web::Ui> hub_ui,
                          web::Ui::Start((dir / "hub").string(), options_for("hub"), uo));
  out << "\n"
      << Tr(ctx, "the web app is running (Ctrl-C stops everything):") << "\n  "
      << Tr(ctx, "commune {0}: {1}   log in as lan (head) or hoa (officer), password {2}",
            {commune, commune_ui->url(), password})
      << "\n  "
      << Tr(ctx, "hub (province 56): {0}   log in as hung (operator), password {1}",
            {hub_ui->url(), password})
      << "\n"
      << Tr(ctx, "the commune syncs live with the hub at {0}", {endpoint}) << std::endl;
  web::WaitForStopSignal();
  commune_ui->Stop();
  hub_ui->Stop();
  TUPHAP_RETURN_IF_ERROR(commune_serve.Stop());
  return hub.Stop();
}

Status RunDemo(const Context& ctx, bool keep, int records, bool ui) {
  const fs::path dir = fs::temp_directory_path() / ("tuphap-demo-" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::ostream& out = *ctx.out;
  // The demo's nodes live a minute: one random passphrase held in memory.
  auto pass = std::make_shared<replication::SecretBytes>(24);
  replication::RandomBytes(pass->data(), pass->size());
  for (size_t i = 0; i < pass->size(); ++i) pass->data()[i] = 'a' + pass->data()[i] % 26;
  auto options_for = [pass](const std::string& officer) {
    node::NodeOptions o;
    o.officer = officer;
    o.passphrase = [pass] {
      return Result<replication::SecretBytes>(replication::SecretBytes(pass->data(), pass->size()));
    };
    return o;
  };
  auto open = [&](const std::string& name,
                  const std::string& officer) -> Result<std::unique_ptr<app::Office>> {
    return app::Office::Open((dir / name).string(), options_for(officer), ctx.lang);
  };
  const char* const communes[] = {"22333", "22366", "22390"};
  const char* const officers[] = {"Trần Thị Lan", "Lê Văn Hùng", "Phạm Thu Trang"};

  out << Tr(ctx, "== tuphap demo: the Khánh Hòa hub (province 56) and three communes ==") << "\n\n";
  node::InitParams hp;
  hp.role = node::Role::kHub;
  hp.province = "56";
  TUPHAP_RETURN_IF_ERROR(app::Office::Init((dir / "hub").string(), hp, *pass));
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> hub, open("hub", "Sở Tư pháp Khánh Hòa"));
  out << Tr(ctx, "hub      {0}  (holds the province root key)", {hub->node_id()}) << '\n';
  std::vector<std::unique_ptr<app::Office>> nodes;
  for (int i = 0; i < 3; ++i) {
    node::InitParams p;
    p.commune = communes[i];
    const std::string name = std::string("commune-") + communes[i];
    TUPHAP_RETURN_IF_ERROR(app::Office::Init((dir / name).string(), p, *pass));
    TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> n, open(name, officers[i]));
    // Offline enrolment: request -> hub signs -> accept (files on a USB stick).
    TUPHAP_ASSIGN_OR_RETURN(std::string request, n->EnrollRequest(officers[i]));
    TUPHAP_ASSIGN_OR_RETURN(node::Enrolment e, hub->EnrollSign(request, 365));
    TUPHAP_RETURN_IF_ERROR(n->EnrollAccept(e.file).status());
    const domain::CommuneInfo* info = domain::ReferenceData::Get().Commune(communes[i]);
    out << Tr(ctx, "commune  {0}  {1} {2}, enrolled",
              {n->node_id(), communes[i], info != nullptr ? info->name : ""})
        << '\n';
    nodes.push_back(std::move(n));
  }

  // Offline work: each commune registers generated records.
  out << "\n"
      << Tr(ctx, "offline, each commune registers {0} records:", {std::to_string(records)}) << '\n';
  for (int i = 0; i < 3; ++i) {
    domain::GeneratorOptions g;
    g.communes = {communes[i]};
    g.records = records;
    g.seed = static_cast<uint64_t>(i + 1);
    const std::string file = (dir / (std::string(communes[i]) + ".jsonl")).string();
    {
      std::ofstream f(file);
      domain::GenerateRecords(g, [&](const std::string& line) { f << line << '\n'; });
    }
    TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> reader, LineReader::Open(file));
    TUPHAP_ASSIGN_OR_RETURN(domain::ImportSummary sum,
                            nodes[i]->Import(*reader, domain::ImportOptions{}));
    out << "  " << Tr(ctx, "{0}: {1} registered", {communes[i], std::to_string(sum.accepted)})
        << '\n';
  }

  // Everyone syncs with the hub over loopback.
  const std::string endpoint = node::FreeLoopbackEndpoint();
  auto sync_all = [&](const std::vector<int>& which) -> Status {
    DemoServe serving([&] { return open("hub", "Sở Tư pháp Khánh Hòa"); }, Listening(endpoint));
    for (int i : which) {
      TUPHAP_ASSIGN_OR_RETURN(node::SyncResult r, nodes[i]->SyncNow(endpoint, {}, 30));
      out << "  "
          << Tr(ctx, "{0} synced with {1}: sent {2}, received {3}, {4} bytes",
                {communes[i], endpoint, std::to_string(r.stats.sent),
                 std::to_string(r.stats.received),
                 std::to_string(r.stats.bytes_out + r.stats.bytes_in)})
          << '\n';
    }
    return serving.Stop();
  };
  out << "\n" << Tr(ctx, "the hub starts serving; each commune syncs:") << '\n';
  TUPHAP_RETURN_IF_ERROR(sync_all({0, 1, 2}));

  // A concurrent edit: the same record, corrected at the commune and at the
  // hub before either has seen the other's correction.
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::RecordView> births,
                          hub->Records(communes[0], std::string(communes[0]) + "-KS-"));
  if (births.empty())
    return Status::Internal("the demo generated no birth at " + std::string(communes[0]));
  const std::string id = births.front().record_id;
  // The child's given name (a legal fact: adjudicated, never merged by
  // itself), through the same validated amend an officer's command uses.
  TUPHAP_ASSIGN_OR_RETURN(store::RecordView birth, hub->GetRecord(id, communes[0]));
  auto text = [&](const char* field) {
    const crdt::MvRegister* r = birth.state.Field(field);
    return r != nullptr && r->Winner() != nullptr ? r->Winner()->value.text() : std::string();
  };
  const std::string family = text("data.child.family_name");
  const std::string middle = text("data.child.middle_name");
  auto full = [&](const std::string& given) {
    return family + (middle.empty() ? "" : " " + middle) + " " + given;
  };
  TUPHAP_RETURN_IF_ERROR(nodes[0]->Amend(
      id, {{"data.child.given_name", "Bình"}, {"data.child.full_name", full("Bình")}},
      "the family asked for Bình"));
  TUPHAP_RETURN_IF_ERROR(
      hub->Amend(id, {{"data.child.given_name", "Khoa"}, {"data.child.full_name", full("Khoa")}},
                 "the birth certificate says Khoa", communes[0]));
  out << "\n"
      << Tr(ctx,
            "concurrent corrections of {0} at {1} and at the hub; sync again:", {id, communes[0]})
      << '\n';
  TUPHAP_RETURN_IF_ERROR(sync_all({0}));

  out << "\n" << Tr(ctx, "state digests (equal on the hub and each commune):") << '\n';
  Table t({"  " + Tr(ctx, "scope"), Tr(ctx, "hub records"), Tr(ctx, "hub digest"),
           Tr(ctx, "commune digest"), Tr(ctx, "equal")});
  for (int i = 0; i < 3; ++i) {
    TUPHAP_ASSIGN_OR_RETURN(auto at_hub, hub->Digests(communes[i]));
    TUPHAP_ASSIGN_OR_RETURN(auto at_commune, nodes[i]->Digests(communes[i]));
    const bool equal =
        !at_hub.empty() && !at_commune.empty() && at_hub[0].digest == at_commune[0].digest;
    t.Add({std::string("  ") + communes[i],
           at_hub.empty() ? "0" : std::to_string(at_hub[0].records),
           at_hub.empty() ? "" : ToHex(at_hub[0].digest).substr(0, 16),
           at_commune.empty() ? "" : ToHex(at_commune[0].digest).substr(0, 16),
           equal ? Tr(ctx, "yes") : Tr(ctx, "NO")});
  }
  t.Print(out);

  out << "\n" << Tr(ctx, "open conflicts (the same at the hub and at {0}):", {communes[0]}) << '\n';
  for (app::Office* n : {hub.get(), nodes[0].get()}) {
    TUPHAP_ASSIGN_OR_RETURN(app::Office::ConflictsReport conflicts, n->Conflicts());
    for (const auto& c : conflicts.fields) {
      out << "  " << Tr(ctx, "at {0}", {n == hub.get() ? Tr(ctx, "hub") : std::string(communes[0])})
          << ": " << c.row.record_id << " " << FieldText(ctx.lang, c.row.field) << '\n';
      for (const auto& v : c.values)
        out << "      \"" << v.value.ToDisplay() << "\"  "
            << Tr(ctx, "by {0}, node {1}",
                  {OfficerText(v, ctx.lang), node::NodeIdText(v.origin.bytes)})
            << '\n';
    }
  }

  out << "\n" << Tr(ctx, "hub status:") << '\n';
  TUPHAP_ASSIGN_OR_RETURN(app::Office::NodeStatus hub_status, hub->GetNodeStatus());
  const std::vector<node::Node::PeerRow>& peers = hub_status.peers;
  Table ps({"  " + Tr(ctx, "peer"), Tr(ctx, "last sync"), Tr(ctx, "sent"), Tr(ctx, "received"),
            Tr(ctx, "refused")});
  for (const auto& p : peers)
    ps.Add({"  " + node::NodeIdText(p.peer),
            p.last_success_ms > 0 ? Tr(ctx, "ok") : Tr(ctx, "never"), std::to_string(p.sent),
            std::to_string(p.received), std::to_string(p.refused)});
  ps.Print(out);

  out << "\n"
      << Tr(ctx,
            "registrations at the hub by commune and type (tuphap report stats --by "
            "commune,type):")
      << '\n';
  report::StatsOptions so;
  so.by_month = false;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<report::StatsRow> stats, hub->Stats(so));
  Table st({"  " + Tr(ctx, "commune"), Tr(ctx, "type"), Tr(ctx, "count"), Tr(ctx, "fines (VND)")});
  for (const auto& r : stats)
    st.Add({"  " + r.commune, RecordTypeText(ctx.lang, r.type), std::to_string(r.count),
            r.fines > 0 ? std::to_string(r.fines_issued_vnd) : ""});
  st.Print(out);

  nodes.clear();
  hub.reset();
  if (ui) TUPHAP_RETURN_IF_ERROR(KeepServing(ctx, dir, options_for, communes[0]));
  if (keep) {
    out << "\n"
        << Tr(ctx,
              "kept {0} (try: TUPHAP_PASSPHRASE is random; the stores can be read with sqlite3)",
              {dir.string()})
        << '\n';
  } else {
    fs::remove_all(dir);
  }
  return Status::Ok();
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, Context& ctx, Action* action) {
  auto keep = std::make_shared<bool>(false);
  auto records = std::make_shared<int>(200);
  auto ui = std::make_shared<bool>(false);
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Quickstart: a hub and three communes, enrolled, working offline, syncing over loopback");
  demo->add_flag("--keep", *keep, "keep the demo folder");
  demo->add_flag("--ui", *ui,
                 "at the end, keep the hub and the first commune running with the web app (two "
                 "local addresses and demo accounts are printed) until Ctrl-C");
  demo->add_option("--records", *records, "records per commune")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  demo->callback([&ctx, action, keep, records, ui] {
    *action = [&ctx, keep, records, ui] { return RunDemo(ctx, *keep, *records, *ui); };
  });
}

}  // namespace tuphap::cli
