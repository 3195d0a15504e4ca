// The node's metrics in the Prometheus text format (docs/metrics.md lists
// every one), through prometheus-cpp's core (registry and serialiser): the
// counters the sync sessions and the store bump as they work, kept in
// memory, and a snapshot of what only the store knows (held envelopes,
// refusals, lag of each commune), refreshed by the serve loop now and then.
// A scrape reads memory only: it never waits for the loop or SQLite.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace tuphap::obs {

class Metrics {
 public:
  // The process's metrics (one node per process).
  static Metrics& Get();

  // The exposition text of every metric (text format 0.0.4).
  std::string Text();

  // A sync session began; ended on `side` ("dialer" or "listener") with
  // `outcome` ("caught_up", "incomplete" or "error").
  void SessionOpened();
  void SessionEnded(std::string_view side, std::string_view outcome, uint64_t bytes_in,
                    uint64_t bytes_out);
  // Sessions ended so far (the serve loop refreshes the store's snapshot
  // after one).
  uint64_t sessions_ended() const { return sessions_ended_.load(); }

  // A batch of envelopes from elsewhere went through the store: `applied`
  // of them are new in the log, in `seconds` (checks, log step,
  // materialising and commit). `whole` false: a part of it, committed so
  // the worker could answer other peers (the batch counts at its last).
  void BatchApplied(uint64_t applied, double seconds, bool whole = true);
  // One write transaction's COMMIT took `seconds` (the fsync).
  void Committed(double seconds);

  // What the store says, read by the serve loop.
  struct StoreSnapshot {
    uint64_t held = 0;
    uint64_t equivocations = 0;
    uint64_t quarantined_origins = 0;
    uint64_t store_bytes = 0;
    std::map<std::string, uint64_t> refusals;  // reason -> count since the store was made
    // A serving hub's WAL checkpoints since it opened the store, by kind,
    // and the frames in its WAL after the last commit
    // (store::BackgroundCheckpointer::Counts); empty elsewhere.
    std::map<std::string, uint64_t> checkpoints;
    std::optional<uint64_t> wal_frames;
    struct Commune {
      int64_t last_sync_ms = 0;  // the last session with it that caught up; 0: never
      uint64_t behind = 0;       // envelopes it announced that this node lacks
    };
    std::map<std::string, Commune> communes;  // on a hub: by commune code
  };
  void SetStore(const StoreSnapshot& s);

 private:
  Metrics();
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* sessions_open_;
  prometheus::Family<prometheus::Counter>* sessions_total_;
  prometheus::Family<prometheus::Counter>* sync_bytes_;
  prometheus::Counter* batches_;
  prometheus::Counter* yields_;
  prometheus::Counter* envelopes_;
  prometheus::Histogram* apply_seconds_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Family<prometheus::Counter>* refusals_;
  prometheus::Gauge* held_;
  prometheus::Gauge* equivocations_;
  prometheus::Gauge* quarantined_;
  prometheus::Gauge* store_bytes_;
  prometheus::Family<prometheus::Gauge>* wal_frames_;
  prometheus::Family<prometheus::Counter>* checkpoints_;
  prometheus::Family<prometheus::Gauge>* commune_age_;
  prometheus::Family<prometheus::Gauge>* commune_behind_;
  std::atomic<uint64_t> sessions_ended_{0};
  std::mutex mu_;                                // guards last_sync_ms_
  std::map<std::string, int64_t> last_sync_ms_;  // by commune: ages are computed per scrape
};

}  // namespace tuphap::obs
