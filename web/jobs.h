// Long work the web app must not do on its one request thread (a sync with
// the hub waits up to its timeout when the hub cannot be reached): a worker
// thread with an Office of its own (its own SQLite connection, its own
// keys, opened and unlocked at start) runs one job of each kind at a time.
// A page starts a job and answers at once; the next page shows its state.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.h"
#include "node/app/office.h"

namespace tuphap::web {

class Jobs {
 public:
  // The result a job leaves: whether it went well, and what to show
  // (already HTML-escaped by the job).
  struct Outcome {
    bool ok = false;
    std::string html;
  };
  using Job = std::function<Outcome(app::Office&)>;
  struct State {
    bool running = false;
    int64_t started_ms = 0;   // 0: never started
    int64_t finished_ms = 0;  // 0: not finished yet
    Outcome outcome;
  };

  Jobs(std::unique_ptr<app::Office> office, const Clock& clock);
  ~Jobs();  // waits for the running job to end
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  // Queues `job` as `kind`; false when one of that kind is queued or
  // running (a second click waits for the first).
  bool Start(const std::string& kind, Job job);
  State Get(const std::string& kind) const;

 private:
  void Run();

  std::unique_ptr<app::Office> office_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, Job>> queue_;
  std::map<std::string, State> states_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tuphap::web
