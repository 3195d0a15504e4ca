// tuphap demo: the quickstart. In a temporary folder it creates a commune
// node of Khánh Hòa (province 56), registers a few records, amends one,
// prints its history and the state digest, and removes the folder.
#include <unistd.h>

#include <filesystem>
#include <ostream>

#include "base/hex.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace tuphap::cli {
namespace {

namespace fs = std::filesystem;

Status RunDemo(const Context& ctx, bool keep) {
  const fs::path dir = fs::temp_directory_path() / ("tuphap-demo-" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::ostream& out = *ctx.out;
  const std::string commune_dir = (dir / "commune-22333").string();

  out << "== tuphap quickstart: one commune node (Phường Bắc Nha Trang, 22333) ==\n";
  node::InitParams p;
  p.commune = "22333";
  // The demo's nodes live minutes: a random passphrase held in memory.
  replication::SecretBytes pass(24);
  replication::RandomBytes(pass.data(), pass.size());
  for (size_t i = 0; i < pass.size(); ++i) pass.data()[i] = 'a' + pass.data()[i] % 26;
  TUPHAP_RETURN_IF_ERROR(node::Node::Init(commune_dir, p, pass));
  node::NodeOptions options;
  options.passphrase = [&pass] {
    return Result<replication::SecretBytes>(replication::SecretBytes(pass.data(), pass.size()));
  };
  options.officer = "Trần Thị Lan";
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, node::Node::Open(commune_dir, options));
  out << "node " << ShortNodeId(n->info().id) << " created in " << commune_dir << "\n\n";

  struct Sample {
    const char* id;
    const char* type;
    std::vector<node::FieldUpdate> fields;
  };
  const Sample samples[] = {
      {"22333-KS-2025-000001",
       "birth",
       {{"data.child.full_name", crdt::Value::String("Nguyễn Thị Hồng")},
        {"data.child.birth_date", crdt::Value::String("2025-07-02")},
        {"data.child.sex", crdt::Value::String("F")},
        {"data.mother.full_name", crdt::Value::String("Lê Thị Mai")}}},
      {"22333-KT-2025-000001",
       "death",
       {{"data.deceased.full_name", crdt::Value::String("Phạm Văn Đức")},
        {"data.death_datetime", crdt::Value::String("2025-07-03T08:30")}}},
      {"22333-KH-2025-000001",
       "marriage",
       {{"data.husband.full_name", crdt::Value::String("Võ Minh Tuấn")},
        {"data.wife.full_name", crdt::Value::String("Đặng Thu Hà")}}},
  };
  for (const auto& s : samples) {
    TUPHAP_ASSIGN_OR_RETURN(std::string id, n->CreateRecord(s.id, s.type, "", s.fields));
    out << "registered " << s.type << " " << id << '\n';
  }
  TUPHAP_RETURN_IF_ERROR(
      n->SetFields("22333-KS-2025-000001",
                   {{"data.child.full_name", crdt::Value::String("Nguyễn Thị Hồng Đào")}}));
  out << "amended 22333-KS-2025-000001 (the child's full name)\n\n";

  out << "history of 22333-KS-2025-000001:\n";
  TUPHAP_ASSIGN_OR_RETURN(std::vector<node::HistoryEntry> history,
                          n->History("22333-KS-2025-000001"));
  for (const auto& h : history) {
    out << "  " << h.hlc.ToString() << "  " << h.officer << "  node " << ShortNodeId(h.origin)
        << " #" << h.seq << '\n';
    for (const auto& op : h.ops) {
      out << "      " << op.field << ": " << (op.old.empty() ? "" : op.old[0].ToDisplay() + " -> ")
          << op.value.ToDisplay() << '\n';
    }
  }
  out << "\nstate digest:\n";
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ScopeDigest> digests, n->Digests(std::nullopt));
  Table t({"  scope", "records", "digest"});
  for (const auto& d : digests) t.Add({"  " + d.scope, std::to_string(d.records), ToHex(d.digest)});
  t.Print(out);
  n.reset();
  if (keep) {
    out << "\nkept " << dir.string() << " (try: tuphap --data " << commune_dir
        << " record show 22333-KS-2025-000001)\n";
  } else {
    fs::remove_all(dir);
  }
  return Status::Ok();
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, Context& ctx, Action* action) {
  auto keep = std::make_shared<bool>(false);
  CLI::App* demo = app.add_subcommand(
      "demo", "Quickstart: a node, a few records, an amendment, history and digest");
  demo->add_flag("--keep", *keep, "keep the demo folder");
  demo->callback([&ctx, action, keep] { *action = [&ctx, keep] { return RunDemo(ctx, *keep); }; });
}

}  // namespace tuphap::cli
