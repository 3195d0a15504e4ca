#include "node/store/store.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <set>

#include "node/store/record_codec.h"
#include "node/store/schema.h"
#include "node/store/scoped_queries.h"
#include "node/store/stats_totals.h"
#include "obs/log.h"

namespace tuphap::store {
namespace {

replication::Hash HashFromBlob(std::string_view blob) {
  replication::Hash h{};
  if (blob.size() == h.size()) std::copy(blob.begin(), blob.end(), h.begin());
  return h;
}

constexpr const char* kHlcMetaKey = "hlc";

ContentFlag FlagOf(const Stmt& q, int reason_column, int field_column) {
  if (q.IsNull(reason_column)) return {};
  return ContentFlag{std::string(q.Text(reason_column)), std::string(q.Text(field_column))};
}

Status ReplicaFromBlob(std::string_view blob, crdt::ReplicaId* id) {
  if (blob.size() != id->bytes.size())
    return Status::Corruption("origin key of wrong size in store");
  std::copy(blob.begin(), blob.end(), id->bytes.begin());
  return Status::Ok();
}

}  // namespace

Store::Store(std::unique_ptr<Database> db, StoreOptions options)
    : db_(std::move(db)), options_(std::move(options)) {
  if (!options_.adjudicated)
    options_.adjudicated = [](std::string_view, std::string_view) { return true; };
  if (options_.clock == nullptr) options_.clock = &SystemClock();
}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, Database::OpenMode mode,
                                           StoreOptions options) {
  replication::EnsureSodium();
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path, mode));
  TUPHAP_RETURN_IF_ERROR(Migrate(*db, StoreMigrations()));
  std::unique_ptr<Store> store(new Store(std::move(db), std::move(options)));
  {
    // Reconcile's tree, first filled from the records (schema 14).
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> pending, store->GetMeta("recon_rebuild"));
    if (pending && *pending == "1") TUPHAP_RETURN_IF_ERROR(store->RebuildReconTree());
  }
  if (store->options_.index) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> pending, store->GetMeta("reindex"));
    if (pending && *pending == "1") TUPHAP_RETURN_IF_ERROR(store->Reindex());
  }
  {
    // The stats totals, first counted from the records (schema 15); a
    // Reindex above did it already.
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> pending, store->GetMeta("stats_rebuild"));
    if (pending && *pending == "1") TUPHAP_RETURN_IF_ERROR(store->RebuildStatsTotals());
  }
  if (store->options_.rejudge_on_open) TUPHAP_RETURN_IF_ERROR(store->RejudgeIfStale());
  return store;
}

Status Store::RejudgeIfStale() {
  if (!options_.checker) return Status::Ok();
  // Records judged with other rules (or never: a store from before
  // version 7) are judged again once, so every replica running these rules
  // holds the same verdicts.
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> rules, GetMeta(kContentRulesMetaKey));
  if (!rules || *rules != std::to_string(options_.checker->version())) return Rejudge();
  return Status::Ok();
}

Status Store::WriteSearchEntry(int64_t rowid, bool replace, const IndexEntry& entry) {
  if (replace) {
    TUPHAP_ASSIGN_OR_RETURN(Stmt del, db_->Prepare("DELETE FROM record_search WHERE rowid = ?"));
    TUPHAP_RETURN_IF_ERROR(del.Bind(1, rowid).Run());
  }
  if (entry.search_text.empty()) return Status::Ok();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt ins, db_->Prepare("INSERT INTO record_search(rowid, text, display) VALUES(?, ?, ?)"));
  return ins.Bind(1, rowid).Bind(2, entry.search_text).Bind(3, entry.display).Run();
}

Status Store::Reindex() {
  AssertOwnerThread();
  Transaction txn(*db_);
  TUPHAP_RETURN_IF_ERROR(txn.status());
  TUPHAP_RETURN_IF_ERROR(ReindexIn());
  return txn.Commit();
}

