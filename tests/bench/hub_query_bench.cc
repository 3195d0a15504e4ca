// Hub query benchmark (issue 17, item 1): the time of every status, console
// and report query on a province hub, against the goal of 100 ms.
//
//   hub_query_bench [--records N] [--communes N] [--province PP] [--runs R]
//                   [--seed S] [--cache DIR] [--rebuild] [--in-place]
//
// The hub (default: province 56, Khánh Hòa, 1,000,000 generated
// civil-status records over its first 65 communes, one enrolled node each)
// is built once with the project's generator and importer (about 1 % edits:
// corrections, divorces...), then given what a live hub holds besides:
// field conflicts (concurrent values of one field), registrations judged
// invalid, revoked records and second registrations of one person (person
// conflicts). It is kept in --cache (default: hub_query_cache beside this
// program, i.e. under build/) and copied to a scratch folder for each run,
// so a build with another schema version can time the same store (the
// copy is migrated when it opens; that time is printed). --in-place times
// the cache itself (no copy); --rebuild makes it again.
//
// Each query runs once untimed (its time shown as "first") and then R times;
// printed: median and max in ms against the goal.
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "base/line_reader.h"
#include "node/app/office.h"
#include "node/app/officers.h"
#include "node/domain/importer.h"
#include "node/domain/record_generator.h"
#include "node/domain/reference_data.h"
#include "node/domain/registry.h"
#include "node/node.h"
#include "node/report/reports.h"
#include "node/test_keys.h"
#include "tests/bench/bench_util.h"
#include "web/http.h"
#include "web/webapp.h"

using namespace tuphap;

