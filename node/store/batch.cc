// Store::Batch: the working set of one apply transaction — the log step
// (append, hold, duplicate, equivocation), materialisation in causal order,
// and the final write of feeds, records and conflicts.
#include <algorithm>
#include <unordered_map>

#include "node/store/record_codec.h"
#include "node/store/store.h"

namespace tuphap::store {
namespace {

std::string_view Bytes(const replication::Hash& h) { return replication::AsBytes(h); }

std::string HlcBytes(crdt::Hlc hlc) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(hlc.raw() >> (56 - 8 * i));
  return s;
}

}  // namespace

class Store::Batch {
 public:
  Batch(Store& store, const EnvelopeOpener& opener) : store_(store), opener_(opener) {
    origins_.to_id = [this](const crdt::ReplicaId& k) { return store_.origin_ids_.at(k); };
    origins_.to_key = [this](int64_t id) { return store_.OriginKey(id); };
  }

  Status Add(Incoming& in);
  Status Drain();
  Status Flush();
  ApplyReport& report() { return report_; }
  Result<FeedHead> CurrentHead(const FeedKey& key) {
    TUPHAP_ASSIGN_OR_RETURN(FeedSlot * f, LoadFeed(key));
    return f->head;
  }

 private:
  struct FeedSlot {
    int64_t origin_id = 0;
    FeedHead head;
    bool dirty = false;
  };
  struct RecordSlot {
    int64_t rowid = 0;  // 0: not in the table yet
    std::string scope;
    crdt::RecordState state;
    std::vector<ChangeRef> history;
    int64_t stored_conflicts = 0;
    bool dirty = false;
  };

  Result<FeedSlot*> LoadFeed(const FeedKey& key);
  Result<RecordSlot*> LoadRecord(const std::string& record_id, const std::string& scope);
  Result<bool> Quarantined(int64_t origin_id);
  Status Append(FeedSlot& feed, const replication::Envelope& env,
                std::optional<crdt::Change> change);
  Status ReleaseHeld(FeedSlot& feed);
  Status RecordEquivocation(FeedSlot& feed, uint64_t seq, const char* kind, std::string_view ours,
                            std::string_view theirs);
  Result<bool> MaterialiseNext(FeedSlot& feed);
  Status Materialise(const crdt::Change& change);

  Store& store_;
  const EnvelopeOpener& opener_;
  OriginMap origins_;
  ApplyReport report_;
  std::map<FeedKey, FeedSlot> feeds_;
  std::unordered_map<std::string, RecordSlot> records_;
  std::map<std::pair<FeedKey, uint64_t>, crdt::Change> decoded_;
  std::map<int64_t, bool> quarantined_;
  crdt::Hlc max_hlc_;
};

Result<Store::Batch::FeedSlot*> Store::Batch::LoadFeed(const FeedKey& key) {
  auto it = feeds_.find(key);
  if (it != feeds_.end()) return &it->second;
  FeedSlot slot;
  TUPHAP_ASSIGN_OR_RETURN(slot.origin_id, store_.OriginId(key.origin));
  TUPHAP_ASSIGN_OR_RETURN(std::optional<FeedHead> head, store_.LoadHead(key));
  slot.head = head ? *head : FeedHead{key, 0, {}, 0};
  return &feeds_.emplace(key, std::move(slot)).first->second;
}

Result<bool> Store::Batch::Quarantined(int64_t origin_id) {
  auto it = quarantined_.find(origin_id);
  if (it != quarantined_.end()) return it->second;
  TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                          store_.db_->Prepare("SELECT quarantined FROM origins WHERE id = ?"));
  q.Bind(1, origin_id);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  const bool flagged = row && q.Int(0) != 0;
  quarantined_[origin_id] = flagged;
  return flagged;
}

