#include "cli/version.h"

#include "cli/build_version.h"
#include "node/store/schema.h"
#include "replication/protocol.h"

namespace tuphap::cli {

std::string ProgramVersion() { return TUPHAP_PROGRAM_VERSION; }

int StoreSchemaVersion() { return store::LatestSchemaVersion(); }

uint64_t ProtocolVersion() { return replication::kProtocolVersion; }

std::string VersionLine() {
  return "tuphap " + ProgramVersion() + " (schema " + std::to_string(StoreSchemaVersion()) +
         ", protocol " + std::to_string(ProtocolVersion()) + ")";
}

void SetVersionKeys(Json& j) {
  j.Set("version", ProgramVersion());
  j.Set("schema_version", static_cast<int64_t>(StoreSchemaVersion()));
  j.Set("protocol_version", static_cast<int64_t>(ProtocolVersion()));
}

}  // namespace tuphap::cli
