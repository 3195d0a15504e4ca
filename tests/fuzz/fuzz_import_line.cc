// Import lines (node/domain/registry.cc Prepare, node/domain/validator.cc):
// one JSON line of an import file, parsed and checked against the record
// rules as `tuphap import` does before anything is stored. Never a crash;
// a line is refused with a class and a message, or becomes one record of
// this commune (a create) or an edit of an object line. Seeds: lines of
// the project's RecordGenerator for the commune, valid and built-to-fail.
#include <cstdlib>

#include "node/domain/registry.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::World& w = fuzz::TheWorld();
  static const domain::Registry vi(*w.commune, domain::Lang::kVietnamese);
  static const domain::Registry en(*w.commune, domain::Lang::kEnglish);
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const domain::PreparedLine p = (size % 2 == 0 ? vi : en).Prepare(line);
  switch (p.kind) {
    case domain::PreparedLine::Kind::kRefused:
      FUZZ_FAIL_IF(!p.problem || p.problem->message.empty());
      break;
    case domain::PreparedLine::Kind::kCreate:
      // Header fields left out (id, commune) are filled in when committed.
      FUZZ_FAIL_IF(p.problem || (!p.scope.empty() && p.scope != "18568") ||
                   p.ops.records.size() != 1);
      break;
    case domain::PreparedLine::Kind::kEdit:
      FUZZ_FAIL_IF(p.problem || !p.doc.is_object());
      break;
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() { return fuzz::TheWorld().import_lines; }
