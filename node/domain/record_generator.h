// RecordGenerator: deterministic synthetic records for tests, benchmarks
// and the demo — the project's own, so none of them needs anything outside
// this repository. Lines follow the import format (docs/record-format.md):
// create lines for the nine record types in realistic proportions, edit
// lines (corrections, violation status changes, divorces written into a
// marriage's entry), and on request bad lines, each built to break exactly
// one rule and tagged "expect_error" with the class it must produce when the
// file is imported in order into a node that holds none of it (and again
// when it comes a second time). Same options, same seed: byte-identical
// output.
//
// People: every person gets a fresh personal ID, and only a commune's own
// earlier valid lines are named again — by valid lines as the person rules
// allow (a couple as parents, a spouse's death, a widow(er) or divorcee
// marrying again or confirming it), and by the person rules' bad lines (the
// same child or death registered again, a dead person or a married one
// marrying, a confirmation the marriages on record contradict).
//
// All people are invented; commune codes are real (reference data).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "node/domain/error_class.h"

namespace tuphap::domain {

struct GeneratorOptions {
  uint64_t seed = 1;
  std::vector<std::string> communes;  // 5-digit codes, records spread over them
  int records = 1000;                 // create lines, valid and bad together
  int edits = 0;                      // edit lines
  double bad = 0;                     // share of lines built to be refused
  std::string from = "2025-07-01";    // registration dates
  std::string to = "2026-06-30";
  // Only these classes for bad lines (empty: every class the generator knows).
  std::vector<ErrorClass> bad_classes;
};

// InvalidArgument, saying which option and why, unless `from` and `to` are
// dates (YYYY-MM-DD or DD/MM/YYYY, years 1900-2100) with `from` on or
// before `to`, `records` and `edits` are not negative, `bad` is a share
// between 0 and 1, and there is at least one commune.
Status CheckGeneratorOptions(const GeneratorOptions& options);

// Writes the lines (without "\n") to `sink`, in event-time order. Requires
// CheckGeneratorOptions(options) to pass (asserted; otherwise nothing is
// written).
void GenerateRecords(const GeneratorOptions& options,
                     const std::function<void(const std::string& line)>& sink);

// The error classes GenerateRecords can build bad lines for.
std::vector<ErrorClass> GeneratedErrorClasses();

}  // namespace tuphap::domain
