#include "node/store/schema.h"

#include <string>

namespace tuphap::store {
namespace {

// Version 1: the change log, feeds, held changes, equivocation evidence and
// the materialised records with their conflicts.
//
// One row per record (fields and their frontier dots in one msgpack value)
// rather than one per field: measured ~4x faster ingest here (TOOLCHAIN.md);
// conflicts are indexed in their own table.
constexpr const char* kV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;

-- Origins (node public keys) interned as small integers.
CREATE TABLE origins(
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL UNIQUE,
  quarantined INTEGER NOT NULL DEFAULT 0);

-- Per feed: the highest contiguous seq in the log and its hash (the head),
-- and how far the log has been materialised.
CREATE TABLE feeds(
  origin INTEGER NOT NULL REFERENCES origins(id),
  scope TEXT NOT NULL,
  head_seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  applied_seq INTEGER NOT NULL DEFAULT 0,
  blocked TEXT,  -- why materialising stopped (a stored change would not open)
  PRIMARY KEY(origin, scope)) WITHOUT ROWID;
CREATE INDEX feeds_lagging ON feeds(origin, scope) WHERE applied_seq < head_seq AND blocked IS NULL;

-- Every envelope received or made, exactly as received.
CREATE TABLE changes(
  id INTEGER PRIMARY KEY,
  origin INTEGER NOT NULL REFERENCES origins(id),
  scope TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  hlc INTEGER NOT NULL,
  envelope BLOB NOT NULL,
  UNIQUE(origin, scope, seq));

-- Envelopes that arrived ahead of a gap in their feed.
CREATE TABLE held(
  origin INTEGER NOT NULL REFERENCES origins(id),
  scope TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  envelope BLOB NOT NULL,
  PRIMARY KEY(origin, scope, seq)) WITHOUT ROWID;

-- Two different envelopes for one feed position: the portable proof.
CREATE TABLE equivocations(
  id INTEGER PRIMARY KEY,
  origin INTEGER NOT NULL REFERENCES origins(id),
  scope TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  ours BLOB NOT NULL,
  theirs BLOB NOT NULL,
  detected_hlc INTEGER NOT NULL,
  UNIQUE(origin, scope, seq, theirs));

-- A record belongs to the scope whose feed created it: keyed by both.
CREATE TABLE records(
  id INTEGER PRIMARY KEY,
  record_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  type TEXT NOT NULL,
  revoked INTEGER NOT NULL,
  conflicts INTEGER NOT NULL,
  state BLOB NOT NULL,
  state_hash BLOB NOT NULL,
  UNIQUE(record_id, scope));

CREATE TABLE conflicts(
  record INTEGER NOT NULL REFERENCES records(id),
  field TEXT NOT NULL,
  PRIMARY KEY(record, field)) WITHOUT ROWID;

CREATE VIEW open_conflicts AS
  SELECT r.record_id, r.scope, r.type, c.field
  FROM conflicts c JOIN records r ON r.id = c.record;
)sql";

// Version 2: the search index (full-text, over folded names, IDs and the
// register reference) and each record's event date, for search filters and
// statistics. Existing records are indexed on the next open (meta reindex).
constexpr const char* kV2 = R"sql(
ALTER TABLE records ADD COLUMN event_date TEXT;
CREATE VIRTUAL TABLE record_search USING fts5(text, display UNINDEXED, tokenize = 'unicode61 remove_diacritics 0', detail = none, columnsize = 0);
INSERT INTO meta(key, value) VALUES('reindex', '1')
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
)sql";

// Version 3: refused envelopes counted by reason, with the last one's feed
// position (tuphap status).
constexpr const char* kV3 = R"sql(
CREATE TABLE refusals (
  reason      TEXT PRIMARY KEY,
  count       INTEGER NOT NULL,
  last_origin BLOB NOT NULL,
  last_scope  TEXT NOT NULL,
  last_seq    INTEGER NOT NULL,
  last_at_ms  INTEGER NOT NULL  -- wall-clock time it was refused
) WITHOUT ROWID;
)sql";

