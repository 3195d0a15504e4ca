#include "obs/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>

namespace tuphap::obs {

Metrics& Metrics::Get() {
  static Metrics* m = new Metrics();  // never destroyed: threads may scrape at exit
  return *m;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& r = *registry_;
  sessions_open_ = &BuildGauge()
                        .Name("tuphap_sync_sessions_open")
                        .Help("Sync sessions open now (both sides)")
                        .Register(r)
                        .Add({});
  sessions_total_ = &BuildCounter()
                         .Name("tuphap_sync_sessions_total")
                         .Help("Sync sessions ended, by this node's side and how they ended")
                         .Register(r);
  sync_bytes_ = &BuildCounter()
                     .Name("tuphap_sync_bytes_total")
                     .Help("Bytes of sync frames of ended sessions, by direction")
                     .Register(r);
  batches_ = &BuildCounter()
                  .Name("tuphap_batches_applied_total")
                  .Help("Batches of envelopes from elsewhere (a peer, a bundle) applied")
                  .Register(r)
                  .Add({});
  yields_ = &BuildCounter()
                 .Name("tuphap_batch_yields_total")
                 .Help(
                     "Stops: times a peer's batch was committed part-way so the worker could "
                     "answer another peer's HELLO first (one more commit each)")
                 .Register(r)
                 .Add({});
  envelopes_ = &BuildCounter()
                    .Name("tuphap_envelopes_applied_total")
                    .Help("Envelopes from elsewhere that joined the log")
                    .Register(r)
                    .Add({});
  apply_seconds_ =
      &BuildHistogram()
           .Name("tuphap_apply_duration_seconds")
           .Help(
               "Time to check, log, materialise and commit one batch from elsewhere, or one "
               "part of it")
           .Register(r)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  commit_seconds_ =
      &BuildHistogram()
           .Name("tuphap_commit_duration_seconds")
           .Help("Time of one write transaction's COMMIT (the fsync)")
           .Register(r)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                            0.025, 0.05, 0.1, 0.25, 0.5, 1});
  refusals_ = &BuildCounter()
                   .Name("tuphap_refusals_total")
                   .Help("Envelopes refused by this node's store, by reason code")
                   .Register(r);
  held_ = &BuildGauge()
               .Name("tuphap_held_envelopes")
               .Help("Envelopes held ahead of a gap in their feed")
               .Register(r)
               .Add({});
  equivocations_ = &BuildGauge()
                        .Name("tuphap_equivocations")
                        .Help("Equivocations (forked feeds) on record")
                        .Register(r)
                        .Add({});
  quarantined_ = &BuildGauge()
                      .Name("tuphap_quarantined_origins")
                      .Help("Origins quarantined after an equivocation")
                      .Register(r)
                      .Add({});
  store_bytes_ = &BuildGauge()
                      .Name("tuphap_store_size_bytes")
                      .Help("Size of the store's files (database and write-ahead log)")
                      .Register(r)
                      .Add({});
  wal_frames_ = &BuildGauge()
                     .Name("tuphap_wal_frames")
                     .Help(
                         "A serving hub's write-ahead log: frames (pages) in it after the last "
                         "commit")
                     .Register(r);
  checkpoints_ = &BuildCounter()
                      .Name("tuphap_wal_checkpoints_total")
                      .Help(
                          "A serving hub's checkpoints of its write-ahead log: background (the "
                          "thread's, without error), whole (of those, every frame copied), inline "
                          "(a commit's own, at 4 times the threshold), failed (of either)")
                      .Register(r);
  commune_age_ = &BuildGauge()
                      .Name("tuphap_commune_last_sync_age_seconds")
                      .Help("On a hub: seconds since a session with the commune last caught up")
                      .Register(r);
  commune_behind_ = &BuildGauge()
                         .Name("tuphap_commune_envelopes_behind")
                         .Help("On a hub: envelopes the commune announced that the hub lacks")
                         .Register(r);
}

std::string Metrics::Text() {
  {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [commune, ms] : last_sync_ms_)
      commune_age_->Add({{"commune", commune}}).Set(static_cast<double>(now - ms) / 1000.0);
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void Metrics::SessionOpened() { sessions_open_->Increment(); }

void Metrics::SessionEnded(std::string_view side, std::string_view outcome, uint64_t bytes_in,
                           uint64_t bytes_out) {
  sessions_open_->Decrement();
  sessions_total_->Add({{"side", std::string(side)}, {"outcome", std::string(outcome)}})
      .Increment();
  sync_bytes_->Add({{"direction", "in"}}).Increment(static_cast<double>(bytes_in));
  sync_bytes_->Add({{"direction", "out"}}).Increment(static_cast<double>(bytes_out));
  ++sessions_ended_;
}

void Metrics::BatchApplied(uint64_t applied, double seconds, bool whole) {
  (whole ? batches_ : yields_)->Increment();
  envelopes_->Increment(static_cast<double>(applied));
  apply_seconds_->Observe(seconds);
}

void Metrics::Committed(double seconds) { commit_seconds_->Observe(seconds); }

void Metrics::SetStore(const StoreSnapshot& s) {
  held_->Set(static_cast<double>(s.held));
  equivocations_->Set(static_cast<double>(s.equivocations));
  quarantined_->Set(static_cast<double>(s.quarantined_origins));
  store_bytes_->Set(static_cast<double>(s.store_bytes));
  // The store's counts are totals since it was made: the counter follows
  // them (a count never goes down, so neither does the counter).
  for (const auto& [reason, n] : s.refusals) {
    prometheus::Counter& c = refusals_->Add({{"reason", reason}});
    if (static_cast<double>(n) > c.Value()) c.Increment(static_cast<double>(n) - c.Value());
  }
  if (s.wal_frames) wal_frames_->Add({}).Set(static_cast<double>(*s.wal_frames));
  for (const auto& [kind, n] : s.checkpoints) {
    prometheus::Counter& c = checkpoints_->Add({{"kind", kind}});
    if (static_cast<double>(n) > c.Value()) c.Increment(static_cast<double>(n) - c.Value());
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [commune, v] : s.communes) {
    commune_behind_->Add({{"commune", commune}}).Set(static_cast<double>(v.behind));
    if (v.last_sync_ms > 0) last_sync_ms_[commune] = v.last_sync_ms;
  }
}

}  // namespace tuphap::obs
