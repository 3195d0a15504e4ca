#include "replication/draft.h"

#include "replication/change_codec.h"

namespace tuphap::replication {

Envelope MakeDraft(const crdt::Change& change, const Hash& prev) {
  return MakeDraftFromBody(change, EncodeChangeBody(change), prev);
}

Envelope MakeDraftFromBody(const crdt::Change& change, std::string_view body, const Hash& prev) {
  EnvelopeHeader h;
  h.version = kDraftVersion;
  h.origin = change.origin;
  h.scope = change.scope;
  h.seq = change.seq;
  h.prev = prev;
  h.hlc = change.hlc;
  return Envelope::Assemble(h, body, "");
}

void ChangeHeaderFromEnvelope(const EnvelopeHeader& header, crdt::Change* change) {
  change->origin = header.origin;
  change->scope = header.scope;
  change->seq = header.seq;
  change->hlc = header.hlc;
}

Status OpenDraft(const Envelope& envelope, const Limits& limits, crdt::Change* change) {
  if (!envelope.is_draft()) return Status::InvalidArgument("not a draft envelope");
  ChangeHeaderFromEnvelope(envelope.header(), change);
  return DecodeChangeBody(envelope.body(), limits, change);
}

}  // namespace tuphap::replication