Status Store::Batch::Add(Incoming& in) {
  const replication::Envelope& env = in.envelope;
  const auto& h = env.header();
  TUPHAP_ASSIGN_OR_RETURN(FeedSlot * feed, LoadFeed(FeedKey{h.origin, h.scope}));
  TUPHAP_ASSIGN_OR_RETURN(bool quarantined, Quarantined(feed->origin_id));
  if (quarantined) {
    report_.dispositions.push_back(Disposition::kQuarantined);
    ++report_.quarantined;
    return Status::Ok();
  }
  if (h.seq <= feed->head.seq) {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q,
        store_.db_->Prepare(
            "SELECT hash, envelope FROM changes WHERE origin = ? AND scope = ? AND seq = ?"));
    q.Bind(1, feed->origin_id).Bind(2, h.scope).Bind(3, static_cast<int64_t>(h.seq));
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Corruption("the log lacks a change below its feed head");
    if (q.Blob(0) == Bytes(env.hash())) {
      report_.dispositions.push_back(Disposition::kDuplicate);
      ++report_.duplicates;
      return Status::Ok();
    }
    const std::string ours(q.Blob(1));
    return RecordEquivocation(*feed, h.seq, "same_seq", ours, env.bytes());
  }
  if (h.seq > feed->head.seq + 1) {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, store_.db_->Prepare(
                    "SELECT hash, envelope FROM held WHERE origin = ? AND scope = ? AND seq = ?"));
    q.Bind(1, feed->origin_id).Bind(2, h.scope).Bind(3, static_cast<int64_t>(h.seq));
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      if (q.Blob(0) == Bytes(env.hash())) {
        report_.dispositions.push_back(Disposition::kDuplicate);
        ++report_.duplicates;
        return Status::Ok();
      }
      const std::string ours(q.Blob(1));
      return RecordEquivocation(*feed, h.seq, "same_seq", ours, env.bytes());
    }
    TUPHAP_ASSIGN_OR_RETURN(Stmt ins, store_.db_->Prepare(
        "INSERT INTO held(origin, scope, seq, hash, envelope) VALUES(?, ?, ?, ?, ?)"));
    TUPHAP_RETURN_IF_ERROR(ins.Bind(1, feed->origin_id)
                               .Bind(2, h.scope)
                               .Bind(3, static_cast<int64_t>(h.seq))
                               .BindBlob(4, Bytes(env.hash()))
                               .BindBlob(5, env.bytes())
                               .Run());
    report_.dispositions.push_back(Disposition::kHeld);
    ++report_.held;
    return Status::Ok();
  }
  if (h.prev != feed->head.hash) {
    std::string ours;
    if (feed->head.seq > 0) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q, store_.db_->Prepare(
                      "SELECT envelope FROM changes WHERE origin = ? AND scope = ? AND seq = ?"));
      q.Bind(1, feed->origin_id).Bind(2, h.scope).Bind(3, static_cast<int64_t>(feed->head.seq));
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) ours = std::string(q.Blob(0));
    }
    return RecordEquivocation(*feed, h.seq, "prev_mismatch", ours, env.bytes());
  }
  report_.dispositions.push_back(Disposition::kAppended);
  ++report_.appended;
  TUPHAP_RETURN_IF_ERROR(Append(*feed, env, std::move(in.change)));
  return ReleaseHeld(*feed);
}

Status Store::Batch::Append(FeedSlot& feed, const replication::Envelope& env,
                            std::optional<crdt::Change> change) {
  const auto& h = env.header();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt ins,
      store_.db_->Prepare(
          "INSERT INTO changes(origin, scope, seq, hash, hlc, envelope) VALUES(?, ?, ?, ?, ?, ?)"));
  TUPHAP_RETURN_IF_ERROR(ins.Bind(1, feed.origin_id)
                             .Bind(2, h.scope)
                             .Bind(3, static_cast<int64_t>(h.seq))
                             .BindBlob(4, Bytes(env.hash()))
                             .Bind(5, static_cast<int64_t>(h.hlc.raw()))
                             .BindBlob(6, env.bytes())
                             .Run());
  feed.head.seq = h.seq;
  feed.head.hash = env.hash();
  feed.dirty = true;
  if (h.hlc > max_hlc_) max_hlc_ = h.hlc;
  if (change) decoded_.emplace(std::make_pair(feed.head.feed, h.seq), std::move(*change));
  store_.lagging_.insert(feed.head.feed);
  return Status::Ok();
}