Status Store::ReindexIn() {
  // The records per scope, counted again (kept by every write otherwise).
  TUPHAP_RETURN_IF_ERROR(
      db_->Exec("DELETE FROM scope_counts; INSERT INTO scope_counts(scope, records) SELECT scope, "
                "count(*) FROM records INDEXED BY records_scope GROUP BY scope;"));
  if (!options_.index) return RecountStatsTotals();
  TUPHAP_RETURN_IF_ERROR(db_->Exec(
      "DELETE FROM record_search; DELETE FROM person_index; DELETE FROM person_conflicts;"));
  OriginMap origins{[this](const crdt::ReplicaId& k) { return origin_ids_.at(k); },
                    [this](int64_t id) { return OriginKey(id); }};
  // In slices of rowids, so memory stays flat however many records there are.
  constexpr int64_t kSlice = 2048;
  int64_t after = 0;
  while (true) {
    std::vector<std::pair<int64_t, IndexEntry>> entries;
    {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q, db_->Prepare("SELECT id, record_id, state FROM records WHERE id > ? ORDER BY id "
                               "LIMIT ?"));
      q.Bind(1, after).Bind(2, kSlice);
      while (true) {
        TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        crdt::RecordState state;
        std::vector<ChangeRef> history;
        TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(q.Blob(2), origins, &state, &history));
        entries.emplace_back(q.Int(0), options_.index(q.Text(1), state));
      }
    }
    if (entries.empty()) break;
    after = entries.back().first;
    for (const auto& [rowid, entry] : entries) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt u,
          db_->Prepare("UPDATE records SET event_date = ?, duplicate_key = ?, fine_vnd = ?, "
                       "fine_paid_vnd = ? WHERE id = ?"));
      u.Bind(1, entry.event_date);
      BindFine(u, 3, entry.fine);
      if (entry.duplicate_key.empty()) {
        u.BindNull(2);
      } else {
        u.Bind(2, entry.duplicate_key);
      }
      TUPHAP_RETURN_IF_ERROR(u.Bind(5, rowid).Run());
      TUPHAP_RETURN_IF_ERROR(WriteSearchEntry(rowid, false, entry));
      PersonsTouched touched;  // all judged below
      TUPHAP_RETURN_IF_ERROR(WritePersons(rowid, false, entry.persons, &touched));
    }
  }
  // Every rule is about two entries of one ID: IDs named once have no
  // conflict. Judged in slices of IDs, once every entry is written.
  std::string last;
  while (options_.person_rules) {
    std::set<std::string> ids;
    {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q,
          db_->Prepare("SELECT personal_id FROM person_index WHERE personal_id > ? AND family > 0 "
                       "GROUP BY personal_id HAVING count(*) > 1 ORDER BY personal_id "
                       "LIMIT ?"));
      q.Bind(1, last).Bind(2, kSlice);
      while (true) {
        TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        ids.emplace(q.Text(0));
      }
    }
    if (ids.empty()) break;
    last = *ids.rbegin();
    TUPHAP_RETURN_IF_ERROR(JudgePersons(PersonsTouched{std::move(ids), {}}));
  }
  // Event dates and fines rewritten above: the totals counted from them.
  TUPHAP_RETURN_IF_ERROR(RecountStatsTotals());
  TUPHAP_RETURN_IF_ERROR(SetMeta("stats_rebuild", "0"));
  return SetMeta("reindex", "0");
}

void Store::AssertOwnerThread() const {
  assert(owner_ == std::this_thread::get_id() &&
         "a Store is used from the thread that opened it only (store.h)");
}

void Store::ForgetCaches() {
  origin_ids_.clear();
  origin_keys_.clear();
}

Result<int64_t> Store::OriginId(const crdt::ReplicaId& key) {
  auto it = origin_ids_.find(key);
  if (it != origin_ids_.end()) return it->second;
  const std::string_view kb(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size());
  {
    TUPHAP_ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT OR IGNORE INTO origins(key) VALUES(?)"));
    TUPHAP_RETURN_IF_ERROR(ins.BindBlob(1, kb).Run());
  }
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id FROM origins WHERE key = ?"));
  q.BindBlob(1, kb);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("origin vanished after insert");
  const int64_t id = q.Int(0);
  origin_ids_[key] = id;
  origin_keys_[id] = key;
  return id;
}

const crdt::ReplicaId* Store::OriginKey(int64_t id) {
  auto it = origin_keys_.find(id);
  if (it != origin_keys_.end()) return &it->second;
  auto q = db_->Prepare("SELECT key FROM origins WHERE id = ?");
  if (!q.ok()) return nullptr;
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok() || !*row) return nullptr;
  crdt::ReplicaId key;
  if (!ReplicaFromBlob(q->Blob(0), &key).ok()) return nullptr;
  origin_ids_[key] = id;
  return &(origin_keys_[id] = key);
}

