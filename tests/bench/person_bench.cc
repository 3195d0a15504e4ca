// Person index benchmark (issue 13, item 7). Prints its figures.
//
//   (1) registration on a hub holding --records records of --communes
//       communes of --province (generated, imported with the rules on):
//       p50 / p99 of Registry::Register into a commune's books for the next
//       --registrations lines of the same generated stream, whose people
//       partly are the stored ones (known parents, a spouse's death, a
//       remarriage; and, for a --bad share, a line breaking a person rule,
//       which must be refused). Accepted and refused apart, the person
//       index reads alone, and the same lines on the same hub reopened
//       with person_rules = false;
//   (2) import speed of the first --import-lines lines of that stream into
//       fresh hubs with person_rules on and off, alternating, --runs each;
//   (3) the person index's size on disk at the end of (1) (SQLite's dbstat),
//       the whole store's size, and the time of Store::Reindex (`tuphap index
//       rebuild`) on that hub.
//
// Usage: person_bench [--records N] [--registrations N] [--import-lines N]
//                     [--runs N] [--communes N] [--province PP] [--seed S]
//                     [--bad SHARE] [--edits SHARE] [--part all|register|import]
//                     [--rules both|on|off]   (which imports of (2) run: for a profiler)
// Scratch data goes under $TUPHAP_BENCH_DIR (default the temp directory):
// about 6 GB for the default 1,000,000 records.
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/line_reader.h"
#include "node/domain/importer.h"
#include "node/domain/person_rules.h"
#include "node/domain/record_generator.h"
#include "node/domain/record_json.h"
#include "node/domain/reference_data.h"
#include "node/domain/registry.h"
#include "node/node.h"
#include "node/test_keys.h"
#include "tests/bench/bench_util.h"

using namespace tuphap;

