// Running the real `tuphap` binary from a benchmark: wall time, exit
// status and the child's peak memory (wait4).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "tests/bench/bench_util.h"

namespace tuphap::bench {

struct ChildRun {
  int status = -1;
  double seconds = 0;
  long peak_rss_kb = 0;
  double cpu_seconds = 0;  // user + system, all threads
};

// The binary benchmarked: TUPHAP_BINARY, or another build named by
// $TUPHAP_BENCH_BINARY (to compare with an earlier version in one run).
inline const char* Binary() {
  const char* other = std::getenv("TUPHAP_BENCH_BINARY");
  return other != nullptr && *other != '\0' ? other : TUPHAP_BINARY;
}

// Starts Binary() with `args` in the background. Its stdout goes to
// `log` (appended, and stderr too when `with_stderr`; replaced otherwise).
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& log = "/dev/null",
                   bool with_stderr = true) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int out =
        open(log.c_str(), O_WRONLY | O_CREAT | (with_stderr ? O_APPEND : O_TRUNC), 0644);
    dup2(out, STDOUT_FILENO);
    if (with_stderr) dup2(out, STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(Binary()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(Binary(), argv.data());
    _exit(127);
  }
  return pid;
}

// Runs Binary() with `args`, stdout to `out_file` (or /dev/null):
// wall time, status, the child's CPU time and peak memory.
inline ChildRun Run(const std::vector<std::string>& args,
                    const std::string& out_file = "/dev/null") {
  bench::Stopwatch w;
  const pid_t pid = Spawn(args, out_file, false);
  ChildRun r;
  rusage usage{};
  wait4(pid, &r.status, 0, &usage);
  r.seconds = w.Seconds();
  r.peak_rss_kb = usage.ru_maxrss;
  r.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                  static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return r;
}

inline void Check(const ChildRun& r, const char* what) {
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
    std::fprintf(stderr, "%s failed (status %d)\n", what, r.status);
    std::exit(1);
  }
}

inline std::string LastLine(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

// A "key: value" line of /proc/PID/FILE (status: VmHWM in kB; io: wchar in
// bytes), 0 when absent or once the process is gone.
inline long ProcField(pid_t pid, const std::string& file, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return 0;
}

// A field of /proc/PID/status in kB (VmHWM: peak resident set, VmRSS).
inline long ProcStatusKb(pid_t pid, const std::string& key) {
  return ProcField(pid, "status", key);
}

// Waits until `log` contains `what` (a served node's "listening on", a
// dialler's "caught up"); exits the bench after `seconds`.
inline void WaitForLog(const std::string& log, const std::string& what, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    std::ifstream in(log);
    const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.find(what) != std::string::npos) return;
    usleep(50000);
  }
  std::fprintf(stderr, "no \"%s\" in %s after %d s\n", what.c_str(), log.c_str(), seconds);
  std::exit(1);
}

// SIGTERM, then waits for it.
inline void StopChild(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

// A commune node enrolled by its hub with the real commands (request,
// sign, accept), the files in `dir`.
inline void Enrol(const std::string& hub, const std::string& node, const std::string& dir) {
  Check(Run({"--data", node, "enroll", "request", "--out", dir + "/req"}), "enroll request");
  Check(Run({"--data", hub, "enroll", "sign", dir + "/req", "--out", dir + "/enrol"}),
        "enroll sign");
  Check(Run({"--data", node, "enroll", "accept", dir + "/enrol"}), "enroll accept");
}

// Splits a generated province file (JSON Lines) into one file per commune,
// `dir`/c-CODE.jsonl; returns the codes in order.
inline std::vector<std::string> SplitByCommune(const std::string& file, const std::string& dir) {
  std::map<std::string, std::ofstream> split;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const std::string code = ParseJson(line, nullptr)->Find("commune_code")->as_string();
    auto it = split.find(code);
    if (it == split.end())
      it = split.emplace(code, std::ofstream(dir + "/c-" + code + ".jsonl")).first;
    it->second << line << '\n';
  }
  std::vector<std::string> codes;
  for (const auto& [code, out] : split) codes.push_back(code);
  return codes;
}

}  // namespace tuphap::bench