Result<std::optional<int64_t>> Store::FindOriginId(const crdt::ReplicaId& key) {
  auto it = origin_ids_.find(key);
  if (it != origin_ids_.end()) return std::optional<int64_t>(it->second);
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id FROM origins WHERE key = ?"));
  q.BindBlob(1, {reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()});
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<int64_t>();
  // Kept, as OriginKey keeps what it reads: origins are never deleted, and
  // a rolled-back session forgets the cache (ForgetCaches).
  const int64_t id = q.Int(0);
  origin_ids_[key] = id;
  return std::optional<int64_t>(id);
}

Result<std::optional<FeedHead>> Store::LoadHead(const FeedKey& feed) {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindOriginId(feed.origin));
  if (!id) return std::optional<FeedHead>();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare(
          "SELECT head_seq, head_hash, applied_seq FROM feeds WHERE origin = ? AND scope = ?"));
  q.Bind(1, *id).Bind(2, feed.scope);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<FeedHead>();
  FeedHead h{feed, static_cast<uint64_t>(q.Int(0)), HashFromBlob(q.Blob(1)),
             static_cast<uint64_t>(q.Int(2))};
  return std::optional<FeedHead>(h);
}

Result<std::optional<FeedHead>> Store::Head(const FeedKey& feed) {
  AssertOwnerThread();
  return LoadHead(feed);
}

Result<std::vector<FeedHead>> Store::Heads() {
  AssertOwnerThread();
  std::vector<FeedHead> out;
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("SELECT o.key, f.scope, f.head_seq, f.head_hash, f.applied_seq FROM feeds f "
                   "JOIN origins o ON o.id = f.origin ORDER BY o.key, f.scope"));
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    FeedHead h;
    TUPHAP_RETURN_IF_ERROR(ReplicaFromBlob(q.Blob(0), &h.feed.origin));
    h.feed.scope = std::string(q.Text(1));
    h.seq = static_cast<uint64_t>(q.Int(2));
    h.hash = HashFromBlob(q.Blob(3));
    h.applied_seq = static_cast<uint64_t>(q.Int(4));
    out.push_back(std::move(h));
  }
  return out;
}

Result<Store::Stamp> Store::HeadsStamp() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("PRAGMA data_version"));
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("PRAGMA data_version returned nothing");
  return Stamp{q.Int(0), commits_};
}

Result<std::optional<RecordView>> Store::GetRecord(std::string_view record_id,
                                                   std::string_view scope) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT scope, state, state_hash, invalid, "
                                               "invalid_field FROM records WHERE "
                                               "record_id = ?1 AND (?2 = '' OR scope = ?2) "
                                               "ORDER BY scope"));
  q.Bind(1, record_id).Bind(2, scope);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<RecordView>();
  RecordView v;
  v.record_id = std::string(record_id);
  v.scope = std::string(q.Text(0));
  v.state_hash = HashFromBlob(q.Blob(2));
  v.invalid = FlagOf(q, 3, 4);
  const std::string blob(q.Blob(1));
  TUPHAP_ASSIGN_OR_RETURN(bool another, q.Step());
  if (another) {
    return Status::FailedPrecondition("record " + std::string(record_id) + " exists in communes " +
                                      v.scope + " and " + std::string(q.Text(0)) +
                                      ": name the commune (--scope)")
        .WithReason("E_AMBIGUOUS_ID");
  }
  OriginMap origins{[this](const crdt::ReplicaId& k) { return origin_ids_.at(k); },
                    [this](int64_t id) { return OriginKey(id); }};
  TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(blob, origins, &v.state, &v.history));
  return std::optional<RecordView>(std::move(v));
}

Result<std::optional<std::string>> Store::MaxRecordId(std::string_view scope, std::string_view lo,
                                                      std::string_view hi) {
  AssertOwnerThread();
  // Down the (scope, record_id) index from `hi`, past records judged
  // invalid: a forged entry 999999 must not fill a register.
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kMaxRecordId.sql));
  q.Bind(1, lo).Bind(2, hi).Bind(3, scope);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(q.Text(0)));
}

Result<bool> Store::HasRecord(std::string_view scope, std::string_view record_id) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                          db_->Prepare("SELECT 1 FROM records WHERE record_id = ? AND scope = ?"));
  q.Bind(1, record_id).Bind(2, scope);
  return q.Step();
}

