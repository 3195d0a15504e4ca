// Drafts: a node's own changes recorded before it holds a key for their
// scope (envelope version 0: body in clear, no signature). They never leave
// the node; see envelope.h.
#pragma once

#include "crdt/change.h"
#include "replication/envelope.h"

namespace tuphap::replication {

Envelope MakeDraft(const crdt::Change& change, const Hash& prev);
// The same, with the change's body already encoded (EncodeChangeBody).
Envelope MakeDraftFromBody(const crdt::Change& change, std::string_view body, const Hash& prev);
// Decodes a draft into `change` (header fields from the envelope header).
Status OpenDraft(const Envelope& envelope, const Limits& limits, crdt::Change* change);
// Copies the header fields of `envelope` into `change`.
void ChangeHeaderFromEnvelope(const EnvelopeHeader& header, crdt::Change* change);

}  // namespace tuphap::replication