// Version 4: root-signed trust objects a node holds outside its public
// feed (those of its enrolment file: its certificate, the hub's, its key
// grants), so it can check and read changes before the feed reaches it.
constexpr const char* kV4 = R"sql(
CREATE TABLE trust_objects (
  record_id TEXT PRIMARY KEY,  -- the id the object has as a public-scope record
  kind      TEXT NOT NULL,     -- cert | revocation | grant
  bytes     BLOB NOT NULL
) WITHOUT ROWID;
)sql";

// Version 5: what this node knows of each peer it syncs with: last contact
// and success, totals, and the peer's feed heads as of its last
// acknowledgement (bundle export starts there; status shows what is pending).
constexpr const char* kV5 = R"sql(
CREATE TABLE peers (
  peer            BLOB PRIMARY KEY,  -- the peer's Ed25519 key
  endpoint        TEXT NOT NULL,
  last_contact_ms INTEGER NOT NULL,
  last_success_ms INTEGER NOT NULL,  -- 0: never caught up
  sent            INTEGER NOT NULL,
  received        INTEGER NOT NULL,
  refused         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE peer_heads (
  peer   BLOB NOT NULL,
  origin BLOB NOT NULL,
  scope  TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY(peer, origin, scope)
) WITHOUT ROWID;
)sql";

// Version 6: peer_heads is bounded (Node::kMaxPeerHeads = 4,096 per peer;
// a migration is a fixed text, so the number is written out: keep the two
// equal);
// earlier versions kept every head a peer ever named. A peer's set larger
// than that is dropped here — bookkeeping only, refilled by its next HELLO
// — so that no later HELLO has to read millions of rows to replace it.
constexpr const char* kV6 = R"sql(
DELETE FROM peer_heads WHERE peer IN
  (SELECT peer FROM peer_heads GROUP BY peer HAVING count(*) > 4096);
)sql";

// Version 7: the content judgement of each record (docs/record-format.md,
// "What a receiver checks"): the rule its state breaks, or the least rule a
// change in its history broke, and where; NULL when valid. A partial index
// keeps the attention list cheap and costs nothing for valid records.
// content_rules = 0: the records already here are judged on the next open
// (Store::Rejudge).
constexpr const char* kV7 = R"sql(
ALTER TABLE records ADD COLUMN invalid TEXT;
ALTER TABLE records ADD COLUMN invalid_field TEXT;
ALTER TABLE records ADD COLUMN invalid_history TEXT;  -- "reason<TAB>field" of a change; kept
CREATE INDEX records_invalid ON records(scope, record_id) WHERE invalid IS NOT NULL;
INSERT INTO meta(key, value) VALUES('content_rules', '0')
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
)sql";

// Version 8: the person index (docs/record-format.md, "Person rules"):
// every record's 12-digit personal IDs with the role and field that hold
// them and what the rules need (the role's date, a spouse, a dissolution, a
// confirmed status); the conflicts the rules find among one person's
// records; and each record's duplicate key (folded name, birth date and
// parents' names) for the possible-duplicates list. Derived data: rebuilt
// from the records on the next open (meta reindex) and by `tuphap index
// rebuild`.
constexpr const char* kV8 = R"sql(
CREATE TABLE person_index(
  personal_id TEXT NOT NULL,
  record INTEGER NOT NULL REFERENCES records(id),
  field TEXT NOT NULL,
  role TEXT NOT NULL,
  date TEXT NOT NULL,
  partner TEXT NOT NULL,
  ended TEXT NOT NULL,
  stated TEXT NOT NULL,
  family INTEGER NOT NULL,  -- the family of roles a rule reads it in; 0: none
  PRIMARY KEY(personal_id, record, field)) WITHOUT ROWID;