Result<int64_t> Store::FirstFreeNumber(std::string_view scope, std::string_view prefix,
                                       int64_t from, int64_t to) {
  AssertOwnerThread();
  if (from > to) return from;
  auto id_of = [&](int64_t n) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%06lld", static_cast<long long>(n));
    return std::string(prefix) + digits;
  };
  // Ids of the shape PREFIX + six digits sort as their numbers, so the ids
  // taken from `from` on come in order; the first number missing is free.
  // Other ids in the range ("…0000011") are passed over.
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kIdsInRange.sql));
  q.Bind(1, id_of(from)).Bind(2, id_of(to)).Bind(3, scope);
  int64_t next = from;
  while (next <= to) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const std::string_view id = q.Text(0);
    if (id.size() != prefix.size() + 6) continue;
    int64_t n = 0;
    bool digits = true;
    for (char c : id.substr(prefix.size())) {
      digits = digits && c >= '0' && c <= '9';
      n = n * 10 + (c - '0');
    }
    if (!digits || n < next) continue;
    if (n > next) break;
    ++next;
  }
  return next;
}

Result<std::vector<RecordView>> Store::RecordsWithPrefix(std::string_view scope,
                                                         std::string_view prefix) {
  AssertOwnerThread();
  std::vector<std::string> ids;
  {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kIdsWithPrefix.sql));
    q.Bind(1, prefix).Bind(2, scope);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ids.emplace_back(q.Text(0));
    }
  }
  std::vector<RecordView> out;
  for (const auto& id : ids) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<RecordView> r, GetRecord(id, scope));
    if (r) out.push_back(std::move(*r));
  }
  return out;
}

Result<Store::DayRecords> Store::RecordsOfDay(std::string_view date, size_t limit) {
  AssertOwnerThread();
  DayRecords out;
  std::vector<std::pair<std::string, std::string>> shown;
  {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("SELECT record_id, scope, revoked = 0 AND coalesce(invalid, '') = '' "
                             "FROM records WHERE event_date = ?1 AND type NOT LIKE '\\_%' "
                             "ESCAPE '\\' ORDER BY record_id DESC"));
    q.Bind(1, date);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      if (q.Int(2) != 0) ++out.in_force;
      if (shown.size() < limit) shown.emplace_back(q.Text(0), q.Text(1));
    }
  }
  for (const auto& [id, scope] : shown) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<RecordView> r, GetRecord(id, scope));
    if (r) out.records.push_back(std::move(*r));
  }
  return out;
}

Result<std::optional<replication::Envelope>> Store::GetEnvelope(const FeedKey& feed, uint64_t seq) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindOriginId(feed.origin));
  if (!id) return std::optional<replication::Envelope>();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("SELECT envelope FROM changes WHERE origin = ? AND scope = ? AND seq = ?"));
  q.Bind(1, *id).Bind(2, feed.scope).Bind(3, static_cast<int64_t>(seq));
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<replication::Envelope>();
  auto env = replication::Envelope::Parse(std::string(q.Blob(0)));
  if (!env.ok())
    return Status::Corruption("a stored envelope cannot be read: " + env.status().message());
  return std::optional<replication::Envelope>(std::move(env).value());
}

Result<Store::EnvelopeRun> Store::ReadEnvelopeRun(const FeedKey& feed, uint64_t from,
                                                  size_t max_count, size_t max_bytes,
                                                  bool first_always) {
  AssertOwnerThread();
  EnvelopeRun run;
  TUPHAP_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindOriginId(feed.origin));
  if (!id) {
    run.end = true;
    return run;
  }
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT seq, envelope FROM changes WHERE origin = ? AND scope = ? AND "
                           "seq >= ? ORDER BY seq LIMIT ?"));
  // One more row than asked: whether the feed ends right after the run.
  q.Bind(1, *id)
      .Bind(2, feed.scope)
      .Bind(3, static_cast<int64_t>(from))
      .Bind(4, static_cast<int64_t>(std::min<size_t>(max_count, INT32_MAX)) + 1);
  size_t bytes = 0;
  uint64_t expected = from;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || static_cast<uint64_t>(q.Int(0)) != expected) {
      run.end = true;  // the head (the log below it has no gaps)
      break;
    }
    if (run.envelopes.size() == max_count) break;
    const std::string_view env = q.Blob(1);
    TUPHAP_ASSIGN_OR_RETURN(bool draft, replication::Envelope::IsDraft(env));
    if (draft) {
      run.end = true;
      break;
    }
    if ((!run.envelopes.empty() || !first_always) && bytes + env.size() > max_bytes) break;
    bytes += env.size();
    run.envelopes.emplace_back(env);
    ++expected;
  }
  return run;
}

