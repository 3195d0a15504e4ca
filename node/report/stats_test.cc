// report::Stats reads the totals the store keeps per (scope, type, month)
// (schema 15) and decodes only the few registrations without a YYYY-MM-DD
// event date. Its figures must be those of the implementation that decoded
// every record of every commune: that one is kept here as the oracle, and
// the two are compared on generated stores with everything the figures
// distinguish — communes, revocations, content judged invalid, registration
// dates the index does not hold, person conflicts holding records back,
// violation decisions with fines paid, outstanding and cancelled — under
// every grouping and several periods; then after random amendments that
// move records between months, shapes of date, fines and types, after
// verdicts judged again, and after the upgrade from schema 14. Each time
// the kept totals must also be, row for row, the totals counted again from
// the records.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "base/line_reader.h"
#include "node/domain/dates.h"
#include "node/domain/importer.h"
#include "node/domain/record_generator.h"
#include "node/domain/record_json.h"
#include "node/domain/registry.h"
#include "node/report/reports.h"
#include "node/store/test_access.h"
#include "node/test_nodes.h"
#include "replication/certificate.h"

namespace tuphap::node {
namespace {

using domain::Lang;
using domain::Registry;
using report::StatsOptions;
using report::StatsRow;
using report::Winner;
using report::WinnerInt;

// ------------------------------------------------- the former implementation

// Every record of every commune decoded (options already checked).
Result<std::vector<StatsRow>> OracleStats(Node& node, const StatsOptions& o) {
  store::ReadSnapshot snapshot(node.store());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ScopeDigest> scopes, node.Digests(std::nullopt));
  std::map<std::tuple<std::string, std::string, std::string>, StatsRow> groups;
  for (const auto& sc : scopes) {
    if (replication::IsPublicScope(sc.scope)) continue;
    TUPHAP_ASSIGN_OR_RETURN(std::vector<store::RecordView> records,
                            node.store().RecordsWithPrefix(sc.scope, ""));
    TUPHAP_ASSIGN_OR_RETURN(std::set<std::string> held,
                            node.store().HeldForPersonConflicts(sc.scope));
    for (const auto& rec : records) {
      const std::string type = rec.state.Type();
      if (type.empty() || type[0] == '_') continue;
      std::string date = Winner(rec.state, "registered_at");
      if (date.empty()) date = Winner(rec.state, "data.decision_date");
      if (date.size() < 10) continue;
      if ((!o.from.empty() && date < o.from) || (!o.to.empty() && date.substr(0, 10) > o.to))
        continue;
      const auto key = std::make_tuple(o.by_commune ? sc.scope : "all", o.by_type ? type : "all",
                                       o.by_month ? date.substr(0, 7) : "all");
      StatsRow& row = groups[key];
      row.commune = std::get<0>(key);
      row.type = std::get<1>(key);
      row.period = std::get<2>(key);
      if (!rec.invalid.empty()) {
        ++row.invalid;
        continue;
      }
      if (rec.state.Revoked()) {
        ++row.revoked;
        continue;
      }
      if (held.count(rec.record_id) != 0) {
        ++row.held_back;
        continue;
      }
      ++row.count;
      if (type == "violation_decision" && Winner(rec.state, "data.principal_penalty") == "fine") {
        const std::string status = Winner(rec.state, "data.status");
        if (status == "cancelled") continue;
        // Amounts count within [0, 10^12] VND (domain::FineOf).
        constexpr int64_t kMax = 1'000'000'000'000;
        const int64_t amount =
            std::clamp<int64_t>(WinnerInt(rec.state, "data.fine_amount_vnd"), 0, kMax);
        ++row.fines;
        row.fines_issued_vnd += amount;
        if (status == "paid") {
          const int64_t paid = WinnerInt(rec.state, "data.paid_amount_vnd");
          row.fines_paid_vnd += paid > 0 ? std::min(paid, kMax) : amount;
        } else {
          row.fines_outstanding_vnd += amount;
        }
      }
    }
  }
  std::vector<StatsRow> out;
  for (auto& [k, v] : groups) out.push_back(std::move(v));
  return out;
}

// ------------------------------------------------------------ the comparison

std::string Text(const std::vector<StatsRow>& rows) {
  std::ostringstream s;
  for (const auto& r : rows) {
    s << r.commune << ' ' << r.type << ' ' << r.period << ": count " << r.count << " revoked "
      << r.revoked << " invalid " << r.invalid << " held_back " << r.held_back << " fines "
      << r.fines << ' ' << r.fines_issued_vnd << ' ' << r.fines_paid_vnd << ' '
      << r.fines_outstanding_vnd << '\n';
  }
  return s.str();
}

StatsRow Total(const std::vector<StatsRow>& rows) {
  StatsRow t;
  for (const auto& r : rows) {
    t.count += r.count;
    t.revoked += r.revoked;
    t.invalid += r.invalid;
    t.held_back += r.held_back;
    t.fines += r.fines;
    t.fines_issued_vnd += r.fines_issued_vnd;
    t.fines_paid_vnd += r.fines_paid_vnd;
    t.fines_outstanding_vnd += r.fines_outstanding_vnd;
  }
  return t;
}

// Stats and the oracle under every grouping and several periods; `whole`:
// the totals of the whole, ungrouped.
void ExpectSameFigures(Node& n, StatsRow* whole = nullptr) {
  const std::pair<const char*, const char*> periods[] = {
      {"", ""},
      {"2025-10-01", ""},
      {"", "2026-02-15"},
      {"2026-01-01", "2026-03-31"},
      {"2026-02-15", "2026-02-15"},
      {"2027-01-01", ""},
  };
  for (const auto& [from, to] : periods) {
    for (int by = 0; by < 8; ++by) {
      StatsOptions o;
      o.from = from;
      o.to = to;
      o.by_commune = (by & 1) != 0;
      o.by_type = (by & 2) != 0;
      o.by_month = (by & 4) != 0;
      SCOPED_TRACE(std::string("from '") + from + "' to '" + to + "' by " + std::to_string(by));
      auto got = report::Stats(n, o);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      auto want = OracleStats(n, o);
      ASSERT_TRUE(want.ok()) << want.status().ToString();
      EXPECT_EQ(Text(*got), Text(*want));
      if (whole != nullptr && *from == 0 && *to == 0 && by == 0) *whole = Total(*got);
    }
  }
}

// stats_totals as kept, row for row, is what counting it again from the
// records gives.
void ExpectTotalsAreThoseOfTheRows(Node& n) {
  auto dump = [&] {
    std::string out;
    auto q =
        store::TestAccess::Db(n.store()).Prepare("SELECT * FROM stats_totals ORDER BY 1, 2, 3");
    EXPECT_TRUE(q.ok());
    while (q.ok() && *q->Step()) {
      for (int c = 0; c < 10; ++c)
        out += std::string(c < 3 ? q->Text(c) : std::to_string(q->Int(c))) + ' ';
      out += '\n';
    }
    return out;
  };
  const std::string kept = dump();
  EXPECT_NE(kept, "");
  ASSERT_TRUE(n.store().RecountStatsTotals().ok());
  EXPECT_EQ(kept, dump());
}

// ------------------------------------------------------------ the stores

class StatsTest : public NodesTest {
 protected:
  // Generated lines of `commune`, imported by `n`; the create lines parsed.
  std::vector<Json> Import(Node& n, const std::string& commune, uint64_t seed) {
    domain::GeneratorOptions g;
    g.seed = seed;
    g.communes = {commune};
    g.records = 300;
    g.edits = 150;
    const std::string path = Dir("gen-" + commune + ".jsonl");
    std::vector<Json> creates;
    {
      std::ofstream out(path, std::ios::binary);
      domain::GenerateRecords(g, [&](const std::string& line) {
        out << line << '\n';
        auto doc = ParseJson(line, nullptr);
        if (doc && doc->Find("op") != nullptr && doc->Find("op")->as_string() == "create")
          creates.push_back(std::move(*doc));
      });
    }
    Registry r(n, Lang::kEnglish);
    auto reader = LineReader::Open(path);
    EXPECT_TRUE(reader.ok());
    auto s = domain::Import(r, **reader, domain::ImportOptions{});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_GT(s.ok() ? s->accepted : 0, 200u);
    return creates;
  }