namespace {

struct Args {
  int records = 1'000'000;
  int communes = 65;
  std::string province = "56";
  int runs = 10;
  uint64_t seed = 1;
  std::string cache;
  bool rebuild = false;
  bool in_place = false;
};

constexpr double kGoalMs = 100;
constexpr const char* kHost = "127.0.0.1:8080";
constexpr const char* kPassword = "bench-password-1";

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

std::unique_ptr<node::Node> Open(const std::string& dir) {
  return Must(node::Node::Open(dir, node::TestOptions()), "open " + dir);
}

std::vector<std::string> CommunesOf(const std::string& province, size_t n) {
  std::vector<std::string> out;
  for (const auto* c : domain::ReferenceData::Get().CommunesOf(province)) {
    if (out.size() == n) break;
    out.push_back(c->code);
  }
  if (out.size() < n)
    Die("communes", Status::InvalidArgument("province " + province + " has " +
                                            std::to_string(out.size()) + " communes"));
  return out;
}

// ------------------------------------------------------------ building

std::string StringAfter(const std::string& line, size_t from, std::string_view key) {
  const size_t k = line.find(key, from);
  if (k == std::string::npos) return {};
  const size_t start = k + key.size();
  const size_t end = line.find('"', start);
  return end == std::string::npos ? std::string() : line.substr(start, end - start);
}

struct Created {
  std::string id, scope;
};

// The hub in `dir`: enrolled nodes, the generated records, then the
// conflicts, invalid, revoked and twice-registered records a live hub has.
void Build(const Args& a, const std::vector<std::string>& communes, const std::string& dir) {
  bench::Stopwatch total;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string hub_dir = dir + "/hub";
  node::InitParams hp;
  hp.role = node::Role::kHub;
  hp.province = a.province;
  Must(node::InitForTest(hub_dir, hp), "init hub");
  auto hub = Open(hub_dir);
  {
    bench::Stopwatch w;
    for (const std::string& code : communes) {
      const std::string ndir = dir + "/node-" + code;
      node::InitParams cp;
      cp.commune = code;
      Must(node::InitForTest(ndir, cp), "init " + code);
      auto n = Open(ndir);
      const std::string req = Must(n->EnrollRequestFile("bench"), "enroll request");
      auto file = Must(hub->EnrollSign(req, 365), "enroll sign");
      Must(n->EnrollAccept(file.file).status(), "enroll accept");
      n.reset();
      std::filesystem::remove_all(ndir);
    }
    std::printf("  enrolled %zu commune nodes in %.1f s\n", communes.size(), w.Seconds());
  }
  std::vector<Created> created;
  const std::string file = dir + "/records.jsonl";
  {
    bench::Stopwatch w;
    domain::GeneratorOptions g;
    g.seed = a.seed;
    g.communes = communes;
    g.records = a.records;
    g.edits = a.records / 100;
    Must(domain::CheckGeneratorOptions(g), "generator options");
    std::ofstream out(file, std::ios::binary);
    domain::GenerateRecords(g, [&](const std::string& line) {
      out << line << '\n';
      if (line.find("\"op\":\"create\"") == std::string::npos) return;
      created.push_back(
          {StringAfter(line, 0, "\"record_id\":\""), StringAfter(line, 0, "\"commune_code\":\"")});
    });
    out.close();
    if (!out) Die("generate", Status::IoError("cannot write " + file));
    std::printf("  generated %d records over %zu communes in %.1f s\n", a.records, communes.size(),
                w.Seconds());
    std::fflush(stdout);
  }
  {
    bench::Stopwatch w;
    domain::Registry registry(*hub, domain::Lang::kEnglish);
    auto reader = Must(LineReader::Open(file), "open " + file);
    auto s = Must(domain::Import(registry, *reader, domain::ImportOptions{}), "import");
    std::printf("  imported %llu lines (%llu accepted) in %.1f s\n",
                static_cast<unsigned long long>(s.lines),
                static_cast<unsigned long long>(s.accepted), w.Seconds());
    std::fflush(stdout);
    std::filesystem::remove(file);
  }
  // Scopes as the importer stored them (the generator's line names the
  // commune; fall back to a lookup when it does not).
  std::mt19937_64 rng(a.seed + 1);
  auto pick = [&]() -> Created {
    while (true) {
      Created c = created[std::uniform_int_distribution<size_t>(0, created.size() - 1)(rng)];
      auto rec = hub->GetRecord(c.id, c.scope.size() == 5 ? c.scope : "");
      if (!rec.ok()) continue;
      c.scope = rec->scope;
      return c;
    }
  };
  bench::Stopwatch w;
  const size_t per_commune = 10;
  const size_t n = per_commune * communes.size();
  // Field conflicts: a second value of a name beside the first, each
  // blind to the other (no pred), as two offline nodes would write.
  size_t conflicts = 0;
  for (size_t i = 0; i < n; ++i) {
    const Created c = pick();
    auto rec = Must(hub->GetRecord(c.id, c.scope), "get");
    std::string field;
    for (const auto& [name, reg] : rec.state.fields()) {
      if (name.size() > 10 && name.substr(name.size() - 10) == ".full_name") {
        field = name;
        break;
      }
    }
    if (field.empty()) continue;
    auto session = Must(hub->BeginSession(), "session");
    Must(hub->Append(*session, c.scope, "bench conflict",
                     [&](const node::Node::RecordReader&) {
                       std::vector<crdt::RecordOps> ops{
                           {c.id, {{field, crdt::Value::String("Trần Văn Xung Đột"), {}}}}};
                       return Result<std::vector<crdt::RecordOps>>(std::move(ops));
                     }),
         "append conflict");
    Must(session->Commit(), "commit");
    ++conflicts;
  }
  // Revoked records.
  for (size_t i = 0; i < n; ++i) {
    const Created c = pick();
    Status s = hub->Revoke(c.id, "bench: registered by mistake", c.scope);
    if (!s.ok() && s.code() != StatusCode::kFailedPrecondition) Die("revoke", s);
  }
  // Second registrations of one person (a copy of a birth under a new id:
  // a person conflict and a possible duplicate), and registrations judged
  // invalid (a birth with nothing but its type and date).
  size_t twice = 0;
  {
    auto session = Must(hub->BeginSession(), "session");
    for (size_t i = 0; i < n; ++i) {
      const Created c = pick();
      auto rec = Must(hub->GetRecord(c.id, c.scope), "get");
      if (rec.state.Type() != "birth") continue;
      std::vector<crdt::Op> ops;
      for (const auto& [name, reg] : rec.state.fields()) {
        if (reg.Winner() == nullptr || name == crdt::kRevokedField) continue;
        ops.push_back({name, reg.Winner()->value, {}});
      }
      Must(hub->Append(*session, c.scope, "",
                       [&](const node::Node::RecordReader&) {
                         std::vector<crdt::RecordOps> r{{c.id + "-B", ops}};
                         return Result<std::vector<crdt::RecordOps>>(std::move(r));
                       }),
           "append twice");
      ++twice;
    }
    for (size_t i = 0; i < n; ++i) {
      const std::string& scope = communes[i % communes.size()];
      Must(hub->Append(*session, scope, "",
                       [&](const node::Node::RecordReader&) {
                         std::vector<crdt::RecordOps> r{
                             {scope + "-KS-2026-INV" + std::to_string(i),
                              {{std::string(crdt::kTypeField), crdt::Value::String("birth"), {}},
                               {"registered_at", crdt::Value::String("2026-02-30"), {}}}}};
                         return Result<std::vector<crdt::RecordOps>>(std::move(r));
                       }),
           "append invalid");
    }
    Must(session->Commit(), "commit");
  }
  std::printf(
      "  added %zu field conflicts, %zu revocations, %zu second registrations and %zu invalid "
      "records in %.1f s\n",
      conflicts, n, twice, n, w.Seconds());
  app::Officers officers(hub->store(), SystemClock(), domain::Lang::kVietnamese,
                         node::KdfLimits::Weak());
  Must(officers.Add("op", "Nguyễn Văn Bench", app::Role::kOperator, kPassword).status(),
       "officer add");
  hub.reset();
  std::ofstream(dir + "/built") << a.records << " " << a.communes << " " << a.province << " "
                                << a.seed << "\n";
  std::printf("  built in %.1f s\n", total.Seconds());
}

// ------------------------------------------------------------- timing

struct Client {
  web::WebApp& app;
  std::string cookie;

