// Operations (issue 16): the real `tuphap` binary as a packaged service
// runs it. Its version line; the passphrase from a file or a systemd
// credential; `serve` outliving what started it unless asked not to; the
// readiness, watchdog and stopping messages of a Type=notify service over a
// real AF_UNIX datagram socket; and the man page and bash completion
// keeping up with `tuphap --help`.
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "node/store/schema.h"
#include "tests/integration/sync_fixture.h"

namespace tuphap {
namespace {

namespace fs = std::filesystem;
using sync_testing::ExecTuphap;
using sync_testing::JsonOf;
using testing_support::RunTuphap;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  chmod(path.c_str(), mode);
}

// The top-level commands `tuphap --help` lists.
std::vector<std::string> HelpCommands() {
  const auto help = testing_support::RunTuphap({"--help"}, "LC_ALL=C LANG=C");
  std::vector<std::string> commands;
  std::istringstream in(help.out);
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line == "Subcommands:") {
      in_section = true;
      continue;
    }
    std::smatch m;
    if (in_section && std::regex_search(line, m, std::regex("^  ([a-z][a-z-]*) ")))
      commands.push_back(m[1]);
  }
  return commands;
}

// In a forked child: becomes `tuphap ARGS...` with its stdout and stderr
// appended to `log`.
[[noreturn]] void ExecTuphapLogged(const std::string& log, const std::vector<std::string>& args) {
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  dup2(fd, 1);
  dup2(fd, 2);
  ExecTuphap(args);
}

// A serve started by another process, its "parent" (as a shell or a login
// session starts one): the parent forks the serve, reports its pid, and
// exits when the test closes `release`. The test reaps both: it is their
// subreaper (PR_SET_CHILD_SUBREAPER).
struct ServeUnderParent {
  pid_t parent = -1;
  pid_t serve = -1;  // -1 when the parent could not report it
  int release = -1;  // the parent exits when this is closed
};

ServeUnderParent StartServeUnderParent(const std::string& log,
                                       const std::vector<std::string>& args) {
  int to_parent[2], from_parent[2];
  if (pipe2(to_parent, O_CLOEXEC) != 0 || pipe2(from_parent, O_CLOEXEC) != 0) return {};
  const pid_t parent = fork();
  if (parent == 0) {
    const pid_t serve = fork();
    if (serve == 0) ExecTuphapLogged(log, args);
    (void)!write(from_parent[1], &serve, sizeof serve);
    close(to_parent[1]);
    char c;
    (void)!read(to_parent[0], &c, 1);  // until the test says so
    _exit(0);
  }
  close(to_parent[0]);
  close(from_parent[1]);
  ServeUnderParent s;
  s.parent = parent;
  s.release = to_parent[1];
  if (read(from_parent[0], &s.serve, sizeof s.serve) != static_cast<ssize_t>(sizeof s.serve))
    s.serve = -1;
  close(from_parent[0]);
  return s;
}

class OpsCliTest : public sync_testing::SyncTest {
 protected:
  // A hub and an enrolled commune "c", for a serve to sync with.
  void HubAndCommune() {
    InitHub();
    Init("c", "22333");
    Enrol("c");
  }
  // Waits for `text` in the file at `log` (the serve's banner).
  bool LogSays(const std::string& log, const std::string& text) {
    return sync_testing::WaitFor([&] { return ReadAll(log).find(text) != std::string::npos; }, 60);
  }
};

