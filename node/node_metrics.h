// The store's part of the metrics (obs/metrics.h): read from SQLite by the
// serve loop now and then, never by a scrape.
#pragma once

#include "base/status.h"
#include "node/node.h"

namespace tuphap::node {

// Reads held envelopes, equivocations, quarantined origins, refusals by
// reason, the store's size and, on a hub, each commune's last successful
// session and how many envelopes it announced that this node lacks, into
// obs::Metrics. A few small queries and one per peer.
Status RefreshStoreMetrics(Node& node);

}  // namespace tuphap::node