Status Store::Batch::ReleaseHeld(FeedSlot& feed) {
  while (true) {
    const int64_t next = static_cast<int64_t>(feed.head.seq + 1);
    std::string bytes;
    {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q, store_.db_->Prepare(
                      "SELECT envelope FROM held WHERE origin = ? AND scope = ? AND seq = ?"));
      q.Bind(1, feed.origin_id).Bind(2, feed.head.feed.scope).Bind(3, next);
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::Ok();
      bytes = std::string(q.Blob(0));
    }
    {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt del,
          store_.db_->Prepare("DELETE FROM held WHERE origin = ? AND scope = ? AND seq = ?"));
      TUPHAP_RETURN_IF_ERROR(
          del.Bind(1, feed.origin_id).Bind(2, feed.head.feed.scope).Bind(3, next).Run());
    }
    auto env = replication::Envelope::Parse(std::move(bytes));
    if (!env.ok())
      return Status::Corruption("a held envelope cannot be read: " + env.status().message());
    if (env->header().prev != feed.head.hash) {
      std::string ours;  // the fork is against our head; keep both as evidence
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q, store_.db_->Prepare(
                      "SELECT envelope FROM changes WHERE origin = ? AND scope = ? AND seq = ?"));
      q.Bind(1, feed.origin_id)
          .Bind(2, feed.head.feed.scope)
          .Bind(3, static_cast<int64_t>(feed.head.seq));
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) ours = std::string(q.Blob(0));
      TUPHAP_RETURN_IF_ERROR(
          RecordEquivocation(feed, env->header().seq, "prev_mismatch", ours, env->bytes()));
      return Status::Ok();
    }
    TUPHAP_RETURN_IF_ERROR(Append(feed, *env, std::nullopt));
    ++report_.released;
  }
}

Status Store::Batch::RecordEquivocation(FeedSlot& feed, uint64_t seq, const char* kind,
                                        std::string_view ours, std::string_view theirs) {
  report_.dispositions.push_back(Disposition::kEquivocation);
  ++report_.equivocations;
  TUPHAP_ASSIGN_OR_RETURN(Stmt ins,
                          store_.db_->Prepare("INSERT OR IGNORE INTO equivocations(origin, scope, "
                                              "seq, kind, ours, theirs, detected_hlc) "
                                              "VALUES(?, ?, ?, ?, ?, ?, ?)"));
  TUPHAP_RETURN_IF_ERROR(ins.Bind(1, feed.origin_id)
                             .Bind(2, feed.head.feed.scope)
                             .Bind(3, static_cast<int64_t>(seq))
                             .Bind(4, kind)
                             .BindBlob(5, ours)
                             .BindBlob(6, theirs)
                             .Bind(7, static_cast<int64_t>(max_hlc_.raw()))
                             .Run());
  TUPHAP_ASSIGN_OR_RETURN(Stmt flag,
                          store_.db_->Prepare("UPDATE origins SET quarantined = 1 WHERE id = ?"));
  TUPHAP_RETURN_IF_ERROR(flag.Bind(1, feed.origin_id).Run());
  quarantined_[feed.origin_id] = true;
  return Status::Ok();
}

Result<Store::Batch::RecordSlot*> Store::Batch::LoadRecord(const std::string& record_id,
                                                           const std::string& scope) {
  auto it = records_.find(record_id);
  if (it != records_.end()) return &it->second;
  RecordSlot slot;
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      store_.db_->Prepare("SELECT id, scope, conflicts, state FROM records WHERE record_id = ?"));
  q.Bind(1, record_id);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (row) {
    slot.rowid = q.Int(0);
    slot.scope = std::string(q.Text(1));
    slot.stored_conflicts = q.Int(2);
    TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(q.Blob(3), origins_, &slot.state, &slot.history));
  } else {
    slot.scope = scope;
  }
  return &records_.emplace(record_id, std::move(slot)).first->second;
}

Status Store::Batch::Materialise(const crdt::Change& change) {
  uint32_t index = 0;
  for (const auto& block : change.records) {
    TUPHAP_ASSIGN_OR_RETURN(RecordSlot * slot, LoadRecord(block.record_id, change.scope));
    if (slot->scope != change.scope) {
      // A record belongs to the scope that created it; ops on it from another
      // scope's feed are skipped (and counted), never applied.
      report_.scope_mismatch += block.ops.size();
      index += static_cast<uint32_t>(block.ops.size());
      continue;
    }
    for (const auto& op : block.ops) {
      slot->state.ApplyOp(crdt::Dot{change.origin, change.seq, index++}, change.hlc, op);
    }
    slot->history.push_back(ChangeRef{change.origin, change.seq, change.hlc});
    slot->dirty = true;
  }
  return Status::Ok();
}

