#include "web/jobs.h"

#include <exception>

namespace tuphap::web {

Jobs::Jobs(std::unique_ptr<app::Office> office, const Clock& clock)
    : office_(std::move(office)), clock_(clock) {
  thread_ = std::thread([this] { Run(); });
}

Jobs::~Jobs() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

bool Jobs::Start(const std::string& kind, Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    State& s = states_[kind];
    if (s.running || stopping_) return false;
    s.running = true;
    s.started_ms = clock_.WallMillis();
    s.finished_ms = 0;
    queue_.emplace_back(kind, std::move(job));
  }
  cv_.notify_one();
  return true;
}

Jobs::State Jobs::Get(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(kind);
  return it == states_.end() ? State{} : it->second;
}

void Jobs::Run() {
  office_->AdoptThread();
  while (true) {
    std::pair<std::string, Job> next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    Outcome outcome;
    try {
      // What another process changed since the last job counts for this one.
      Status fresh = office_->Refresh();
      outcome = fresh.ok() ? next.second(*office_) : Outcome{false, fresh.message()};
    } catch (const std::exception& e) {
      outcome = Outcome{false, e.what()};
    }
    std::lock_guard<std::mutex> lock(mu_);
    State& s = states_[next.first];
    s.running = false;
    s.finished_ms = clock_.WallMillis();
    s.outcome = std::move(outcome);
  }
}

}  // namespace tuphap::web