Result<std::vector<ScopeDigest>> Store::Digests(std::optional<std::string_view> scope) {
  AssertOwnerThread();
  // Down the (scope, record_id) index: one scope's records come out
  // together, sorted by id, so one hasher at a time.
  std::vector<ScopeDigest> out;
  std::optional<replication::Hasher> hasher;
  auto finish = [&] {
    if (hasher) out.back().digest = hasher->Final();
  };
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(scope ? kDigestOfScope.sql : kDigestsOfAll.sql));
  if (scope) {
    q.Bind(1, *scope);
    // An empty scope still has a digest: the hash of nothing.
    out.push_back(ScopeDigest{std::string(*scope), 0, {}});
    hasher.emplace();
  }
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const int c = scope ? 0 : 1;  // the first column is the scope when all are read
    if (!scope && (out.empty() || out.back().scope != q.Text(0))) {
      finish();
      out.push_back(ScopeDigest{std::string(q.Text(0)), 0, {}});
      hasher.emplace();
    }
    hasher->UpdateFramed(q.Text(c));
    hasher->Update(q.Blob(c + 1));
    ++out.back().records;
  }
  finish();
  return out;
}

Status Store::ForEachStoredState(std::string_view scope,
                                 const std::function<void(const StoredState&)>& fn) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kRecordsOfScope.sql));
  q.Bind(1, scope);
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    StoredState st;
    st.record_id = q.Text(0);
    st.row = q.Blob(1);
    st.stored_hash = q.Blob(2);
    st.parsed = StateBytesOfBlob(st.row, &st.state_bytes);
    fn(st);
  }
  return Status::Ok();
}

Result<std::vector<ConflictRow>> Store::Conflicts() {
  AssertOwnerThread();
  std::vector<ConflictRow> out;
  // CROSS JOIN keeps conflicts the outer loop: left to itself SQLite walks
  // every record in id order to avoid a sort (70 ms on a 1,000,000-record
  // hub with no conflict at all).
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kConflictRows.sql));
  OriginMap origins{[this](const crdt::ReplicaId& k) { return origin_ids_.at(k); },
                    [this](int64_t id) { return OriginKey(id); }};
  // Each field's competing values, from the row the join read: a record's
  // fields come together (ordered by id), so it is decoded once.
  crdt::RecordState state;
  std::string decoded_id, decoded_scope;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ConflictRow c{std::string(q.Text(0)),
                  std::string(q.Text(1)),
                  std::string(q.Text(2)),
                  std::string(q.Text(3)),
                  {}};
    if (c.record_id != decoded_id || c.scope != decoded_scope) {
      state = crdt::RecordState();
      std::vector<ChangeRef> history;
      TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(q.Blob(4), origins, &state, &history));
      decoded_id = c.record_id;
      decoded_scope = c.scope;
    }
    if (const crdt::MvRegister* f = state.Field(c.field)) c.values = *f;
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<FlaggedRecord>> Store::FlaggedRecords(bool include_revoked) {
  AssertOwnerThread();
  std::vector<FlaggedRecord> out;
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kFlaggedRecords.sql));
  q.Bind(1, include_revoked);
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(FlaggedRecord{std::string(q.Text(0)), std::string(q.Text(1)),
                                std::string(q.Text(2)), FlagOf(q, 3, 4), q.Int(5) != 0});
  }
  return out;
}

Result<std::vector<InvalidCount>> Store::InvalidCounts() {
  AssertOwnerThread();
  std::vector<InvalidCount> out;
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kInvalidCounts.sql));
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(InvalidCount{std::string(q.Text(0)), std::string(q.Text(1)),
                               static_cast<uint64_t>(q.Int(2))});
  }
  return out;
}

