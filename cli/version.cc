#include "cli/version.h"

#include "cli/build_version.h"
#include "node/store/schema.h"
#include "replication/protocol.h"

namespace tuphap::cli {

std::string ProgramVersion() { return TUPHAP_PROGRAM_VERSION; }

int StoreSchemaVersion() { return store::LatestSchemaVersion(); }

uint64_t ProtocolVersion() { return replication::kNewestProtocolVersion; }

std::vector<uint64_t> ProtocolVersions() {
  std::vector<uint64_t> out;
  for (uint64_t v = replication::kOldestProtocolVersion; v <= replication::kNewestProtocolVersion;
       ++v)
    out.push_back(v);
  return out;
}

std::string VersionLine() {
  const std::vector<uint64_t> v = ProtocolVersions();
  const std::string protocols = v.size() == 1
                                    ? std::to_string(v.front())
                                    : std::to_string(v.front()) + "-" + std::to_string(v.back());
  return "tuphap " + ProgramVersion() + " (schema " + std::to_string(StoreSchemaVersion()) +
         ", protocol " + protocols + ")";
}

void SetVersionKeys(Json& j) {
  j.Set("version", ProgramVersion());
  j.Set("schema_version", static_cast<int64_t>(StoreSchemaVersion()));
  j.Set("protocol_version", static_cast<int64_t>(ProtocolVersion()));
  Json all = Json::MakeArray();
  for (uint64_t v : ProtocolVersions()) all.Push(Json(static_cast<int64_t>(v)));
  j.Set("protocol_versions", std::move(all));
}

}  // namespace tuphap::cli