namespace {

struct Args {
  int records = 1'000'000;
  int registrations = 500;
  int import_lines = 200'000;
  int runs = 2;
  int communes = 50;
  std::string province = "56";
  uint64_t seed = 1;
  double bad = 0.2;     // of the generated lines, breaking a person rule
  double edits = 0.01;  // edit lines per create line (corrections, divorces)
  std::string part = "all";
  std::string rules = "both";  // (2) with the rules on, off, or both (for a profiler)
};

// CPU seconds of this process, all threads (the import's reader too).
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

std::unique_ptr<node::Node> OpenHub(const std::string& dir, bool person_rules) {
  node::NodeOptions o;
  o.person_rules = person_rules;
  auto n = node::Node::Open(dir, node::TestOptions(o));
  if (!n.ok()) Die("open " + dir, n.status());
  return std::move(*n);
}

std::unique_ptr<node::Node> NewHub(const std::string& dir, const std::string& province,
                                   bool person_rules) {
  node::InitParams p;
  p.role = node::Role::kHub;
  p.province = province;
  if (Status s = node::InitForTest(dir, p); !s.ok()) Die("init " + dir, s);
  return OpenHub(dir, person_rules);
}

struct Imported {
  domain::ImportSummary summary;
  double seconds = 0;
  double cpu = 0;
};

Imported ImportFile(node::Node& node, const std::string& file) {
  domain::Registry registry(node, domain::Lang::kEnglish);
  auto reader = LineReader::Open(file);
  if (!reader.ok()) Die("open " + file, reader.status());
  const double cpu = CpuSeconds();
  bench::Stopwatch w;
  auto s = domain::Import(registry, **reader, domain::ImportOptions{});
  if (!s.ok()) Die("import " + file, s.status());
  return Imported{*s, w.Seconds(), CpuSeconds() - cpu};
}

std::string Mb(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// The generated stream cut in three: the hub's records (valid create lines
// and the edits among them) into `hub_file`, of which the first
// `import_lines` lines also into `import_file`; then the next
// `registrations` lines, kept in memory.
struct Stream {
  uint64_t hub_lines = 0, hub_creates = 0, import_lines = 0, skipped_bad = 0;
  std::vector<std::string> tail;
  std::vector<std::string> communes;
  double seconds = 0;
};

Stream Generate(const Args& a, const std::string& hub_file, const std::string& import_file) {
  Stream st;
  const auto in_province = domain::ReferenceData::Get().CommunesOf(a.province);
  for (size_t i = 0; i < in_province.size() && st.communes.size() < static_cast<size_t>(a.communes);
       ++i)
    st.communes.push_back(in_province[i]->code);
  if (st.communes.empty()) Die("generate", Status::InvalidArgument("no communes in " + a.province));
  domain::GeneratorOptions g;
  g.seed = a.seed;
  g.communes = st.communes;
  g.bad = a.bad;
  g.bad_classes.assign(std::begin(domain::kPersonRules), std::end(domain::kPersonRules));
  // Bad lines of the head are left out (the hub holds `records` valid
  // ones), and not every bad draw finds a rule to break: a margin.
  const double needed = (a.records + a.registrations) / std::max(0.05, 1.0 - a.bad);
  g.records = static_cast<int>(needed * 1.02) + 1000;
  g.edits = static_cast<int>(g.records * a.edits);
  if (Status s = domain::CheckGeneratorOptions(g); !s.ok()) Die("generator options", s);
  std::ofstream hub(hub_file, std::ios::binary), imp(import_file, std::ios::binary);
  bench::Stopwatch w;
  domain::GenerateRecords(g, [&](const std::string& line) {
    const bool create = line.find("\"op\":\"create\"") != std::string::npos;
    const bool valid = line.ends_with("\"expect_error\":null}");
    if (st.hub_creates < static_cast<uint64_t>(a.records)) {
      if (!valid) {
        ++st.skipped_bad;
        return;
      }
      hub << line << '\n';
      ++st.hub_lines;
      if (create) ++st.hub_creates;
      if (st.import_lines < static_cast<uint64_t>(a.import_lines)) {
        imp << line << '\n';
        ++st.import_lines;
      }
    } else if (st.tail.size() < static_cast<size_t>(a.registrations)) {
      st.tail.push_back(line);
    }
  });
  hub.close();
  imp.close();
  if (!hub || !imp) Die("generate", Status::IoError("cannot write the generated files"));
  st.seconds = w.Seconds();
  if (st.tail.size() < static_cast<size_t>(a.registrations) ||
      st.hub_creates < static_cast<uint64_t>(a.records))
    Die("generate", Status::Internal("the generator made fewer lines than asked"));
  return st;
}

// ------------------------------------------------------------ (2) import
void ImportSpeed(const Args& a, const bench::ScratchDir& dir, const std::string& file,
                 uint64_t lines) {
  std::printf(
      "(2) import of %llu generated lines into a fresh hub, person rules on / off "
      "(alternating, %d runs each):\n",
      static_cast<unsigned long long>(lines), a.runs);
  std::vector<double> rate[2];
  for (int run = 0; run < a.runs; ++run) {
    for (int off = 0; off < 2; ++off) {
      // Alternate which goes first, so a drift of the machine favours neither.
      const bool rules = ((run + off) % 2) == 0;
      if (a.rules != "both" && (a.rules == "on") != rules) continue;
      const std::string data = dir.File(std::string("import-") + (rules ? "on" : "off"));
      std::filesystem::remove_all(data);
      Imported r;
      uint64_t size = 0;
      {
        auto hub = NewHub(data, a.province, rules);
        r = ImportFile(*hub, file);
      }
      size = std::filesystem::file_size(node::StorePath(data));
      std::filesystem::remove_all(data);
      const double lps = static_cast<double>(r.summary.lines) / r.seconds;
      rate[rules ? 0 : 1].push_back(lps);
      std::printf(
          "    run %d rules %-3s: %llu lines, %llu accepted, %llu refused, %llu duplicates: "
          "%.2f s (CPU %.2f s)  %.0f lines/s  (store %s)\n",
          run + 1, rules ? "on" : "off", static_cast<unsigned long long>(r.summary.lines),
          static_cast<unsigned long long>(r.summary.accepted),
          static_cast<unsigned long long>(r.summary.refused),
          static_cast<unsigned long long>(r.summary.duplicates), r.seconds, r.cpu, lps,
          Mb(size).c_str());
      std::fflush(stdout);
    }
  }
  if (rate[0].empty() || rate[1].empty()) return;
  const double on = bench::Percentile(rate[0], 0.5), off = bench::Percentile(rate[1], 0.5);
  std::printf(
      "    median: rules on %.0f lines/s, rules off %.0f lines/s; off/on = %.2f "
      "(the rules make an import %.0f%% slower)\n",
      on, off, off / on, (off / on - 1) * 100);
}

// ------------------------------------------------------ (1) registration
struct Registration {
  std::string type;
  std::string commune;
  std::string expect;  // the error class the generator built in, or ""
  // Without record id and commune: Register fills them in. The entry number
  // stays, as an officer copies it: a hub leases no register numbers.
  Json doc;
  std::vector<std::string> ids;
};

std::vector<Registration> ParseTail(const std::vector<std::string>& tail,
                                    std::vector<std::string>* edits) {
  std::vector<Registration> out;
  for (const auto& line : tail) {
    auto doc = ParseJson(line, nullptr);
    if (!doc) Die("tail", Status::Internal("a generated line does not parse"));
    if (doc->Find("op")->as_string() != "create") {
      edits->push_back(line);
      continue;
    }
    Registration r;
    r.type = doc->Find("type")->as_string();
    r.commune = doc->Find("commune_code")->as_string();
    if (const Json* e = doc->Find("expect_error"); e != nullptr && e->is_string())
      r.expect = e->as_string();
    auto& members = doc->as_object();
    std::erase_if(members, [](const auto& m) {
      return m.first == "record_id" || m.first == "commune_code" || m.first == "province_code";
    });
    r.doc = std::move(*doc);
    const domain::ValuesAt values = [&](std::string_view path) {
      const Json* v = domain::JsonAt(r.doc, path);
      return v != nullptr && v->is_string() ? std::vector<std::string>{v->as_string()}
                                            : std::vector<std::string>{};
    };
    for (const auto& ref : domain::PersonRefsOf(r.type, values)) r.ids.push_back(ref.personal_id);
    out.push_back(std::move(r));
  }
  return out;
}

void PrintLatency(const char* label, const std::vector<double>& ms) {
  if (ms.empty()) {
    std::printf("    %-34s none\n", label);
    return;
  }
  double sum = 0;
  for (double m : ms) sum += m;
  std::printf("    %-34s n=%-4zu p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  mean %7.3f ms\n", label,
              ms.size(), bench::Percentile(ms, 0.5), bench::Percentile(ms, 0.99),
              bench::Percentile(ms, 1.0), sum / static_cast<double>(ms.size()));
}

// Registers every line, one Register each, and prints the outcomes and
// latencies; with the rules on, an outcome other than the one the generator
// built the line for is shown (a few) and counted.
void RegisterAll(node::Node& node, std::vector<Registration> regs, bool rules_on) {
  domain::Registry registry(node, domain::Lang::kEnglish);
  std::vector<double> all, accepted, refused, lookups;
  std::map<std::string, int> by_class;
  int mismatched = 0;
  for (auto& r : regs) {
    bench::Stopwatch w;
    auto id = registry.Register(r.type, std::move(r.doc), r.commune);
    const double ms = w.Seconds() * 1000;
    all.push_back(ms);
    std::string outcome;
    if (id.ok()) {
      accepted.push_back(ms);
    } else if (!id.status().reason().empty()) {
      outcome = id.status().reason();
      refused.push_back(ms);
    } else {
      Die("register " + r.type, id.status());
    }
    if (rules_on) {
      // The person index reads a rule check makes, each ID's entries and
      // its spouses' (a spouse's death ends a marriage): after the
      // registration, so that it does not find its pages already cached.
      bench::Stopwatch l;
      for (const auto& personal_id : r.ids) {
        auto rows = node.store().PersonRows(personal_id);
        if (!rows.ok()) Die("person rows", rows.status());
        for (const auto& row : *rows)
          if (!row.partner.empty() && !node.store().PersonRows(row.partner).ok())
            Die("person rows", Status::Internal(row.partner));
      }
      lookups.push_back(l.Seconds() * 1000);
    }
    ++by_class[outcome.empty() ? "accepted" : outcome];
    if (rules_on && outcome != r.expect) {
      if (++mismatched <= 5) {
        std::printf("    note: a %s line expected %s, got %s: %s\n", r.type.c_str(),
                    r.expect.empty() ? "acceptance" : r.expect.c_str(),
                    outcome.empty() ? "accepted" : outcome.c_str(),
                    id.ok() ? id->c_str() : id.status().message().c_str());
      }
    }
  }
  std::string classes;
  for (const auto& [k, v] : by_class) classes += " " + k + "=" + std::to_string(v);
  std::printf("    outcomes:%s", classes.c_str());
  if (rules_on) std::printf("  (%d differ from what the generator built)", mismatched);
  std::printf("\n");
  PrintLatency("Register, all", all);
  PrintLatency("Register, accepted", accepted);
  PrintLatency("Register, refused", refused);
  if (rules_on) PrintLatency("its person index reads, again", lookups);
  std::fflush(stdout);
}

// Applies the tail's edit lines (not timed), so the later lines see the
// divorces they may rely on.
void ApplyEdits(node::Node& node, const std::vector<std::string>& edits) {
  domain::Registry registry(node, domain::Lang::kEnglish);
  int refused = 0;
  for (const auto& line : edits) {
    auto session = node.BeginSession();
    if (!session.ok()) Die("session", session.status());
    auto r = registry.ImportLine(**session, line);
    if (!r.ok()) Die("edit", r.status());
    if (r->outcome != domain::LineResult::Outcome::kAccepted) ++refused;
    if (Status s = (*session)->Commit(); !s.ok()) Die("commit", s);
  }
  if (!edits.empty())
    std::printf("    (%zu edit lines among them applied untimed, %d refused)\n", edits.size(),
                refused);
}

// ------------------------------------------------------ (3) sizes on disk
struct TableSize {
  std::string name;
  std::string table;
  uint64_t bytes = 0;
};

std::vector<TableSize> DbStat(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    Die("dbstat", Status::IoError(sqlite3_errmsg(db)));
  sqlite3_stmt* q = nullptr;
  const char* sql =
      "SELECT s.name, coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
      "LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY s.name ORDER BY 3 DESC";
  if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) != SQLITE_OK) {
    std::printf("    dbstat is not available in this SQLite (%s)\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return {};
  }
  std::vector<TableSize> out;
  while (sqlite3_step(q) == SQLITE_ROW) {
    out.push_back({reinterpret_cast<const char*>(sqlite3_column_text(q, 0)),
                   reinterpret_cast<const char*>(sqlite3_column_text(q, 1)),
                   static_cast<uint64_t>(sqlite3_column_int64(q, 2))});
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

int64_t ScalarQuery(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
      v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return v;
}

void PrintSizes(const std::string& store, uint64_t records, bool full) {
  const std::vector<TableSize> sizes = DbStat(store);
  const uint64_t file = std::filesystem::file_size(store);
  uint64_t person = 0;
  for (const auto& t : sizes) {
    const bool mine = t.table == "person_index" || t.table == "person_conflicts" ||
                      t.name == "records_duplicate_key";
    if (mine) person += t.bytes;
    if (mine || (full && t.bytes >= (1 << 20))) {
      std::printf("    %-34s %12llu bytes  %8.1f MB  %7.1f B/record%s\n", t.name.c_str(),
                  static_cast<unsigned long long>(t.bytes), t.bytes / (1024.0 * 1024.0),
                  static_cast<double>(t.bytes) / static_cast<double>(records), mine ? "  *" : "");
    }
  }
  // The duplicate key itself is a column of records: its bytes are in that
  // table's pages, only their payload can be counted.
  const int64_t key_bytes = ScalarQuery(
      store, "SELECT coalesce(sum(length(CAST(duplicate_key AS BLOB))), 0) FROM records");
  if (full) std::printf("    (tables and indexes under 1 MB left out)\n");
  const int64_t rows = ScalarQuery(store, "SELECT count(*) FROM person_index");
  const int64_t conflicts = ScalarQuery(store, "SELECT count(*) FROM person_conflicts");
  std::printf(
      "    person index (* above): %s = %.1f B/record, %.1f%% of the store; "
      "plus %s of duplicate_key text inside records (%.1f B/record)\n",
      Mb(person).c_str(), static_cast<double>(person) / static_cast<double>(records),
      100.0 * static_cast<double>(person) / static_cast<double>(file),
      Mb(static_cast<uint64_t>(key_bytes)).c_str(),
      static_cast<double>(key_bytes) / static_cast<double>(records));
  std::printf("    person_index rows %lld (%.2f per record), person_conflicts rows %lld\n",
              static_cast<long long>(rows),
              static_cast<double>(rows) / static_cast<double>(records),
              static_cast<long long>(conflicts));
  std::printf("    whole store file: %s (%.0f B/record)\n", Mb(file).c_str(),
              static_cast<double>(file) / static_cast<double>(records));
  std::fflush(stdout);
}

void RegisterAndSize(const Args& a, const bench::ScratchDir& dir, const Stream& st,
                     const std::string& hub_file) {
  const std::string data = dir.File("hub");
  const std::string store = node::StorePath(data);
  std::vector<std::string> edits;
  const std::vector<Registration> regs = ParseTail(st.tail, &edits);
  {
    auto hub = NewHub(data, a.province, true);
    const Imported imp = ImportFile(*hub, hub_file);
    std::printf(
        "(1) hub of province %s, %zu communes: imported %llu lines (%llu accepted, %llu "
        "refused) with the rules on in %.1f s (CPU %.1f s), %.0f lines/s\n",
        a.province.c_str(), st.communes.size(), static_cast<unsigned long long>(imp.summary.lines),
        static_cast<unsigned long long>(imp.summary.accepted),
        static_cast<unsigned long long>(imp.summary.refused), imp.seconds, imp.cpu,
        static_cast<double>(imp.summary.lines) / imp.seconds);
    if (imp.summary.refused != 0) {
      for (const auto& [k, v] : imp.summary.by_class)
        std::printf("    refused %s: %llu\n", k.c_str(), static_cast<unsigned long long>(v));
    }
    std::printf(
        "    Registry::Register of the next %zu generated records (commune books, "
        "synchronous=FULL, one transaction each):\n",
        regs.size());
    std::fflush(stdout);
    ApplyEdits(*hub, edits);
    RegisterAll(*hub, regs, true);
  }
  const uint64_t records = st.hub_creates + regs.size();
  std::printf("(3) person index on disk, hub of %llu records (SQLite dbstat), after (1):\n",
              static_cast<unsigned long long>(records));
  PrintSizes(store, records, true);
  {
    auto hub = OpenHub(data, true);
    bench::Stopwatch w;
    if (Status s = hub->store().Reindex(); !s.ok()) Die("reindex", s);
    std::printf("    Store::Reindex (tuphap index rebuild) of the hub: %.1f s\n", w.Seconds());
    std::fflush(stdout);
  }
  std::printf("    after the rebuild:\n");
  PrintSizes(store, records, false);
  {
    // The baseline: the same lines on the same hub, no person rule checked
    // and no person index written (numbered anew, so none is a duplicate
    // entry; their people now collide, unchecked).
    std::vector<Registration> again = regs;
    for (auto& r : again) {
      const int64_t entry = domain::JsonAt(r.doc, "book.entry_no")->as_int();
      domain::SetJsonAt(&r.doc, "book.entry_no", Json(entry + 500'000));
    }
    auto hub = OpenHub(data, false);
    std::printf(
        "(1, baseline) the same %zu registrations on that hub reopened with "
        "person_rules = false:\n",
        regs.size());
    RegisterAll(*hub, std::move(again), false);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--records") {
      a.records = std::stoi(v);
    } else if (k == "--registrations") {
      a.registrations = std::stoi(v);
    } else if (k == "--import-lines") {
      a.import_lines = std::stoi(v);
    } else if (k == "--runs") {
      a.runs = std::stoi(v);
    } else if (k == "--communes") {
      a.communes = std::stoi(v);
    } else if (k == "--province") {
      a.province = v;
    } else if (k == "--seed") {
      a.seed = std::stoull(v);
    } else if (k == "--bad") {
      a.bad = std::stod(v);
    } else if (k == "--edits") {
      a.edits = std::stod(v);
    } else if (k == "--rules") {
      a.rules = v;
    } else if (k == "--part") {
      a.part = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "option %s needs a value\n", argv[argc - 1]);
    return 2;
  }
  bench::ScratchDir dir("tuphap-person-bench");
  const std::string hub_file = dir.File("hub.jsonl"), import_file = dir.File("import.jsonl");
  const Stream st = Generate(a, hub_file, import_file);
  std::printf(
      "generated (seed %llu, %zu communes of province %s, person-rule bad share %.2f, "
      "edits %.2f) in %.1f s: hub file %llu lines (%llu records; %llu bad lines left "
      "out), then %zu lines to register\n",
      static_cast<unsigned long long>(a.seed), st.communes.size(), a.province.c_str(), a.bad,
      a.edits, st.seconds, static_cast<unsigned long long>(st.hub_lines),
      static_cast<unsigned long long>(st.hub_creates),
      static_cast<unsigned long long>(st.skipped_bad), st.tail.size());
  std::fflush(stdout);
  if (a.part == "all" || a.part == "import") ImportSpeed(a, dir, import_file, st.import_lines);
  if (a.part == "all" || a.part == "register") RegisterAndSize(a, dir, st, hub_file);
  std::printf("peak memory of this process: %.1f MB\n", bench::PeakRssKb() / 1024.0);
  return 0;
}
