// What the sync integration tests share: a fixture that makes nodes with the
// real `tuphap` binary (TUPHAP_BINARY) in a temporary directory and serves a
// hub, and a raw CURVE client holding an enrolled node's real keys.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "base/json.h"
#include "node/keys.h"
#include "node/transport.h"
#include "replication/protocol.h"
#include "tests/integration/cli_runner.h"

namespace tuphap::sync_testing {

namespace fs = std::filesystem;
using testing_support::CliResult;
using testing_support::RunTuphap;

inline constexpr const char* kCommunes[] = {"22333", "22366", "22390", "22402", "22411"};

// The passphrase the nodes' key files were made with (the runner's
// environment may set its own).
inline replication::SecretBytes Passphrase() {
  const char* p = std::getenv("TUPHAP_PASSPHRASE");
  const std::string text = p != nullptr ? p : "test-passphrase";
  return replication::SecretBytes(text.data(), text.size());
}

inline Json JsonOf(const CliResult& r) {
  auto j = ParseJson(r.out, nullptr);
  EXPECT_TRUE(j.has_value()) << "not JSON: " << r.out << r.err;
  return j ? *j : Json();
}

class SyncTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("tuphap-sync-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    endpoint_ = node::FreeLoopbackEndpoint();
  }
  void TearDown() override {
    StopHub(SIGKILL);
    for (pid_t p : spawned_) {  // serve processes a failed assertion left running
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
    fs::remove_all(root_);
  }

  std::string Dir(const std::string& name) const { return (root_ / name).string(); }
  CliResult Tp(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", Dir(name)});
    return RunTuphap(args);
  }
  // A commune node; a further node of a commune is `secondary` (the hub
  // certifies one primary per commune).
  void Init(const std::string& name, const std::string& commune, bool secondary = false) {
    std::vector<std::string> args{"init", "--role", "commune", "--commune", commune};
    if (secondary) args.push_back("--secondary");
    ASSERT_EQ(Tp(name, args).exit_code, 0);
  }
  void InitHub() {
    ASSERT_EQ(Tp("hub", {"init", "--role", "hub", "--province", "56"}).exit_code, 0);
  }
  void Enrol(const std::string& name) {
    const std::string req = Dir(name + ".req"), cert = Dir(name + ".enrol");
    ASSERT_EQ(Tp(name, {"enroll", "request", "--out", req}).exit_code, 0);
    ASSERT_EQ(Tp("hub", {"enroll", "sign", req, "--out", cert}).exit_code, 0);
    ASSERT_EQ(Tp(name, {"enroll", "accept", cert}).exit_code, 0);
  }
  // A commune node enrolled with the hub, holding `records` generated ones.
  void EnrolledCommune(const std::string& name, const std::string& commune, int records = 0,
                       int seed = 0) {
    Init(name, commune);
    Enrol(name);
    if (records > 0) Records(name, commune, records, seed);
  }
  void Records(const std::string& name, const std::string& commune, int n, int seed) {
    const std::string file = Dir(name + ".jsonl");
    ASSERT_EQ(RunTuphap({"generate", "--records", std::to_string(n), "--commune", commune, "--seed",
                         std::to_string(seed), "--out", file})
                  .exit_code,
              0);
    auto r = Tp(name, {"import", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // `tuphap serve --listen` for the hub, with `extra` options.
  void StartHub(const std::vector<std::string>& extra = {}) {
    const size_t from = HubLog().size();
    if (!TryStartHub(extra)) FAIL() << "the hub did not start: " << HubLog().substr(from);
  }
  // The same with `--metrics 127.0.0.1:PORT`, PORT a free loopback port; it
  // returns PORT. A port free when drawn may be taken before serve binds it
  // (other tests' connections draw from the same range): then another, a
  // few times.
  int StartHubWithMetrics(std::vector<std::string> extra = {}) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      const std::string ep = node::FreeLoopbackEndpoint();
      const int port = std::stoi(ep.substr(ep.rfind(':') + 1));
      std::vector<std::string> args = extra;
      args.insert(args.end(), {"--metrics", "127.0.0.1:" + std::to_string(port)});
      const size_t from = HubLog().size();
      if (TryStartHub(args)) return port;
      const std::string said = HubLog().substr(from);
      if (said.find("cannot listen on 127.0.0.1:" + std::to_string(port)) == std::string::npos) {
        ADD_FAILURE() << "the hub did not start: " << said;
        return 0;
      }
    }
    ADD_FAILURE() << "the hub found 5 free ports taken";
    return 0;
  }
  // Whether the hub wrote its banner. If not, no hub is left running: one
  // that exited first is reaped, one silent for 5 s killed.
  bool TryStartHub(const std::vector<std::string>& extra) {
    std::vector<std::string> args{TUPHAP_BINARY,        "--data",   Dir("hub"), "serve",
                                  "--exit-with-parent", "--listen", endpoint_};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const size_t from = HubLog().size();
    hub_pid_ = fork();
    if (hub_pid_ < 0) return false;
    if (hub_pid_ == 0) {
      const int fd = open(Dir("hub.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execv(TUPHAP_BINARY, argv.data());
      _exit(127);
    }
    // Ready when it has written its banner (the log may hold earlier runs').
    for (int i = 0; i < 100; ++i) {
      if (HubLog().find("listening on", from) != std::string::npos) return true;
      if (waitpid(hub_pid_, nullptr, WNOHANG) == hub_pid_) {
        hub_pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    StopHub(SIGKILL);
    return false;
  }
  std::string HubLog() const {
    std::ifstream log(Dir("hub.log"));
    return std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  }
  void StopHub(int sig) {
    if (hub_pid_ <= 0) return;
    kill(hub_pid_, sig);
    int status = 0;
    waitpid(hub_pid_, &status, 0);
    hub_pid_ = -1;
  }
  CliResult Sync(const std::string& name) {
    return Tp(name, {"--json", "sync", endpoint_, "--once", "--timeout", "30"});
  }
  std::string Digest(const std::string& name, const std::string& scope) {
    auto r = Tp(name, {"--json", "digest", "--scope", scope});
    Json j = JsonOf(r);
    if (!j.is_array() || j.as_array().empty()) return "";
    return j.as_array()[0].Find("digest")->as_string() + "/" +
           std::to_string(j.as_array()[0].Find("records")->as_int());
  }
  std::string FirstRecordId(const std::string& name) {
    std::ifstream in(Dir(name + ".jsonl"));
    std::string line;
    std::getline(in, line);
    return ParseJson(line, nullptr)->Find("record_id")->as_string();
  }

  fs::path root_;
  std::string endpoint_;
  pid_t hub_pid_ = -1;
  std::vector<pid_t> spawned_;
  pid_t Spawned(pid_t p) {
    spawned_.push_back(p);
    return p;
  }
};

// In a forked child: becomes `tuphap ARGS...` (exits 127 if it cannot).
[[noreturn]] inline void ExecTuphap(const std::vector<std::string>& args) {
  std::vector<std::string> all{TUPHAP_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(TUPHAP_BINARY, argv.data());
  _exit(127);
}

// Starts `tuphap serve` for `name` with `args`; returns its pid. Output goes
// to DIR/name.log.
inline pid_t StartServe(const std::string& data, const std::string& log,
                        const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<std::string> all{"--data", data, "serve", "--exit-with-parent"};
    all.insert(all.end(), args.begin(), args.end());
    ExecTuphap(all);
  }
  return pid;
}

inline bool WaitFor(const std::function<bool()>& done, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// A raw ZeroMQ client holding an enrolled commune's real keys, to send what
// no tuphap would.
class RawPeer {
 public:
  RawPeer(const std::string& data_dir, const std::string& endpoint,
          const replication::PublicKey& server_box)
      : socket_(ctx_, zmq::socket_type::dealer) {
    auto secrets = node::ReadKeyFile(node::KeyFilePath(data_dir), Passphrase());
    EXPECT_TRUE(secrets.ok());
    socket_.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server_box.data(), 32));
    socket_.set(zmq::sockopt::curve_publickey,
                zmq::const_buffer(secrets->box.public_key().data(), 32));
    socket_.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(secrets->box.secret().data(), 32));
    socket_.set(zmq::sockopt::linger, 0);
    sign_ = secrets->sign.public_key();
    socket_.connect(endpoint);
  }
  // Sends one frame; returns the answer, or "" when none comes.
  std::string Ask(const std::string& frame, int wait_ms = 3000) {
    socket_.send(zmq::buffer(frame), zmq::send_flags::none);
    std::vector<zmq::pollitem_t> items{{socket_.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, std::chrono::milliseconds(wait_ms));
    zmq::message_t m;
    if (!(items[0].revents & ZMQ_POLLIN) || !socket_.recv(m)) return "";
    return m.to_string();
  }
  const replication::PublicKey& sign() const { return sign_; }

 private:
  zmq::context_t ctx_;
  zmq::socket_t socket_;
  replication::PublicKey sign_{};
};

inline std::string ErrorCode(const std::string& frame) {
  auto m = replication::Decode(frame);
  if (!m.ok()) return "undecodable";
  auto* e = std::get_if<replication::ErrorMessage>(&*m);
  return e != nullptr ? e->code : "not an error";
}

inline replication::PublicKey HubBoxKey(const std::string& hub_dir) {
  auto s = node::ReadKeyFile(node::KeyFilePath(hub_dir), Passphrase());
  EXPECT_TRUE(s.ok());
  return s->box.public_key();
}

}  // namespace tuphap::sync_testing