TEST_F(OpsCliTest, version_names_the_program_the_store_schema_and_the_protocol) {
  const auto r = RunTuphap({"--version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The numbers of this build, not copies: CMake's VERSION, the last
  // migration, the protocol versions it speaks (1, and 2's summary HELLO).
  static_assert(replication::kOldestProtocolVersion <= replication::kProtocolVersion &&
                replication::kSummaryVersion <= replication::kNewestProtocolVersion);
  EXPECT_EQ(r.out, std::string("tuphap ") + TUPHAP_PROJECT_VERSION + " (schema " +
                       std::to_string(store::LatestSchemaVersion()) + ", protocol " +
                       std::to_string(replication::kOldestProtocolVersion) + "-" +
                       std::to_string(replication::kNewestProtocolVersion) + ")\n");
}

TEST_F(OpsCliTest, status_json_carries_the_versions) {
  Init("c", "22333");
  const Json j = JsonOf(Tp("c", {"--json", "status"}));
  ASSERT_TRUE(j.is_object());
  ASSERT_NE(j.Find("version"), nullptr);
  EXPECT_EQ(j.Find("version")->as_string(), TUPHAP_PROJECT_VERSION);
  ASSERT_NE(j.Find("schema_version"), nullptr);
  EXPECT_EQ(j.Find("schema_version")->as_int(), store::LatestSchemaVersion());
  ASSERT_NE(j.Find("protocol_version"), nullptr);
  EXPECT_EQ(j.Find("protocol_version")->as_int(),
            static_cast<int64_t>(replication::kNewestProtocolVersion));
  // Every version it answers, the summary HELLO's among them.
  const Json* all = j.Find("protocol_versions");
  ASSERT_NE(all, nullptr);
  ASSERT_TRUE(all->is_array());
  std::vector<int64_t> versions;
  for (const Json& v : all->as_array()) versions.push_back(v.as_int());
  std::vector<int64_t> want;
  for (uint64_t v = replication::kOldestProtocolVersion; v <= replication::kNewestProtocolVersion;
       ++v)
    want.push_back(static_cast<int64_t>(v));
  EXPECT_EQ(versions, want);
  EXPECT_NE(std::find(versions.begin(), versions.end(),
                      static_cast<int64_t>(replication::kSummaryVersion)),
            versions.end());
}

// What people read of a record, a person and a search: the record type's
// and the role's names, field labels, dates as dd/mm/yyyy; JSON and CSV
// keep the codes and ISO dates.
TEST_F(OpsCliTest, people_read_names_labels_and_one_date_form_machines_read_codes) {
  Init("c", "22333");
  Records("c", "22333", 12, 5);
  const std::string vi = "LC_ALL= LANG=vi_VN.UTF-8 TUPHAP_I18N_STRICT=1";
  const std::string en = "LC_ALL= LANG=C.UTF-8";
  // The first generated record is a birth; its child's personal ID.
  std::ifstream gen(Dir("c.jsonl"));
  std::string line;
  std::getline(gen, line);
  const auto first = ParseJson(line, nullptr);
  ASSERT_TRUE(first && first->is_object());
  ASSERT_EQ(first->Find("type")->as_string(), "birth");
  const std::string id = first->Find("record_id")->as_string();
  const std::string pid = first->Find("data")->Find("child")->Find("personal_id")->as_string();
  const std::string registered = first->Find("registered_at")->as_string();  // yyyy-mm-dd
  const std::string day =
      registered.substr(8, 2) + "/" + registered.substr(5, 2) + "/" + registered.substr(0, 4);

  const auto show = RunTuphap({"--data", Dir("c"), "record", "show", id}, vi);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("(Khai sinh)"), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find("(birth)"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("trường"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("giá trị"), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find("field"), std::string::npos) << show.out;
  // The web app's label, then the path.
  EXPECT_NE(show.out.find("Trẻ › "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(" (data.child.personal_id)"), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find("[UNTRANSLATED]"), std::string::npos) << show.out;

  const auto history = RunTuphap({"--data", Dir("c"), "record", "history", id}, vi);
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("(data.child.personal_id)"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("Khai sinh"), std::string::npos) << history.out;
  EXPECT_EQ(history.out.find("birth\n"), std::string::npos) << history.out;

  for (const std::string& env : {vi, en}) {
    const auto person = RunTuphap({"--data", Dir("c"), "person", "show", pid}, env);
    ASSERT_EQ(person.exit_code, 0) << person.err;
    EXPECT_NE(person.out.find(day), std::string::npos) << person.out;
    EXPECT_EQ(person.out.find(registered), std::string::npos) << person.out;
    const auto search = RunTuphap({"--data", Dir("c"), "record", "search", pid}, env);
    ASSERT_EQ(search.exit_code, 0) << search.err;
    EXPECT_NE(search.out.find(day), std::string::npos) << search.out;
    EXPECT_EQ(search.out.find(registered), std::string::npos) << search.out;
  }
  const auto person = RunTuphap({"--data", Dir("c"), "person", "show", pid}, vi);
  EXPECT_NE(person.out.find("Khai sinh"), std::string::npos) << person.out;
  EXPECT_NE(person.out.find("Trẻ"), std::string::npos) << person.out;
  EXPECT_NE(person.out.find("vai trò"), std::string::npos) << person.out;
  for (const char* english : {"record ", "type", "role", "date", "birth", "child"})
    EXPECT_EQ(person.out.find(english), std::string::npos) << english << ": " << person.out;

  // Machines: the codes and ISO dates, in either language.
  const auto json = RunTuphap({"--data", Dir("c"), "--json", "record", "search", pid}, vi);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"type\":\"birth\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"registered_at\":\"" + registered + "\""), std::string::npos)
      << json.out;

  // status: the role by its name.
  const auto status = RunTuphap({"--data", Dir("c"), "status"}, vi);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const size_t role = status.out.find("vai trò ");
  ASSERT_NE(role, std::string::npos) << status.out;
  const std::string role_line = status.out.substr(role, status.out.find('\n', role) - role);
  EXPECT_NE(role_line.find(" xã "), std::string::npos) << role_line;
  EXPECT_EQ(role_line.find("commune"), std::string::npos) << role_line;

  // report stats: the type's name in the table, its code in CSV and JSON.
  const auto table = RunTuphap({"--data", Dir("c"), "report", "stats", "--by", "type"}, vi);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Khai sinh"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("birth"), std::string::npos) << table.out;
  const auto csv =
      RunTuphap({"--data", Dir("c"), "report", "stats", "--by", "type", "--format", "csv"}, vi);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find(",birth,"), std::string::npos) << csv.out;
  const auto sj = RunTuphap({"--data", Dir("c"), "--json", "report", "stats", "--by", "type"}, vi);
  EXPECT_NE(sj.out.find("\"type\":\"birth\""), std::string::npos) << sj.out;
}

// Errors from CLI11's choice lists and from the operating system, in
// Vietnamese: the catalogue's words, not the libraries' English.
TEST_F(OpsCliTest, choice_list_and_operating_system_errors_are_in_vietnamese) {
  const std::string vi = "LC_ALL= LANG=vi_VN.UTF-8 TUPHAP_I18N_STRICT=1";
  const auto level = RunTuphap({"--log-level", "chatty", "status"}, vi);
  EXPECT_EQ(level.exit_code, 2);
  EXPECT_NE(level.err.find("--log-level: 'chatty' không phải một trong các giá trị {trace,"),
            std::string::npos)
      << level.err;
  EXPECT_EQ(level.err.find("not in"), std::string::npos) << level.err;
  Init("c", "22333");
  const auto backup =
      RunTuphap({"--data", Dir("c"), "backup", "--out", Dir("no-such-dir/backup")}, vi);
  EXPECT_NE(backup.exit_code, 0);
  EXPECT_NE(backup.err.find("không có tệp hay thư mục đó"), std::string::npos) << backup.err;
  EXPECT_EQ(backup.err.find("No such file"), std::string::npos) << backup.err;
  const auto restore = RunTuphap({"--data", Dir("r"), "restore", Dir("no-such-backup")}, vi);
  EXPECT_NE(restore.exit_code, 0);
  EXPECT_NE(restore.err.find("không có tệp hay thư mục đó"), std::string::npos) << restore.err;
  EXPECT_EQ(restore.err.find("[UNTRANSLATED]"), std::string::npos) << restore.err;
}

// Every document the operator guide sends people to is in the package
// (cmake/Packaging.cmake installs it beside the guide).
TEST_F(OpsCliTest, the_package_installs_every_document_the_operator_guide_links_to) {
  const std::string guide = ReadAll(TUPHAP_SOURCE_DIR "/docs/operator-guide.md");
  const std::string packaging = ReadAll(TUPHAP_SOURCE_DIR "/cmake/Packaging.cmake");
  ASSERT_FALSE(guide.empty());
  ASSERT_NE(packaging.find("docs/operator-guide.md"), std::string::npos);
  std::set<std::string> linked;
  const std::regex link(R"(\]\(([a-z_-]+\.md)[)#])");
  for (std::sregex_iterator it(guide.begin(), guide.end(), link), end; it != end; ++it)
    linked.insert((*it)[1]);
  EXPECT_TRUE(linked.count("metrics.md")) << "the guide no longer links metrics.md";
  for (const std::string& doc : linked)
    EXPECT_NE(packaging.find("docs/" + doc), std::string::npos) << doc << " is not installed";
}

TEST_F(OpsCliTest, the_passphrase_comes_from_a_private_file_without_its_newline) {
  const std::string file = Dir("passphrase");
  WriteFile(file, "from-the-file\n", 0600);
  const std::string no_env = "env -u TUPHAP_PASSPHRASE";
  auto init = RunTuphap(
      {"--data", Dir("c"), "--passphrase-file", file, "init", "--commune", "22333"}, no_env);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  // The key file was made with the file's text, less its one newline.
  auto by_env = RunTuphap({"--data", Dir("c"), "enroll", "request", "--out", Dir("r1")},
                          "TUPHAP_PASSPHRASE=from-the-file");
  EXPECT_EQ(by_env.exit_code, 0) << by_env.err;
  // The file wins over the environment.
  auto by_file = RunTuphap(
      {"--data", Dir("c"), "--passphrase-file", file, "enroll", "request", "--out", Dir("r2")},
      "TUPHAP_PASSPHRASE=something-else");
  EXPECT_EQ(by_file.exit_code, 0) << by_file.err;
  // A file saved by a Windows editor ends its line with "\r\n": the same.
  const std::string crlf = Dir("passphrase-crlf");
  WriteFile(crlf, "from-the-file\r\n", 0600);
  auto by_crlf = RunTuphap(
      {"--data", Dir("c"), "--passphrase-file", crlf, "enroll", "request", "--out", Dir("r5")},
      no_env);
  EXPECT_EQ(by_crlf.exit_code, 0) << by_crlf.err;
  // A lone CR is the operator's own character, not a line end.
  WriteFile(crlf, "from-the-file\r", 0600);
  auto by_cr = RunTuphap(
      {"--data", Dir("c"), "--passphrase-file", crlf, "enroll", "request", "--out", Dir("r6")},
      no_env);
  EXPECT_NE(by_cr.exit_code, 0) << by_cr.out;

  // A file others may read is refused, saying how to fix it.
  chmod(file.c_str(), 0644);
  auto open_file = RunTuphap(
      {"--data", Dir("c"), "--passphrase-file", file, "enroll", "request", "--out", Dir("r3")},
      no_env);
  EXPECT_EQ(open_file.exit_code, 4);
  EXPECT_NE(open_file.err.find("[E_PASSPHRASE_FILE_MODE]"), std::string::npos) << open_file.err;
  EXPECT_NE(open_file.err.find("chmod 600"), std::string::npos) << open_file.err;
  EXPECT_FALSE(fs::exists(Dir("r3")));
  // A file that is not there: not found (3), naming the file.
  auto missing = RunTuphap({"--data", Dir("c"), "--passphrase-file", Dir("no-such-file"), "enroll",
                            "request", "--out", Dir("r4")},
                           no_env);
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find(Dir("no-such-file")), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(Dir("r4")));
}