Status Store::UseHubSettings(int checkpoint_pages) {
  AssertOwnerThread();
  if (checkpoint_pages < 1) {
    return Status::InvalidArgument("a checkpoint threshold must be at least 1 page");
  }
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("PRAGMA page_size"));
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  const int64_t page_size = row ? q.Int(0) : 16384;
  // The WAL file is cut back to its bound (4 times the threshold) when
  // SQLite starts it over; without a limit it keeps its largest size, and
  // a lower one would have every cycle grow the file again.
  TUPHAP_RETURN_IF_ERROR(db_->Exec("PRAGMA cache_size=-65536; PRAGMA journal_size_limit=" +
                                   std::to_string(4 * int64_t{checkpoint_pages} * page_size) +
                                   ";"));
  if (checkpointer_) return Status::Ok();
  auto started = BackgroundCheckpointer::Start(*db_, checkpoint_pages);
  if (!started.ok()) {
    // No second connection or thread (out of file descriptors, say): the
    // hub still serves, with SQLite's checkpoint inside the commits.
    obs::Log().warn("checkpoints run inside the commits: {}", started.status().ToString());
    return db_->Exec("PRAGMA wal_autocheckpoint=" + std::to_string(checkpoint_pages) + ";");
  }
  checkpointer_ = std::move(*started);
  return Status::Ok();
}

std::optional<BackgroundCheckpointer::Counts> Store::checkpoints() const {
  if (!checkpointer_) return std::nullopt;
  return checkpointer_->counts();
}

Result<std::optional<std::string>> Store::GetMeta(std::string_view key) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT value FROM meta WHERE key = ?"));
  q.Bind(1, key);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(q.Blob(0)));
}

Status Store::SetMeta(std::string_view key, std::string_view value) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                          db_->Prepare("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) "
                                       "DO UPDATE SET value = excluded.value"));
  return q.Bind(1, key).BindBlob(2, value).Run();
}

Status Store::DeleteMeta(std::string_view key) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("DELETE FROM meta WHERE key = ?"));
  return q.Bind(1, key).Run();
}

Result<crdt::Hlc> Store::LastHlc() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> v, GetMeta(kHlcMetaKey));
  if (!v || v->size() != 8) return crdt::Hlc();
  uint64_t raw = 0;
  for (unsigned char c : *v) raw = (raw << 8) | c;
  return crdt::Hlc::FromRaw(raw);
}

}  // namespace tuphap::store

namespace tuphap::store {

Result<std::vector<RefusalCount>> Store::Refusals() {
  AssertOwnerThread();
  std::vector<RefusalCount> out;
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT reason, count, last_origin, last_scope, last_seq, last_at_ms "
                           "FROM refusals ORDER BY reason"));
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    RefusalCount r;
    r.reason = std::string(q.Text(0));
    r.count = static_cast<uint64_t>(q.Int(1));
    TUPHAP_RETURN_IF_ERROR(ReplicaFromBlob(q.Blob(2), &r.last_origin));
    r.last_scope = std::string(q.Text(3));
    r.last_seq = static_cast<uint64_t>(q.Int(4));
    r.last_at_ms = q.Int(5);
    out.push_back(std::move(r));
  }
  return out;
}

Status Store::AddRefusals(std::string_view reason, uint64_t count,
                          const crdt::ReplicaId& last_origin, std::string_view last_scope,
                          uint64_t last_seq) {
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("INSERT INTO refusals(reason, count, last_origin, last_scope, last_seq, "
                   "last_at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(reason) DO UPDATE SET "
                   "count = count + ?2, last_origin = ?3, last_scope = ?4, last_seq = ?5, "
                   "last_at_ms = ?6"));
  return q.Bind(1, reason)
      .Bind(2, static_cast<int64_t>(count))
      .BindBlob(3, std::string_view(reinterpret_cast<const char*>(last_origin.bytes.data()),
                                    last_origin.bytes.size()))
      .Bind(4, last_scope)
      .Bind(5, static_cast<int64_t>(last_seq))
      .Bind(6, static_cast<int64_t>(options_.clock->WallMillis()))
      .Run();
}

Status Store::CountRefusals(std::string_view reason, uint64_t count) {
  AssertOwnerThread();
  if (count == 0) return Status::Ok();
  return AddRefusals(reason, count, crdt::ReplicaId{}, "", 0);
}