CREATE INDEX person_index_record ON person_index(record);
CREATE INDEX person_index_partner ON person_index(partner) WHERE partner <> '';
CREATE TABLE person_conflicts(
  personal_id TEXT NOT NULL,
  rule TEXT NOT NULL,
  record INTEGER NOT NULL REFERENCES records(id),  -- the later registration
  other INTEGER NOT NULL REFERENCES records(id),   -- the record it collides with
  PRIMARY KEY(personal_id, rule, record, other)) WITHOUT ROWID;
CREATE INDEX person_conflicts_record ON person_conflicts(record);
CREATE INDEX person_conflicts_other ON person_conflicts(other);
ALTER TABLE records ADD COLUMN duplicate_key TEXT;
CREATE INDEX records_duplicate_key ON records(duplicate_key) WHERE duplicate_key IS NOT NULL;
INSERT INTO meta(key, value) VALUES('reindex', '1')
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
)sql";

// Version 9: the accounts of the people who use the web app (officers,
// heads, hub operators). Local to this node: no change, feed or bundle ever
// carries a row, so a password hash never leaves the office. failures counts
// consecutive wrong passwords; locked_until_ms 0: not locked.
constexpr const char* kV9 = R"sql(
CREATE TABLE officers(
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  changed_ms INTEGER NOT NULL);
)sql";

// Version 10: records by event date (a commune's home page lists today's
// registrations without reading every record).
constexpr const char* kV10 = R"sql(
CREATE INDEX records_event_date ON records(event_date) WHERE event_date IS NOT NULL;
)sql";

// Version 11: what the statistics read of every record, led by type (the
// violation decisions whose fines they add up are found without a scan):
// they count from this index alone instead of decoding every state.
constexpr const char* kV11 = R"sql(
CREATE INDEX records_stats ON records(type, scope, event_date, revoked, invalid);
)sql";

// Version 12: the hub's signed delivery receipts for this node's own feeds
// (the highest seq each hub signed for, with the signed ACK body and its
// signature, so a commune can show a third party what the hub received),
// and the times a hub later announced less than it had signed for (a hub
// restored from an old backup: E_HUB_ROLLBACK).
constexpr const char* kV12 = R"sql(
CREATE TABLE receipts(
  hub BLOB NOT NULL,
  origin BLOB NOT NULL,
  scope TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  received_ms INTEGER NOT NULL,
  body BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY(hub, origin, scope)) WITHOUT ROWID;
CREATE TABLE hub_rollbacks(
  id INTEGER PRIMARY KEY,
  hub BLOB NOT NULL,
  origin BLOB NOT NULL,
  scope TEXT NOT NULL,
  signed_seq INTEGER NOT NULL,
  announced_seq INTEGER NOT NULL,
  seen_ms INTEGER NOT NULL);
)sql";

// Version 13: indexes led by scope (issue 17). A province hub holds 1-3
// million records of 60-170 communes; without them every read of one
// commune (reconcile's tree, its digest, its register numbers, its person
// conflicts) walked the whole table. records_scope costs every insert one
// more index entry (measured: docs/architecture.md, "Indexes"); feeds_scope
// is touched only when a feed is new. scope_counts keeps the records per
// scope, counted by every write that adds one (records are never deleted;
// Store::Reindex recounts), so a status reads one row per commune instead
// of counting a million. records_stats_odd holds the few registrations
// whose event date is not YYYY-MM-DD… (its WHERE is TUPHAP_STATS_ODD in
// store/scoped_queries.h, word for word), so report stats finds them
// without a walk of every index entry.
constexpr const char* kV13 = R"sql(
CREATE INDEX records_scope ON records(scope, record_id);
CREATE INDEX feeds_scope ON feeds(scope);
CREATE TABLE scope_counts(
  scope TEXT PRIMARY KEY,
  records INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO scope_counts(scope, records) SELECT scope, count(*) FROM records GROUP BY scope;
CREATE INDEX records_stats_odd ON records(scope) WHERE type <> '' AND substr(type, 1, 1) <> '_' AND NOT (coalesce(event_date, '') GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*');
)sql";

// Version 14 (after 13): reconcile's Merkle leaves kept as records are
// materialised (docs/reconcile.md), so a reconcile reads them rather than
// hashing every record. recon_leaves: each record's leaf (the first 16
// bytes of its state_hash) at its place, stored with the top bit flipped
// so SQLite's signed order is the places' unsigned order; a tree node is
// one range of it. Derived from the records: filled from them on the next
// open (meta recon_rebuild).
constexpr const char* kV14 = R"sql(
CREATE TABLE recon_leaves(
  scope TEXT NOT NULL,
  place INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  leaf BLOB NOT NULL,
  PRIMARY KEY(scope, place, record_id)) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('recon_rebuild', '1')
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
)sql";