TEST_F(OpsCliTest, a_service_reads_the_passphrase_from_its_credentials_directory) {
  Init("c", "22333");
  const std::string creds = Dir("credentials");
  fs::create_directories(creds);
  // The passphrase the nodes were made with (cli_runner.h's environment).
  WriteFile(creds + "/passphrase", std::string(std::getenv("TUPHAP_PASSPHRASE")) + "\n", 0400);
  auto r = RunTuphap({"--data", Dir("c"), "enroll", "request", "--out", Dir("req")},
                     "env -u TUPHAP_PASSPHRASE CREDENTIALS_DIRECTORY=" + creds);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Without it (and no terminal, no variable) the keys stay locked.
  auto locked = RunTuphap({"--data", Dir("c"), "enroll", "request", "--out", Dir("req2")},
                          "env -u TUPHAP_PASSPHRASE setsid");
  EXPECT_EQ(locked.exit_code, 4) << locked.err;
  EXPECT_NE(locked.err.find("[E_LOCKED]"), std::string::npos) << locked.err;
  EXPECT_NE(locked.err.find("--passphrase-file"), std::string::npos) << locked.err;
  EXPECT_FALSE(fs::exists(Dir("req2")));
}

TEST_F(OpsCliTest, serve_keeps_running_when_the_process_that_started_it_exits) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  HubAndCommune();
  const std::string log = Dir("hub.log");
  const ServeUnderParent p =
      StartServeUnderParent(log, {"--data", Dir("hub"), "serve", "--listen", endpoint_});
  ASSERT_GT(p.serve, 0);
  const pid_t serve = p.serve;
  Spawned(serve);
  close(p.release);
  ASSERT_EQ(waitpid(p.parent, nullptr, 0), p.parent);  // the parent is gone
  ASSERT_TRUE(LogSays(log, "listening on")) << ReadAll(log);
  // The orphaned serve still serves: a whole sync goes through it.
  auto r = Sync("c");
  EXPECT_EQ(r.exit_code, 0) << r.err << ReadAll(log);
  int status = 0;
  EXPECT_EQ(waitpid(serve, &status, WNOHANG), 0) << "serve stopped: " << ReadAll(log);
}

