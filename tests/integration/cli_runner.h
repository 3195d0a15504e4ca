// Runs the real `tuphap` binary for integration tests and captures its
// output and exit code.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

namespace tuphap::testing_support {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

// Every tuphap these tests run unlocks its keys from the environment, with
// the smallest Argon2id limits (a test passphrase guards nothing).
inline void UseTestKeysEnvironment() {
  setenv("TUPHAP_PASSPHRASE", "test-passphrase", 0);
  setenv("TUPHAP_KDF", "weak", 0);
}
inline const bool kTestKeysEnvironment = (UseTestKeysEnvironment(), true);

// Runs TUPHAP_BINARY with `args`; `env` is prefixed (e.g. "LANG=vi_VN.UTF-8").
inline CliResult RunTuphap(const std::vector<std::string>& args, const std::string& env = "",
                           const std::string& stdin_file = "") {
  static int counter = 0;
  const std::string err_file =
      "/tmp/tuphap-cli-err-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  std::string cmd = env.empty() ? "" : env + " ";
  cmd += ShellQuote(TUPHAP_BINARY);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  if (!stdin_file.empty()) cmd += " < " + ShellQuote(stdin_file);
  cmd += " 2> " + ShellQuote(err_file);
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = fopen(err_file.c_str(), "r")) {
    while ((n = fread(buf.data(), 1, buf.size(), e)) > 0) r.err.append(buf.data(), n);
    fclose(e);
  }
  std::remove(err_file.c_str());
  return r;
}

}  // namespace tuphap::testing_support
