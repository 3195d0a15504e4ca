// The store's domain hooks: merge policy per field, and what a record
// contributes to the search index (folded names and IDs, the record id) and
// its event date (the registration date).
#pragma once

#include <optional>
#include <string_view>

#include "crdt/record_state.h"
#include "node/store/store.h"

namespace tuphap::domain {

// Whether a conflict on (type, field) waits for a person (the schema's merge
// policy; bookkeeping fields — version, edit ids — take the latest value).
bool IsAdjudicated(std::string_view type, std::string_view field);

store::IndexEntry IndexRecord(std::string_view record_id, const crdt::RecordState& state);

// The fine report stats counts for a record (IndexEntry::fine): a
// violation decision whose principal penalty is a fine that was not
// cancelled — the amount issued and, when paid, the amount paid (the
// amount issued when none is given). None for anything else.
std::optional<store::StatsFine> FineOf(const crdt::RecordState& state);

// The words of a search query, as the index holds them (folded).
std::string SearchTerms(std::string_view query);

}  // namespace tuphap::domain