Result<std::vector<EquivocationRow>> Store::Equivocations() {
  AssertOwnerThread();
  std::vector<EquivocationRow> out;
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT o.key, e.scope, e.seq, e.kind, e.ours, e.theirs FROM "
                           "equivocations e JOIN origins o ON o.id = e.origin ORDER BY e.id"));
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    EquivocationRow e;
    TUPHAP_RETURN_IF_ERROR(ReplicaFromBlob(q.Blob(0), &e.origin));
    e.scope = std::string(q.Text(1));
    e.seq = static_cast<uint64_t>(q.Int(2));
    e.kind = std::string(q.Text(3));
    e.ours = std::string(q.Blob(4));
    e.theirs = std::string(q.Blob(5));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<crdt::ReplicaId>> Store::QuarantinedOrigins() {
  AssertOwnerThread();
  std::vector<crdt::ReplicaId> out;
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT key FROM origins WHERE quarantined = 1"));
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    crdt::ReplicaId id;
    TUPHAP_RETURN_IF_ERROR(ReplicaFromBlob(q.Blob(0), &id));
    out.push_back(id);
  }
  return out;
}

Result<uint64_t> Store::HeldCount() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT count(*) FROM held"));
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<uint64_t>(q.Int(0)) : 0;
}

Result<uint64_t> Store::DraftCount(const FeedKey& feed) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(std::optional<int64_t> origin, FindOriginId(feed.origin));
  if (!origin) return uint64_t{0};
  // Drafts are always the tail of a feed (a node seals them in order and
  // writes sealed changes only when none is left), so count from the head
  // down to the first sealed envelope.
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT envelope FROM changes WHERE origin = ? AND "
                                               "scope = ? ORDER BY seq DESC"));
  q.Bind(1, *origin).Bind(2, feed.scope);
  uint64_t n = 0;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    auto env = replication::Envelope::Parse(std::string(q.Blob(0)));
    if (!env.ok() || !env->is_draft()) break;
    ++n;
  }
  return n;
}

Result<uint64_t> Store::SealDrafts(const FeedKey& feed, const Resealer& seal) {
  AssertOwnerThread();
  if (session_open_) return Status::Internal("a write session is already open on this store");
  Transaction txn(*db_);
  TUPHAP_RETURN_IF_ERROR(txn.status());
  TUPHAP_ASSIGN_OR_RETURN(std::optional<int64_t> origin, FindOriginId(feed.origin));
  if (!origin) return uint64_t{0};
  std::vector<std::pair<int64_t, std::string>> rows;  // (row id, envelope), in seq order
  {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                            db_->Prepare("SELECT id, envelope FROM changes WHERE origin = ? "
                                         "AND scope = ? ORDER BY seq"));
    q.Bind(1, *origin).Bind(2, feed.scope);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      rows.emplace_back(q.Int(0), std::string(q.Blob(1)));
    }
  }
  uint64_t sealed = 0;
  replication::Hash prev{};
  for (auto& [id, bytes] : rows) {
    TUPHAP_ASSIGN_OR_RETURN(replication::Envelope env, replication::Envelope::Parse(bytes));
    if (!env.is_draft() && env.header().prev == prev) {  // sealed already, chained to what precedes
      prev = env.hash();
      continue;
    }
    if (!env.is_draft()) return Status::Corruption("a sealed change follows a draft in its feed");
    TUPHAP_ASSIGN_OR_RETURN(replication::Envelope out, seal(env, prev));
    TUPHAP_ASSIGN_OR_RETURN(Stmt u,
                            db_->Prepare("UPDATE changes SET hash = ?, envelope = ? WHERE id = ?"));
    TUPHAP_RETURN_IF_ERROR(
        u.BindBlob(1, replication::AsBytes(out.hash())).BindBlob(2, out.bytes()).Bind(3, id).Run());
    prev = out.hash();
    ++sealed;
  }
  if (sealed > 0) {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt u, db_->Prepare("UPDATE feeds SET head_hash = ? WHERE origin = ? AND scope = ?"));
    TUPHAP_RETURN_IF_ERROR(
        u.BindBlob(1, replication::AsBytes(prev)).Bind(2, *origin).Bind(3, feed.scope).Run());
  }
  TUPHAP_RETURN_IF_ERROR(txn.Commit());
  return sealed;
}

Status Store::RetryBlockedFeeds(const EnvelopeOpener& opener) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, BeginSession(opener));
  TUPHAP_RETURN_IF_ERROR(db_->Exec("UPDATE feeds SET blocked = NULL WHERE blocked IS NOT NULL"));
  return s->Commit();  // drains every lagging feed; those that still fail block again
}

}  // namespace tuphap::store