Result<bool> Store::Batch::MaterialiseNext(FeedSlot& feed) {
  const uint64_t seq = feed.head.applied_seq + 1;
  crdt::Change loaded;
  const crdt::Change* change;
  auto it = decoded_.find({feed.head.feed, seq});
  if (it != decoded_.end()) {
    change = &it->second;
  } else {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, store_.db_->Prepare(
                    "SELECT envelope FROM changes WHERE origin = ? AND scope = ? AND seq = ?"));
    q.Bind(1, feed.origin_id).Bind(2, feed.head.feed.scope).Bind(3, static_cast<int64_t>(seq));
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Corruption("the log lacks a change below its feed head");
    auto env = replication::Envelope::Parse(std::string(q.Blob(0)));
    if (!env.ok())
      return Status::Corruption("a stored envelope cannot be read: " + env.status().message());
    TUPHAP_RETURN_IF_ERROR(opener_.Open(*env, &loaded).Annotate("opening a stored change"));
    change = &loaded;
  }
  const crdt::VersionVector deps = change->Dependencies();
  for (const auto& [origin, needed] : deps.entries()) {
    TUPHAP_ASSIGN_OR_RETURN(FeedSlot * dep, LoadFeed(FeedKey{origin, feed.head.feed.scope}));
    if (dep->head.applied_seq < needed) return false;  // waits for causal predecessors
  }
  TUPHAP_RETURN_IF_ERROR(Materialise(*change));
  feed.head.applied_seq = seq;
  feed.dirty = true;
  ++report_.materialised;
  return true;
}

Status Store::Batch::Drain() {
  // Feeds ready to materialise may unblock others (causal dependencies), so
  // sweep until a pass makes no progress.
  bool progress = true;
  while (progress) {
    progress = false;
    std::vector<FeedKey> pending(store_.lagging_.begin(), store_.lagging_.end());
    for (const FeedKey& key : pending) {
      if (!opener_.CanRead(key.scope)) continue;  // stored and forwarded unread
      TUPHAP_ASSIGN_OR_RETURN(FeedSlot * feed, LoadFeed(key));
      while (feed->head.applied_seq < feed->head.seq) {
        TUPHAP_ASSIGN_OR_RETURN(bool applied, MaterialiseNext(*feed));
        if (!applied) break;
        progress = true;
      }
      if (feed->head.applied_seq >= feed->head.seq) store_.lagging_.erase(key);
    }
  }
  return Status::Ok();
}

