// Content rules: what every replica checks of a record, whoever wrote it
// and however it arrived (docs/record-format.md, "What a receiver checks").
//
// A record of a known type is judged as a local writer's record would be
// before it is written — its schema (validator.h), the fields fixed at
// creation, and its register number against the commune's leases — and a
// lease is judged as the primary node writes one. Which node is a commune's
// primary is the province's word: its certificate says so (WriterOf). The
// verdict depends only on the record's state, the leases of its book and
// the certificates of its creators — known at every replica before any
// change of theirs applies (the ingest gate), and never taken back — so
// every replica with the same rules reaches the same verdict in any arrival
// order; a change's path through the decision lifecycle is judged from the
// change's ops and the values their preds name (the same everywhere).
//
// Not judged: the public scope (trust objects carry root signatures),
// types and fields these rules do not know (a newer rule set's), records
// that are not register entries.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "node/domain/messages.h"
#include "node/store/store.h"

namespace tuphap::domain {

// The version of these rules. Raise it whenever a verdict on some stored
// record could change: every store judged with another version is judged
// again when opened.
inline constexpr int kContentRulesVersion = 3;  // 3: a marriage's dissolution fields

// Reasons beyond the validator's error classes.
inline constexpr std::string_view kEntryNotLeased = "entry_not_leased";
inline constexpr std::string_view kLeaseBySecondary = "lease_by_secondary";

// The code under which invalid content is counted (status, report status).
inline constexpr std::string_view kInvalidContentCode = "E_INVALID_CONTENT";

// What a node is to a commune's register books (register-numbers.md).
enum class BookWriter {
  kPrimary,  // its certificate names it the commune's primary node
  kHub,      // a hub of the province (copies paper registers)
  kOther,    // a secondary, another commune's node, or unknown
};
// Who `node` is to the books of `commune`: the node's certificate, or,
// for the judging node itself before it is enrolled, its own store.
using WriterOf = std::function<BookWriter(const crdt::ReplicaId& node, std::string_view commune)>;

struct ContentProblem {
  store::ContentFlag flag;
  std::string message;  // a sentence in the requested language
};

class ContentRules final : public store::ContentChecker {
 public:
  ContentRules(Lang lang, WriterOf writer_of) : lang_(lang), writer_of_(std::move(writer_of)) {}

  // The first problem of the record's state with its sentence; nullopt when
  // valid or not judged. Errors are the lookup's (store failures).
  Result<std::optional<ContentProblem>> Check(std::string_view scope, std::string_view record_id,
                                              const crdt::RecordState& state,
                                              const Lookup& lookup) const;

  int version() const override { return kContentRulesVersion; }
  Result<store::ContentFlag> Judge(std::string_view scope, std::string_view record_id,
                                   const crdt::RecordState& state,
                                   const Lookup& lookup) const override;
  std::vector<std::string> Governs(std::string_view scope, std::string_view record_id,
                                   const crdt::RecordState& state) const override;
  Result<store::ContentFlag> JudgeOps(std::string_view scope, std::string_view record_id,
                                      const crdt::RecordState& before,
                                      const std::vector<crdt::Op>& ops,
                                      const ValueOf& value_of) const override;

 private:
  Lang lang_;
  WriterOf writer_of_;
};

// Rule 4 for a writer about to create a record with the ops of `creation`:
// whether `creator` may take the number its book fields give, with the
// book's leases read through `lookup`. nullopt: it may (or the ops name no
// book). Registry refuses what every replica would flag.
Result<std::optional<ContentProblem>> CheckNewEntry(Lang lang, std::string_view scope,
                                                    const crdt::RecordOps& creation,
                                                    const crdt::ReplicaId& creator,
                                                    const WriterOf& writer_of,
                                                    const store::ContentChecker::Lookup& lookup);

// The checker a node installs in its store.
std::shared_ptr<const store::ContentChecker> MakeContentChecker(WriterOf writer_of);

// A sentence for a flagged record as it now is in `store`, in `lang`: the
// judgement again, or, for a verdict on its history, what that rule says.
Result<std::string> DescribeFlag(store::Store& store, const store::FlaggedRecord& flagged,
                                 Lang lang, const WriterOf& writer_of);

// The record as a document of its display values: exactly what Unflatten
// (record_json.h) returns, built in one pass over the sorted fields.
Json RecordDocument(const crdt::RecordState& state);

// Whether `holder` (a lease's holder: 64 hex digits of a node key, or the
// 20 hex digits of its fingerprint) names `node`.
bool HolderNames(std::string_view holder, const crdt::ReplicaId& node);

}  // namespace tuphap::domain