TEST_F(OpsCliTest, serve_with_exit_with_parent_stops_cleanly_when_its_parent_exits) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  HubAndCommune();
  const std::string log = Dir("hub.log");
  const ServeUnderParent p = StartServeUnderParent(
      log, {"--data", Dir("hub"), "serve", "--listen", endpoint_, "--exit-with-parent"});
  ASSERT_GT(p.serve, 0);
  const pid_t serve = p.serve;
  Spawned(serve);
  ASSERT_TRUE(LogSays(log, "listening on")) << ReadAll(log);
  close(p.release);  // the parent exits now
  ASSERT_EQ(waitpid(p.parent, nullptr, 0), p.parent);
  int status = 0;
  ASSERT_EQ(waitpid(serve, &status, 0), serve);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << ReadAll(log);
  EXPECT_NE(ReadAll(log).find("stopped"), std::string::npos) << ReadAll(log);
}

// What systemd's manager would read from NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{60, 0};  // a guard against a hang, not a measurement
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // The next message holding `want`; "" on timeout. `seen` gathers all.
  std::string Next(const std::string& want, std::vector<std::string>* seen) {
    char buf[4096];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0) return "";
      std::string m(buf, static_cast<size_t>(n));
      seen->push_back(m);
      if (m.find(want) != std::string::npos) return m;
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST_F(OpsCliTest, serve_tells_systemd_it_is_ready_alive_and_stopping) {
  HubAndCommune();
  NotifySocket notify(Dir("notify"));
  ASSERT_TRUE(notify.bound());
  const std::string log = Dir("hub.log");
  const pid_t serve = fork();
  if (serve == 0) {
    setenv("NOTIFY_SOCKET", Dir("notify").c_str(), 1);
    setenv("WATCHDOG_USEC", "400000", 1);  // WatchdogSec=0.4: a keep-alive every 0.2 s
    ExecTuphapLogged(log,
                     {"--data", Dir("hub"), "serve", "--listen", endpoint_, "--exit-with-parent"});
  }
  Spawned(serve);
  std::vector<std::string> seen;
  EXPECT_NE(notify.Next("READY=1", &seen), "") << ReadAll(log);
  // Ready means the listener is bound: a sync goes through at once.
  auto r = Sync("c");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(notify.Next("WATCHDOG=1", &seen), "") << ReadAll(log);
  EXPECT_NE(notify.Next("WATCHDOG=1", &seen), "") << "only one keep-alive";
  ASSERT_EQ(kill(serve, SIGTERM), 0);
  EXPECT_NE(notify.Next("STOPPING=1", &seen), "") << ReadAll(log);
  int status = 0;
  ASSERT_EQ(waitpid(serve, &status, 0), serve);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(log);
  // READY came before any keep-alive.
  ASSERT_FALSE(seen.empty());
  EXPECT_NE(seen.front().find("READY=1"), std::string::npos) << seen.front();
}