  static Json Only(const Json& doc, std::initializer_list<const char*> keys) {
    Json out = Json::MakeObject();
    for (const char* k : keys) {
      if (const Json* v = doc.Find(k)) out.Set(k, *v);
    }
    return out;
  }

  // What a rogue node signs: no check but the envelope limits.
  static void Raw(Node& n, const Json& doc) {
    std::vector<FieldUpdate> fields;
    for (auto& [path, value] : domain::Flatten(doc)) fields.push_back({path, std::move(value)});
    auto r = n.CreateRecord(doc.Find("record_id")->as_string(), doc.Find("type")->as_string(), "",
                            fields);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Amendments at the hub and at commune `a` (then exchanged) that move
  // registrations between months, between a date and none or an odd one,
  // between fines paid, outstanding, cancelled and none, and revoke some;
  // and records of `a` the hub creates again with another type before `a`'s
  // arrive (two creations: the winning type may change at either).
  void RandomWork(Node& hub, Node& a, const std::vector<Json>& of_a, std::mt19937_64& rng) {
    auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
    auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
    const char*
        dates[] = {"2025-11-03",       "2026-01-01", "2026-01-31", "2026-02-15",
                   "2026-02-28",       "2026-03-31", "2026-04-01", "2026-2-5",
                   "2026-02-15T08:30", "2026-01-00", "2026-03-32"};  // of the shape, no real date
    const char* statuses[] = {"issued", "paid", "cancelled", "enforced"};
    int amended = 0;
    for (int step = 0; step < 120; ++step) {
      const Json& doc = of_a[pick(of_a.size())];
      const std::string id = doc.Find("record_id")->as_string();
      const std::string type = doc.Find("type")->as_string();
      std::vector<FieldUpdate> fields;
      if (chance(0.5))
        fields.push_back({"registered_at", crdt::Value::String(dates[pick(std::size(dates))])});
      if (type == "violation_decision") {
        if (chance(0.6)) fields.push_back({"data.status", crdt::Value::String(statuses[pick(4)])});
        if (chance(0.5))
          fields.push_back({"data.fine_amount_vnd",
                            crdt::Value::Int(static_cast<int64_t>(pick(50) + 1) * 100'000)});
        if (chance(0.3))
          fields.push_back(
              {"data.paid_amount_vnd", crdt::Value::Int(static_cast<int64_t>(pick(3)) * 250'000)});
        // Absurd amounts (a peer's record may carry them): counted capped,
        // they must not overflow the kept sums.
        if (chance(0.05))
          fields.push_back({chance(0.5) ? "data.paid_amount_vnd" : "data.fine_amount_vnd",
                            crdt::Value::Int(std::numeric_limits<int64_t>::max() - 1)});
        if (chance(0.2))
          fields.push_back(
              {"data.principal_penalty", crdt::Value::String(chance(0.5) ? "warning" : "fine")});
      }
      Status s;
      if (fields.empty()) {
        s = (chance(0.5) ? a : hub).Revoke(id, "entered in error", kCommune);
      } else {
        s = (chance(0.5) ? a : hub).SetFields(id, fields, "", kCommune);
      }
      // A revoked record is not amended (nor revoked twice).
      ASSERT_TRUE(s.ok() || s.code() == StatusCode::kFailedPrecondition) << s.ToString();
      amended += s.ok();
    }
    EXPECT_GT(amended, 30);
    // New records of a, created first at the hub with another type.
    for (int i = 0; i < 12; ++i) {
      char id[64];
      std::snprintf(id, sizeof id, "%s-KS-2026-%06d", kCommune, 800000 + i);
      const std::vector<FieldUpdate> fields{
          {"registered_at", crdt::Value::String(dates[pick(7)])},
          {"data.child.full_name", crdt::Value::String("Nguyễn Văn " + std::to_string(i))}};
      auto at_hub = hub.CreateRecord(id, i % 2 ? "death" : "violation_decision", kCommune, fields);
      ASSERT_TRUE(at_hub.ok()) << at_hub.status().ToString();
      auto at_a = a.CreateRecord(id, "birth", "", fields);
      ASSERT_TRUE(at_a.ok()) << at_a.status().ToString();
    }
    Ingest(hub, Envelopes(a));
    Ingest(a, Envelopes(hub, kCommune));
  }

  void RunSeed(uint64_t seed) {
    const std::string tag = std::to_string(seed);
    auto hub = Make("hub" + tag, Role::kHub);
    auto a = Make("a" + tag, Role::kCommune, kCommune);
    auto b = Make("b" + tag, Role::kCommune, kOtherCommune);
    Enrol(*hub, *a);
    Enrol(*hub, *b);
    std::mt19937_64 rng(seed);
    auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };

    const std::vector<Json> of_a = Import(*a, kCommune, seed);
    const std::vector<Json> of_b = Import(*b, kOtherCommune, seed + 100);

    // Children of a registered again at b, which has never seen them: each
    // valid where it is registered, a person conflict at the hub.
    int again = 0;
    for (const Json& doc : of_a) {
      if (doc.Find("type")->as_string() != "birth" || !chance(0.2)) continue;
      auto id = Registry(*b, Lang::kEnglish)
                    .Register("birth", Only(doc, {"registered_at", "version", "data"}));
      again += id.ok();
    }
    EXPECT_GT(again, 0);

    // Content no officer could enter, some with registration dates the
    // index holds as no date or another shape: a violation decision without
    // registered_at (its decision date counts), a date as a number, dates
    // not of the shape YYYY-MM-DD, or longer.
    int raw = 0;
    auto rogue = [&](Json doc, const char* path, std::optional<Json> value) {
      char id[64];
      std::snprintf(id, sizeof id, "%s-%s-2026-%06d", kCommune,
                    doc.Find("type")->as_string() == "birth" ? "KS" : "XP", 900000 + ++raw);
      doc.Set("record_id", std::string(id));
      if (value) {
        domain::SetJsonAt(&doc, path, *value);
      } else {
        auto& members = doc.as_object();
        std::erase_if(members, [&](const auto& m) { return m.first == path; });
      }
      Raw(*a, Only(doc, {"type", "record_id", "commune_code", "province_code", "registered_at",
                         "book", "version", "data"}));
    };
    for (const Json& doc : of_a) {
      const std::string type = doc.Find("type")->as_string();
      if (type == "violation_decision" && chance(0.3)) rogue(doc, "registered_at", std::nullopt);
      if (type != "birth" || !chance(0.15)) continue;
      switch (std::uniform_int_distribution<int>(0, 6)(rng)) {
        case 0:
          rogue(doc, "registered_at", Json(int64_t{2026011500}));
          break;
        case 1:
          rogue(doc, "registered_at", Json("2026-02-3x"));
          break;
        case 2:
          rogue(doc, "registered_at", Json("Ngày 15 tháng 02 năm 2026"));
          break;
        case 3:
          rogue(doc, "registered_at", Json("2026-02-15T08:30"));
          break;
        case 4:
          rogue(doc, "registered_at", Json("2026-2-5"));
          break;
        case 5:
          rogue(doc, "registered_at", std::nullopt);
          break;
        default:
          rogue(doc, "data.child.sex", Json("X"));
          break;
      }
    }
    if (HasFatalFailure()) return;

    // Revocations, of records of every kind (held back and invalid ones
    // too).
    for (Node* n : {a.get(), b.get()}) {
      auto records = n->store().RecordsWithPrefix(n->info().commune, "");
      ASSERT_TRUE(records.ok());
      for (const auto& rec : *records) {
        if (rec.state.Type().empty() || rec.state.Type()[0] == '_' || !chance(0.07)) continue;
        ASSERT_TRUE(n->Revoke(rec.record_id, "registered in error").ok());
      }
    }
    Ingest(*hub, Envelopes(*a));
    Ingest(*hub, Envelopes(*b));

    for (Node* n : {a.get(), b.get()}) {
      SCOPED_TRACE(n->info().commune);
      ExpectSameFigures(*n);
    }
    {
      SCOPED_TRACE("hub");
      StatsRow t;
      ExpectSameFigures(*hub, &t);
      // The store had it all.
      EXPECT_GT(t.count, 400u);
      EXPECT_GT(t.revoked, 10u);
      EXPECT_GT(t.invalid, 5u);
      EXPECT_GT(t.held_back, 0u);
      EXPECT_GT(t.fines, 5u);
      EXPECT_GT(t.fines_paid_vnd, 0);
      EXPECT_GT(t.fines_outstanding_vnd, 0);
    }
    ExpectTotalsAreThoseOfTheRows(*hub);
    if (HasFatalFailure()) return;

    RandomWork(*hub, *a, of_a, rng);
    if (HasFatalFailure()) return;
    {
      SCOPED_TRACE("hub after random work");
      ExpectSameFigures(*hub);
      ExpectTotalsAreThoseOfTheRows(*hub);
    }
    {
      SCOPED_TRACE("a after random work");
      ExpectSameFigures(*a);
      ExpectTotalsAreThoseOfTheRows(*a);
    }
    // Verdicts judged again (every one cleared behind the store's back and
    // counted so, then judged by the rules): each record flagged again
    // moves into the invalid count.
    {
      auto& db = store::TestAccess::Db(hub->store());
      ASSERT_TRUE(db.Exec("UPDATE records SET invalid = NULL, invalid_field = NULL").ok());
      ASSERT_TRUE(hub->store().RecountStatsTotals().ok());
      ASSERT_TRUE(hub->store().Rejudge().ok());
      SCOPED_TRACE("hub judged again");
      StatsRow t;
      ExpectSameFigures(*hub, &t);
      EXPECT_GT(t.invalid, 5u);
      ExpectTotalsAreThoseOfTheRows(*hub);
    }
    if (HasFatalFailure()) return;

    // A store of schema 14: no totals, no fines on the rows, the index
    // records_stats. The upgrade
    // reads the fines from the states and counts the totals.
    const std::string hub_name = "hub" + tag;
    hub.reset();
    {
      auto db =
          store::Database::Open(Dir(hub_name) + "/tuphap.db", store::Database::OpenMode::kExisting);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      ASSERT_TRUE((*db)
                      ->Exec("DROP TABLE stats_totals; ALTER TABLE records DROP COLUMN fine_vnd; "
                             "ALTER TABLE records DROP COLUMN fine_paid_vnd; "
                             "CREATE INDEX records_stats ON records(type, scope, "
                             "event_date, revoked, invalid); "
                             "DELETE FROM meta WHERE key = 'stats_rebuild'; "
                             "PRAGMA user_version=14")
                      .ok());
    }
    hub = Open(hub_name);
    ASSERT_NE(hub, nullptr);
    {
      SCOPED_TRACE("hub upgraded from schema 14");
      StatsRow t;
      ExpectSameFigures(*hub, &t);
      EXPECT_GT(t.fines, 5u);
      ExpectTotalsAreThoseOfTheRows(*hub);
    }

    // A store whose index holds no date for some records (as one indexed
    // without the domain's rules would, and counted so): those are read
    // whole, and the figures stay.
    ASSERT_TRUE(store::TestAccess::Db(hub->store())
                    .Exec("UPDATE records SET event_date = NULL WHERE id % 3 = 0; "
                          "UPDATE records SET event_date = '' WHERE id % 3 = 1 AND id % 2 = 0")
                    .ok());
    ASSERT_TRUE(hub->store().RecountStatsTotals().ok());
    SCOPED_TRACE("hub without some dates");
    ExpectSameFigures(*hub);
    // `index rebuild` gives the dates back and counts the totals again.
    ASSERT_TRUE(hub->store().Reindex().ok());
    {
      SCOPED_TRACE("hub reindexed");
      ExpectSameFigures(*hub);
      ExpectTotalsAreThoseOfTheRows(*hub);
    }
  }
};

TEST_F(StatsTest, FiguresFromTheIndexAreThoseOfEveryRecordDecoded) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RunSeed(seed);
    if (HasFatalFailure()) return;
  }
}

TEST_F(StatsTest, BadOptionsAreRefused) {
  auto hub = Make("hub", Role::kHub);
  StatsOptions o;
  o.from = "2026-13-01";
  EXPECT_FALSE(report::Stats(*hub, o).ok());
  o.from = "2026-03-01";
  o.to = "2026-02-01";
  EXPECT_FALSE(report::Stats(*hub, o).ok());
}

}  // namespace
}  // namespace tuphap::node
