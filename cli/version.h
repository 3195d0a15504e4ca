// What `tuphap --version` and `status --json` say this build is: the
// program's version (CMake's project VERSION), the newest store schema it
// writes (its last migration) and the sync protocol it speaks. Taken from
// the constants themselves so they cannot drift from the code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json.h"

namespace tuphap::cli {

std::string ProgramVersion();
int StoreSchemaVersion();
// The newest sync protocol version this build speaks; it speaks every one
// from ProtocolVersions() (1 and 2: a node answers each in its own form).
uint64_t ProtocolVersion();
std::vector<uint64_t> ProtocolVersions();

// "tuphap 0.1.0 (schema 9, protocol 1-2)"
std::string VersionLine();
// Sets `version`, `schema_version`, `protocol_version` (the newest) and
// `protocol_versions` (every one, oldest first) on `j`.
void SetVersionKeys(Json& j);

}  // namespace tuphap::cli