// Version 15 (issue 17): report stats reads totals kept per (scope, type,
// month of the event date) instead of walking records_stats and decoding
// every violation decision in force (2.9 s at a million records). Each
// write of a record moves its part (store/stats_totals.h); records keep the
// fine a violation decision counts for (fine_vnd issued, fine_paid_vnd when
// paid; NULL: no fine) so a change can take the old one out. The fines are
// read from the states, and the totals counted, on the next open (meta
// stats_rebuild: Store::RebuildStatsTotals).
constexpr const char* kV15 = R"sql(
ALTER TABLE records ADD COLUMN fine_vnd INTEGER;
ALTER TABLE records ADD COLUMN fine_paid_vnd INTEGER;
CREATE TABLE stats_totals(
  scope TEXT NOT NULL,
  type TEXT NOT NULL,
  month TEXT NOT NULL,  -- the event date's first 7 bytes (YYYY-MM)
  records INTEGER NOT NULL,
  invalid INTEGER NOT NULL,  -- content judged invalid
  revoked INTEGER NOT NULL,  -- revoked, not invalid
  fines INTEGER NOT NULL,    -- violation decisions in force with a fine
  fines_issued_vnd INTEGER NOT NULL,
  fines_paid_vnd INTEGER NOT NULL,
  fines_outstanding_vnd INTEGER NOT NULL,
  PRIMARY KEY(scope, type, month)) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('stats_rebuild', '1')
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
)sql";

// Version 16 (issue 17): records_stats goes. Since version 15 report stats
// reads stats_totals, and nothing else read this index of five columns that
// every insert of a record wrote (the upgrade to 15 and Store::Reindex find
// the violation decisions by a walk of the table instead).
constexpr const char* kV16 = R"sql(
DROP INDEX IF EXISTS records_stats;
)sql";

constexpr Migration kMigrations[] = {
    {1, kV1}, {2, kV2},   {3, kV3},   {4, kV4},   {5, kV5},   {6, kV6},   {7, kV7},   {8, kV8},
    {9, kV9}, {10, kV10}, {11, kV11}, {12, kV12}, {13, kV13}, {14, kV14}, {15, kV15}, {16, kV16},
};

}  // namespace

std::span<const Migration> StoreMigrations() { return kMigrations; }
int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> SchemaVersion(Database& db) {
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db.Prepare("PRAGMA user_version"));
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("PRAGMA user_version returned nothing");
  return static_cast<int>(q.Int(0));
}

Status Migrate(Database& db, std::span<const Migration> migrations) {
  TUPHAP_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return Status::FailedPrecondition("the store " + db.path() + " has schema version " +
                                      std::to_string(current) + ", newer than this tuphap (" +
                                      std::to_string(latest) + "); upgrade tuphap")
        .WithReason("E_SCHEMA_NEWER");
  }
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    Transaction txn(db);
    TUPHAP_RETURN_IF_ERROR(txn.status());
    TUPHAP_RETURN_IF_ERROR(
        db.Exec(m.sql).Annotate("schema migration to version " + std::to_string(m.version)));
    TUPHAP_RETURN_IF_ERROR(db.Exec("PRAGMA user_version=" + std::to_string(m.version)));
    TUPHAP_RETURN_IF_ERROR(txn.Commit());
    current = m.version;
  }
  return Status::Ok();
}

}  // namespace tuphap::store
