// The generator's options: a reversed or unreadable date range is an error,
// not a division by zero. Its files on a real node: the lines that name
// people again (the person rules) are refused exactly as tagged, and the
// valid ones never collide.
#include "node/domain/record_generator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "base/json.h"
#include "node/domain/importer.h"
#include "node/domain/record_json.h"
#include "node/domain/registry.h"
#include "node/test_keys.h"

namespace tuphap::domain {
namespace {

namespace fs = std::filesystem;

GeneratorOptions Options(const std::string& from, const std::string& to) {
  GeneratorOptions o;
  o.communes = {"22333"};
  o.records = 20;
  o.from = from;
  o.to = to;
  return o;
}

// `--from 2026-01-02 --to 2026-01-01` died with SIGFPE; a wider reversed
// range wrote the year 1805419103.
TEST(RecordGeneratorTest, AReversedDateRangeIsRefused) {
  const Status s = CheckGeneratorOptions(Options("2026-01-02", "2026-01-01"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--from 2026-01-02 is after --to 2026-01-01"), std::string::npos)
      << s.message();
  EXPECT_EQ(CheckGeneratorOptions(Options("2026-03-01", "2025-01-01")).code(),
            StatusCode::kInvalidArgument);
  // Refused options write nothing (release builds; debug builds assert).
#ifdef NDEBUG
  int lines = 0;
  GenerateRecords(Options("2026-03-01", "2025-01-01"), [&](const std::string&) { ++lines; });
  EXPECT_EQ(lines, 0);
#endif
}

TEST(RecordGeneratorTest, OneDayIsARangeAndEveryLineFallsInIt) {
  const GeneratorOptions o = Options("2026-01-01", "2026-01-01");
  ASSERT_TRUE(CheckGeneratorOptions(o).ok());
  int lines = 0;
  GenerateRecords(o, [&](const std::string& line) {
    ++lines;
    EXPECT_NE(line.find("\"registered_at\":\"2026-01-01\""), std::string::npos) << line;
  });
  EXPECT_EQ(lines, 20);
}

TEST(RecordGeneratorTest, OtherBadOptionsSayWhich) {
  auto message = [](const GeneratorOptions& o) { return CheckGeneratorOptions(o).message(); };
  EXPECT_NE(message(Options("2026-13-01", "2026-12-31")).find("--from '2026-13-01'"),
            std::string::npos);
  EXPECT_NE(message(Options("2025-01-01", "soon")).find("--to 'soon'"), std::string::npos);
  EXPECT_NE(message(Options("1850-01-01", "2026-01-01")).find("1900 to 2100"), std::string::npos);
  GeneratorOptions o = Options("2025-01-01", "2025-12-31");
  o.records = -1;
  EXPECT_NE(message(o).find("--records"), std::string::npos);
  o = Options("2025-01-01", "2025-12-31");
  o.edits = -5;
  EXPECT_NE(message(o).find("--edits"), std::string::npos);
  o.edits = 0;
  o.bad = 1.5;
  EXPECT_NE(message(o).find("--bad"), std::string::npos);
  o.bad = 0;
  o.communes.clear();
  EXPECT_FALSE(CheckGeneratorOptions(o).ok());
}

}  // namespace
}  // namespace tuphap::domain

namespace tuphap::domain {
namespace {

class GeneratedFileTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("tuphap-gen-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A fresh node: a commune's, or a province hub's when `hub`.
  std::unique_ptr<node::Node> MakeNode(const std::string& name, const std::string& code, bool hub) {
    node::InitParams p;
    p.role = hub ? node::Role::kHub : node::Role::kCommune;
    (hub ? p.province : p.commune) = code;
    const std::string dir = (root_ / name).string();
    EXPECT_TRUE(node::InitForTest(dir, p).ok());
    auto n = node::Node::Open(dir, node::TestOptions());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return std::move(n).value();
  }

  // Generates the file and keeps its lines, parsed.
  std::string Generate(const GeneratorOptions& o) {
    const std::string path = (root_ / "in.jsonl").string();
    std::ofstream out(path, std::ios::binary);
    lines_.clear();
    GenerateRecords(o, [&](const std::string& line) {
      out << line << '\n';
      std::optional<Json> j = ParseJson(line, nullptr);
      lines_.push_back(j.value_or(Json()));  // encoding_invalid, malformed_json: null
    });
    return path;
  }
  std::string Expected(size_t i) const {
    const Json* e = lines_[i].is_object() ? lines_[i].Find("expect_error") : nullptr;
    if (e == nullptr) return "?";  // a line broken in its text: checked by class only
    return e->is_string() ? e->as_string() : "";
  }

  // The refused lines of an import, by line number.
  static std::map<uint64_t, std::string> Refusals(node::Node& n, const std::string& path,
                                                  ImportSummary* summary) {
    Registry r(n, Lang::kEnglish);
    std::map<uint64_t, std::string> refused;
    ImportOptions o;
    o.refused = [&](uint64_t line, const Problem& p) {
      refused[line] = std::string(ErrorClassName(p.error_class));
    };
    auto reader = LineReader::Open(path);
    EXPECT_TRUE(reader.ok());
    if (!reader.ok()) return refused;
    auto s = Import(r, **reader, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) *summary = *s;
    return refused;
  }

  // Imports in file order; every line must get exactly its class. Again:
  // nothing added, and each bad line refused for the same reason (what
  // later lines brought, a death or a divorce, does not excuse it).
  void ImportExactly(node::Node& n, const std::string& path) {
    ImportSummary first, second;
    std::map<uint64_t, std::string> refused = Refusals(n, path, &first);
    size_t wrong = 0;
    for (size_t i = 0; i < lines_.size(); ++i) {
      const std::string got = refused.count(i + 1) ? refused[i + 1] : "";
      const std::string want = Expected(i);
      if (want == "?" ? got != "encoding_invalid" && got != "malformed_json" : got != want) {
        if (++wrong <= 5)
          ADD_FAILURE() << "line " << i + 1 << ": got '" << got << "', want '" << want << "'";
      }
    }
    EXPECT_EQ(wrong, 0u);
    std::map<uint64_t, std::string> again = Refusals(n, path, &second);
    auto person_rule = [](const std::string& c) {
      for (ErrorClass k : {ErrorClass::kChildAlreadyRegistered, ErrorClass::kDeathAlreadyRegistered,
                           ErrorClass::kPersonDeceased, ErrorClass::kAlreadyMarried,
                           ErrorClass::kMaritalStatusContradicted})
        if (c == ErrorClassName(k)) return true;
      return false;
    };
    for (const auto& [line, c] : refused) {
      if (person_rule(c)) {
        EXPECT_EQ(again[line], c) << "line " << line << " imported again";
      }
    }
    EXPECT_EQ(again.size(), refused.size());  // an edit's class may change: versions moved on
    EXPECT_EQ(second.accepted, 0u);
    EXPECT_EQ(second.duplicates, first.accepted);
    // The records accepted hold no person conflict among themselves.
    auto conflicts = n.store().PersonConflicts();
    ASSERT_TRUE(conflicts.ok());
    EXPECT_TRUE(conflicts->empty())
        << conflicts->size() << " person conflicts, e.g. " << conflicts->front().personal_id << " "
        << conflicts->front().rule;
  }

  static std::string Text(const Json& line, const std::string& path) {
    const Json* v = JsonAt(line, path);
    return v != nullptr && v->is_string() ? v->as_string() : "";
  }

  fs::path root_;
  std::vector<Json> lines_;
};

// Each person-rule class is built from someone an earlier valid line of the
// same file registered, in a line otherwise valid; the valid lines also
// name people again where the rules allow it.
TEST_F(GeneratedFileTest, PersonRuleLinesNameEarlierPeopleAndImportExactly) {
  GeneratorOptions o;
  o.seed = 5;
  o.communes = {"22333"};
  o.records = 4000;
  o.edits = 600;
  o.bad = 0.2;
  // Only these: a few types fit each, and other classes would crowd them out.
  o.bad_classes = {ErrorClass::kChildAlreadyRegistered, ErrorClass::kDeathAlreadyRegistered,
                   ErrorClass::kPersonDeceased, ErrorClass::kAlreadyMarried,
                   ErrorClass::kMaritalStatusContradicted};
  const std::string path = Generate(o);
  auto n = MakeNode("n", "22333", /*hub=*/false);
  ImportExactly(*n, path);

  // What the valid lines before each line registered.
  std::set<std::string> children, dead, married, widowed, divorced, parents;
  std::map<std::string, int> count;
  for (size_t i = 0; i < lines_.size(); ++i) {
    const Json& l = lines_[i];
    const std::string want = Expected(i);
    if (!l.is_object()) continue;
    const std::string type = Text(l, "type");
    if (want == "child_already_registered") {
      EXPECT_TRUE(children.count(Text(l, "data.child.personal_id"))) << "line " << i + 1;
    } else if (want == "death_already_registered") {
      EXPECT_TRUE(dead.count(Text(l, "data.deceased.personal_id"))) << "line " << i + 1;
    } else if (want == "person_deceased") {
      const std::string a = type == "marriage" ? Text(l, "data.husband.personal_id")
                                               : Text(l, "data.subject.personal_id");
      const std::string b = type == "marriage" ? Text(l, "data.wife.personal_id") : "";
      EXPECT_TRUE(dead.count(a) || dead.count(b)) << "line " << i + 1;
    } else if (want == "already_married") {
      EXPECT_TRUE(married.count(Text(l, "data.husband.personal_id")) ||
                  married.count(Text(l, "data.wife.personal_id")))
          << "line " << i + 1;
    } else if (want == "marital_status_contradicted") {
      EXPECT_TRUE(married.count(Text(l, "data.subject.personal_id"))) << "line " << i + 1;
    }
    if (want.empty() || want == "?") ++count[want == "?" ? "text" : "valid"];
    if (!want.empty()) {
      ++count[want];
      continue;
    }
    // A valid line: what it adds, and the allowed paths it takes.
    if (Text(l, "op") == "edit") {
      for (const auto& c : l.Find("changes")->as_array()) {
        if (Text(c, "path") == "data.dissolved_on") ++count["divorce"];
      }
      continue;
    }
    if (type == "birth") {
      children.insert(Text(l, "data.child.personal_id"));
      if (married.count(Text(l, "data.mother.personal_id"))) ++count["couple as parents"];
    } else if (type == "death") {
      dead.insert(Text(l, "data.deceased.personal_id"));
      if (married.count(Text(l, "data.deceased.personal_id"))) ++count["spouse died"];
    } else if (type == "marriage") {
      for (const char* who : {"data.husband.personal_id", "data.wife.personal_id"}) {
        if (married.count(Text(l, who))) ++count["married again"];
        married.insert(Text(l, who));
      }
    } else if (type == "marital_status_confirmation") {
      const std::string id = Text(l, "data.subject.personal_id");
      if (married.count(id)) ++count["confirmed " + Text(l, "data.marital_status")];
    }
  }
  for (const char* c : {"child_already_registered", "death_already_registered", "person_deceased",
                        "already_married", "marital_status_contradicted", "couple as parents",
                        "spouse died", "married again", "divorce", "confirmed widowed",
                        "confirmed divorced", "confirmed married"}) {
    EXPECT_GT(count[c], 0) << c;
  }
  // The person-rule classes come in about the share of the others: one in
  // every class's worth of bad create lines, spread over the types that fit.
  EXPECT_GT(count["valid"], 3000);
}

// Without bad lines, over several communes and with edits, every line is
// accepted and no two records collide (fresh IDs never repeat; known people
// only as the rules allow).
TEST_F(GeneratedFileTest, ValidLinesNeverCollide) {
  GeneratorOptions o;
  o.seed = 8;
  o.communes = {"22333", "22366", "22390"};
  o.records = 6000;
  o.edits = 1500;
  const std::string path = Generate(o);
  auto n = MakeNode("hub", "56", /*hub=*/true);
  ImportExactly(*n, path);
  for (size_t i = 0; i < lines_.size(); ++i) ASSERT_EQ(Expected(i), "") << "line " << i + 1;
}

TEST_F(GeneratedFileTest, SameOptionsSameBytes) {
  GeneratorOptions o;
  o.seed = 13;
  o.communes = {"22333"};
  o.records = 800;
  o.edits = 100;
  o.bad = 0.2;
  std::string a, b;
  GenerateRecords(o, [&](const std::string& line) { a += line + "\n"; });
  GenerateRecords(o, [&](const std::string& line) { b += line + "\n"; });
  EXPECT_EQ(a, b);
  o.seed = 14;
  std::string c;
  GenerateRecords(o, [&](const std::string& line) { c += line + "\n"; });
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace tuphap::domain
