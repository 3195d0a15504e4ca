// Opens draft envelopes (the body is in clear). Used where no keys are
// involved: a node's own unsealed changes, tests and benchmarks.
#pragma once

#include "node/store/store.h"
#include "replication/draft.h"

namespace tuphap::store {

class DraftOpener final : public EnvelopeOpener {
 public:
  bool CanRead(std::string_view) const override { return true; }
  Status Open(const replication::Envelope& envelope, crdt::Change* change) const override {
    return replication::OpenDraft(envelope, replication::kDefaultLimits, change);
  }
  bool OpensConcurrently() const override { return true; }
};

}  // namespace tuphap::store