TEST_F(OpsCliTest, the_man_page_names_every_command_and_global_option) {
  const std::string man = ReadAll(std::string(TUPHAP_SOURCE_DIR) + "/docs/man/tuphap.1");
  ASSERT_FALSE(man.empty());
  // troff writes a command's hyphen as "\-"; a person reads "-".
  std::string plain;
  for (size_t i = 0; i < man.size(); ++i) {
    if (man[i] == '\\' && i + 1 < man.size() && man[i + 1] == '-') continue;
    plain += man[i];
  }
  const std::vector<std::string> commands = HelpCommands();
  ASSERT_GT(commands.size(), 10u);
  for (const std::string& c : commands)
    EXPECT_NE(plain.find("\n.B " + c), std::string::npos) << "tuphap.1 lacks the command " << c;
  const auto help = RunTuphap({"--help"}, "LC_ALL=C LANG=C");
  std::smatch m;
  std::string rest = help.out.substr(0, help.out.find("Subcommands:"));
  std::set<std::string> options;
  while (std::regex_search(rest, m, std::regex("(--[a-z][a-z-]*)"))) {
    options.insert(m[1]);
    rest = m.suffix();
  }
  ASSERT_GT(options.size(), 5u);
  for (const std::string& o : options) {
    std::string troff;  // groff wants \- for a dash
    for (char ch : o) troff += ch == '-' ? std::string("\\-") : std::string(1, ch);
    EXPECT_NE(man.find(troff), std::string::npos) << "tuphap.1 lacks the option " << o;
  }
}

TEST_F(OpsCliTest, bash_completion_completes_every_command_and_their_options) {
  const std::string script = std::string(TUPHAP_SOURCE_DIR) + "/packaging/tuphap.bash-completion";
  // COMP_WORDS as bash fills them for "tuphap WORDS...<TAB>".
  auto complete = [&](const std::string& words) {
    const std::string cmd =
        "bash -c " +
        testing_support::ShellQuote("source " + script + "; COMP_WORDS=(" +
                                    testing_support::ShellQuote(TUPHAP_BINARY) + " " + words +
                                    "); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); "
                                    "_tuphap; printf '%s\\n' \"${COMPREPLY[@]}\"");
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return "\n" + out;
  };
  const std::string all = complete("''");
  for (const std::string& c : HelpCommands())
    EXPECT_NE(all.find("\n" + c + "\n"), std::string::npos) << "no completion to " << c << all;
  EXPECT_NE(complete("enroll ''").find("\nrequest\n"), std::string::npos);
  const std::string serve = complete("serve --");
  EXPECT_NE(serve.find("\n--exit-with-parent\n"), std::string::npos) << serve;
  EXPECT_NE(serve.find("\n--passphrase-file\n"), std::string::npos) << serve;
}

}  // namespace
}  // namespace tuphap
