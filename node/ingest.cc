// Ingest: envelopes from elsewhere (a sync peer, a bundle) through every
// check, the province's public feed first so that the certificates,
// revocations and keys it carries bind the rest of the batch.
#include <chrono>

#include "node/node.h"
#include "obs/log.h"
#include "obs/metrics.h"

namespace tuphap::node {
namespace {

// What an operator should hear of a batch from elsewhere: nothing when all
// went well.
void WarnAbout(const store::ApplyReport& r, int64_t max_clock_ahead_ms) {
  spdlog::logger& log = obs::Log();
  if (!log.should_log(spdlog::level::warn)) return;
  if (r.refused > 0) {
    std::string reasons;
    for (const auto& [reason, n] : r.refusals)
      reasons += (reasons.empty() ? "" : ",") + reason + "=" + std::to_string(n);
    // E_QUARANTINED among them: the sender's origin forked its feed.
    log.warn("refused {} envelope(s): {}", r.refused, reasons);
  }
  if (auto it = r.refusals.find("E_CLOCK_AHEAD"); it != r.refusals.end())
    log.warn(
        "clock trouble: {} envelope(s) stamped more than {} s ahead of this computer's clock "
        "(E_CLOCK_AHEAD): the sender's clock, or this one, is wrong",
        it->second, max_clock_ahead_ms / 1000);
  if (r.equivocations > 0)
    log.warn("equivocation: {} envelope(s) fork a feed already held; their origin is quarantined",
             r.equivocations);
  if (r.held > 0)
    log.warn("held {} envelope(s) ahead of a gap in their feed, until the gap fills", r.held);
  if (r.blocked_feeds > 0)
    log.warn(
        "{} feed(s) stopped at a change this node cannot open yet (its key has not arrived): "
        "they resume when it does",
        r.blocked_feeds);
}

}  // namespace

Result<store::ApplyReport> Node::Ingest(std::vector<store::Store::Incoming>& batch,
                                        const std::function<bool()>& yield) {
  if (!enrolled()) {
    return Status::FailedPrecondition(
               "this node is not enrolled yet: it cannot check who wrote a change (run 'tuphap "
               "enroll request' and 'tuphap enroll accept')")
        .WithReason("E_NOT_ENROLLED");
  }
  TUPHAP_RETURN_IF_ERROR(Unlock());
  // Keys another process wrote since trust was read: `revoke` beside
  // `serve` rotates a commune's key, this serve hands the commune the new
  // epoch from the store, and the commune's next changes come sealed under
  // it. Read them first, and retry the feeds that stopped for want of a
  // key this process now holds (or held from its start: a feed stopped by
  // an earlier process resumes here, not only at the next rotation).
  TUPHAP_RETURN_IF_ERROR(ReloadTrustIfChanged().status());
  TUPHAP_RETURN_IF_ERROR(RetryBlockedFeedsIfKeysGrew());
  // The public feed first: certificates, revocations and key grants in it
  // decide what the rest of the batch may do.
  std::vector<size_t> order_public, order_rest;
  for (size_t i = 0; i < batch.size(); ++i) {
    (replication::IsPublicScope(batch[i].envelope.header().scope) ? order_public : order_rest)
        .push_back(i);
  }
  const auto began = std::chrono::steady_clock::now();
  store::ApplyReport total;
  total.outcomes.resize(batch.size());
  // The rest's entries from `left` on were not applied (a yield).
  size_t left = order_rest.size();
  auto run = [&](const std::vector<size_t>& idx, bool may_yield) -> Status {
    if (idx.empty()) return Status::Ok();
    std::vector<store::Store::Incoming> part;
    part.reserve(idx.size());
    for (size_t i : idx) part.push_back(std::move(batch[i]));
    store::ApplyOptions options;
    options.gate = trust_.get();
    if (may_yield) options.yield = yield;
    auto report = store_->Apply(part, *opener_, options);
    for (size_t k = 0; k < idx.size(); ++k) batch[idx[k]] = std::move(part[k]);
    TUPHAP_RETURN_IF_ERROR(report.status());
    for (size_t k = 0; k < report->taken; ++k) total.outcomes[idx[k]] = report->outcomes[k];
    total.AddCounts(*report);
    if (may_yield) left = report->taken;
    return Status::Ok();
  };
  TUPHAP_RETURN_IF_ERROR(run(order_public, false));
  if (!order_public.empty()) {
    TUPHAP_RETURN_IF_ERROR(LoadTrust());
    TUPHAP_RETURN_IF_ERROR(OpenGrants());
    TUPHAP_RETURN_IF_ERROR(RetryBlockedFeedsIfKeysGrew());
  }
  TUPHAP_RETURN_IF_ERROR(run(order_rest, static_cast<bool>(yield)));
  total.taken = order_public.size() + left;
  if (yield) {
    std::vector<store::Store::Incoming> rest;
    rest.reserve(order_rest.size() - left);
    for (size_t k = left; k < order_rest.size(); ++k)
      rest.push_back(std::move(batch[order_rest[k]]));
    batch = std::move(rest);
    total.outcomes.clear();
  }
  obs::Metrics::Get().BatchApplied(
      total.appended + total.released,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
      /*whole=*/!yield || batch.empty());
  WarnAbout(total, options_.max_clock_ahead_ms);
  return total;
}

Status Node::RetryBlockedFeedsIfKeysGrew() {
  const size_t keys = vault_.keyring().size();
  if (keys_at_retry_ == keys) return Status::Ok();
  TUPHAP_RETURN_IF_ERROR(store_->RetryBlockedFeeds(*opener_));
  keys_at_retry_ = keys;
  return Status::Ok();
}

}  // namespace tuphap::node