  web::Response Send(const std::string& method, const std::string& target,
                     const std::string& body = {}) {
    web::Request r;
    r.method = method;
    r.target = target;
    r.headers["host"] = kHost;
    if (method == "POST") {
      r.headers["origin"] = std::string("http://") + kHost;
      r.headers["content-type"] = "application/x-www-form-urlencoded";
    }
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    r.body = body;
    return app.Handle(r);
  }
};

std::string CookieOf(const web::Response& r) {
  for (const auto& [k, v] : r.headers) {
    if (k == "Set-Cookie") return v.substr(0, v.find(';'));
  }
  return {};
}

void LogIn(Client& c) {
  web::Response page = c.Send("GET", "/login");
  std::smatch m;
  if (!std::regex_search(page.body, m, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")))
    Die("login page", Status::Internal("no csrf input"));
  c.cookie = CookieOf(page);
  web::Response r =
      c.Send("POST", "/login", "csrf=" + m[1].str() + "&login=op&password=" + kPassword);
  if (r.status != 303)
    Die("login", Status::Internal("POST /login answered " + std::to_string(r.status)));
  c.cookie = CookieOf(r);
}

int slow = 0;

// Runs `fn` once untimed, then `runs` times; prints median and max.
void Time(const std::string& label, int runs, const std::function<std::string()>& fn) {
  bench::Stopwatch first_w;
  std::string what = fn();
  const double first = first_w.Seconds() * 1000;
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    bench::Stopwatch w;
    what = fn();
    ms.push_back(w.Seconds() * 1000);
  }
  const double median = bench::Percentile(ms, 0.5), max = bench::Percentile(ms, 1.0);
  const bool ok = median < kGoalMs;
  slow += ok ? 0 : 1;
  std::printf("  %-46s %9.1f %9.1f %9.1f  %-4s %s\n", label.c_str(), median, max, first,
              ok ? "ok" : "SLOW", what.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  a.cache =
      (std::filesystem::canonical("/proc/self/exe").parent_path() / "hub_query_cache").string();
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "option %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--records") {
      a.records = std::stoi(value());
    } else if (k == "--communes") {
      a.communes = std::stoi(value());
    } else if (k == "--province") {
      a.province = value();
    } else if (k == "--runs") {
      a.runs = std::stoi(value());
    } else if (k == "--seed") {
      a.seed = std::stoull(value());
    } else if (k == "--cache") {
      a.cache = value();
    } else if (k == "--rebuild") {
      a.rebuild = true;
    } else if (k == "--in-place") {
      a.in_place = true;
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.records < 1000 || a.communes < 1 || a.runs < 1) {
    std::fprintf(stderr, "--records at least 1000, --communes and --runs at least 1\n");
    return 2;
  }
  bench::PrintRunHeader(argc, argv, sqlite3_libversion());
  const std::vector<std::string> communes = CommunesOf(a.province, static_cast<size_t>(a.communes));
  const std::string cache = a.cache + "/p" + a.province + "-c" + std::to_string(a.communes) + "-r" +
                            std::to_string(a.records) + "-s" + std::to_string(a.seed);
  if (a.rebuild || !std::filesystem::exists(cache + "/built")) {
    std::printf("building the hub in %s\n", cache.c_str());
    std::fflush(stdout);
    Build(a, communes, cache);
  }
  std::unique_ptr<bench::ScratchDir> scratch;
  std::string dir = cache + "/hub";
  if (!a.in_place) {
    scratch = std::make_unique<bench::ScratchDir>("tuphap-hub-query-bench");
    bench::Stopwatch w;
    std::filesystem::copy(dir, scratch->path() / "hub", std::filesystem::copy_options::recursive);
    dir = (scratch->path() / "hub").string();
    std::printf("copied the cached hub in %.1f s\n", w.Seconds());
  }
  std::printf("store file %.1f MB\n",
              static_cast<double>(std::filesystem::file_size(node::StorePath(dir))) / (1 << 20));
  bench::Stopwatch open_w;
  auto hub = Open(dir);
  std::printf("opened (migrations included) in %.1f s\n", open_w.Seconds());
  auto office = std::make_unique<app::Office>(std::move(hub), domain::Lang::kVietnamese);
  app::Office* o = office.get();
  node::Node* n = nullptr;
  {
    // A second Office on the same store for the store-level queries: the web
    // app owns the first, as in `serve --ui`.
  }
  auto own = Open(dir);
  n = own.get();
  web::WebOptions wo;
  wo.hosts = {kHost};
  auto tz = Must(web::TimeZone::Named(wo.time_zone), "time zone");
  web::WebApp app(std::move(office), std::move(tz), wo);
  Client c{app, {}};
  LogIn(c);

  const std::string& one = communes[communes.size() / 2];
  auto page = [&](const std::string& target) {
    return [&, target]() {
      web::Response r = c.Send("GET", target);
      if (r.status != 200) Die(target, Status::Internal("answered " + std::to_string(r.status)));
      return std::to_string(r.body.size()) + " bytes";
    };
  };
  auto rows = [](size_t k, const char* what) { return std::to_string(k) + " " + what; };
  std::printf("\n%d records, %d communes of province %s; %d runs each (goal: median < %.0f ms)\n",
              a.records, a.communes, a.province.c_str(), a.runs, kGoalMs);
  std::printf("  %-46s %9s %9s %9s\n", "query", "median ms", "max ms", "first ms");
  Time("tuphap status (Office::GetNodeStatus)", a.runs, [&] {
    auto s = Must(o->GetNodeStatus(), "status");
    return rows(s.peers.size(), "peers");
  });
  Time("report status (Office::ProvinceStatus)", a.runs, [&] {
    auto s = Must(o->ProvinceStatus(), "province status");
    uint64_t records = 0, conflicts = 0, persons = 0, invalid = 0;
    for (const auto& r : s.communes) {
      records += r.records;
      conflicts += r.conflicts;
      persons += r.person_conflicts;
      invalid += r.invalid;
    }
    return rows(s.communes.size(), "communes") + ", " + std::to_string(records) + " records, " +
           std::to_string(conflicts) + " conflicts, " + std::to_string(persons) +
           " person conflicts, " + std::to_string(invalid) + " invalid";
  });
  Time("GET /hub (console)", a.runs, page("/hub"));
  Time("GET /hub?format=csv", a.runs, page("/hub?format=csv"));
  Time("GET /hub/conflicts", a.runs, page("/hub/conflicts"));
  Time("GET /hub/stats", a.runs, page("/hub/stats"));
  Time("GET /hub/stats?from=01/01/2026&to=31/03/2026", a.runs,
       page("/hub/stats?from=01%2F01%2F2026&to=31%2F03%2F2026"));
  Time("GET /hub/reconcile (form)", a.runs, page("/hub/reconcile"));
  Time("GET /hub/enrol (form)", a.runs, page("/hub/enrol"));
  Time("report stats (Office::Stats)", a.runs,
       [&] { return rows(Must(o->Stats({}), "stats").size(), "rows"); });
  Time("report conflicts (Office::Conflicts)", a.runs, [&] {
    auto r = Must(o->Conflicts(), "conflicts");
    return rows(r.fields.size(), "fields") + ", " + rows(r.persons.size(), "person conflicts");
  });
  Time("report attention (Office::Attention)", a.runs,
       [&] { return rows(Must(o->Attention(false), "attention").records.size(), "records"); });
  Time("report duplicates --scope C (limit 50)", a.runs,
       [&] { return rows(Must(o->Duplicates(one, 50), "duplicates").groups.size(), "groups"); });
  Time("digest of one commune (Store::Digests)", a.runs, [&] {
    auto d = Must(n->Digests(std::string_view(one)), "digest");
    return rows(d.empty() ? 0 : d[0].records, "records");
  });
  Time("records of one commune (reconcile's tree read)", a.runs, [&] {
    size_t k = 0;
    Must(n->store().ForEachStoredState(one, [&](const store::Store::StoredState&) { ++k; }),
         "states");
    return rows(k, "records");
  });
  Time("person conflicts of one commune", a.runs, [&] {
    return rows(Must(n->store().PersonConflicts(one), "person conflicts").size(), "rows");
  });
  Time("held back in one commune", a.runs, [&] {
    return rows(Must(n->store().HeldForPersonConflicts(one), "held").size(), "records");
  });
  Time("digests of every commune (Store::Digests)", std::max(1, a.runs / 5),
       [&] { return rows(Must(n->Digests(std::nullopt), "digests").size(), "scopes"); });
  std::printf("%d of the queries above miss the goal\n", slow);
  std::printf("peak memory of this process: %.1f MB\n", bench::PeakRssKb() / 1024.0);
  return 0;
}