Status Store::Batch::Flush() {
  for (auto& [key, feed] : feeds_) {
    if (!feed.dirty) continue;
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, store_.db_->Prepare(
                    "INSERT INTO feeds(origin, scope, head_seq, head_hash, applied_seq) VALUES(?, "
                    "?, ?, ?, ?) "
                    "ON CONFLICT(origin, scope) DO UPDATE SET head_seq = excluded.head_seq, "
                    "head_hash = excluded.head_hash, applied_seq = excluded.applied_seq"));
    TUPHAP_RETURN_IF_ERROR(q.Bind(1, feed.origin_id)
                               .Bind(2, key.scope)
                               .Bind(3, static_cast<int64_t>(feed.head.seq))
                               .BindBlob(4, Bytes(feed.head.hash))
                               .Bind(5, static_cast<int64_t>(feed.head.applied_seq))
                               .Run());
  }
  for (auto& [record_id, r] : records_) {
    if (!r.dirty) continue;
    const std::string type = r.state.Type();
    std::vector<std::string> conflicts;
    for (const auto& field : r.state.ConflictedFields()) {
      if (store_.options_.adjudicated(type, field)) conflicts.push_back(field);
    }
    if (r.state.DuplicateCreation() &&
        std::find(conflicts.begin(), conflicts.end(), crdt::kTypeField) == conflicts.end()) {
      conflicts.push_back(std::string(crdt::kTypeField));  // two registrations claim this id
    }
    const std::string blob = EncodeRecordBlob(r.state, r.history, origins_);
    const replication::Hash hash = RecordStateHash(record_id, r.scope, r.state);
    if (r.rowid == 0) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q,
          store_.db_->Prepare(
              "INSERT INTO records(record_id, scope, type, revoked, conflicts, state, state_hash) "
              "VALUES(?, ?, ?, ?, ?, ?, ?)"));
      TUPHAP_RETURN_IF_ERROR(q.Bind(1, record_id)
                                 .Bind(2, r.scope)
                                 .Bind(3, type)
                                 .Bind(4, r.state.Revoked())
                                 .Bind(5, static_cast<int64_t>(conflicts.size()))
                                 .BindBlob(6, blob)
                                 .BindBlob(7, Bytes(hash))
                                 .Run());
      r.rowid = store_.db_->LastInsertRowid();
    } else {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q, store_.db_->Prepare("UPDATE records SET type = ?, revoked = ?, conflicts = ?, "
                                      "state = ?, state_hash = ? WHERE id = ?"));
      TUPHAP_RETURN_IF_ERROR(q.Bind(1, type)
                                 .Bind(2, r.state.Revoked())
                                 .Bind(3, static_cast<int64_t>(conflicts.size()))
                                 .BindBlob(4, blob)
                                 .BindBlob(5, Bytes(hash))
                                 .Bind(6, r.rowid)
                                 .Run());
    }
    if (r.stored_conflicts > 0) {
      TUPHAP_ASSIGN_OR_RETURN(Stmt del,
                              store_.db_->Prepare("DELETE FROM conflicts WHERE record = ?"));
      TUPHAP_RETURN_IF_ERROR(del.Bind(1, r.rowid).Run());
    }
    for (const auto& field : conflicts) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt ins, store_.db_->Prepare("INSERT INTO conflicts(record, field) VALUES(?, ?)"));
      TUPHAP_RETURN_IF_ERROR(ins.Bind(1, r.rowid).Bind(2, field).Run());
    }
    r.stored_conflicts = static_cast<int64_t>(conflicts.size());
    r.dirty = false;
  }
  TUPHAP_ASSIGN_OR_RETURN(crdt::Hlc stored, store_.LastHlc());
  if (max_hlc_ > stored) TUPHAP_RETURN_IF_ERROR(store_.SetMeta("hlc", HlcBytes(max_hlc_)));
  return Status::Ok();
}

Result<ApplyReport> Store::RunBatch(const std::function<Status(Batch&)>& fill,
                                    const EnvelopeOpener& opener) {
  const std::set<FeedKey> lagging_before = lagging_;
  Status s;
  ApplyReport report;
  {
    Transaction txn(*db_);
    s = txn.status();
    if (s.ok()) {
      Batch batch(*this, opener);
      s = fill(batch);
      if (s.ok()) s = batch.Drain();
      if (s.ok()) s = batch.Flush();
      if (s.ok()) s = txn.Commit();
      report = std::move(batch.report());
    }
  }
  if (!s.ok()) {
    // Rolled back: forget anything cached from inside the transaction.
    ForgetCaches();
    lagging_ = lagging_before;
    return s;
  }
  return report;
}

Result<ApplyReport> Store::Apply(std::vector<Incoming>& batch, const EnvelopeOpener& opener) {
  return RunBatch(
      [&](Batch& b) {
        for (auto& in : batch) TUPHAP_RETURN_IF_ERROR(b.Add(in));
        return Status::Ok();
      },
      opener);
}

Result<ApplyReport> Store::AppendLocal(const FeedKey& feed, const LocalFactory& make,
                                       const EnvelopeOpener& opener) {
  return RunBatch(
      [&](Batch& b) -> Status {
        TUPHAP_ASSIGN_OR_RETURN(FeedHead head, b.CurrentHead(feed));
        TUPHAP_ASSIGN_OR_RETURN(crdt::Hlc last, LastHlc());
        TUPHAP_ASSIGN_OR_RETURN(Incoming in, make(LocalSlot{head.seq + 1, head.hash, last}));
        TUPHAP_RETURN_IF_ERROR(b.Add(in));
        if (b.report().appended != 1) return Status::Internal("a local change did not append");
        return Status::Ok();
      },
      opener);
}

}  // namespace tuphap::store
