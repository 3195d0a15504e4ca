// What `tuphap --version` and `status --json` say this build is: the
// program's version (CMake's project VERSION), the newest store schema it
// writes (its last migration) and the sync protocol it speaks. Taken from
// the constants themselves so they cannot drift from the code.
#pragma once

#include <cstdint>
#include <string>

#include "base/json.h"

namespace tuphap::cli {

std::string ProgramVersion();
int StoreSchemaVersion();
uint64_t ProtocolVersion();

// "tuphap 0.1.0 (schema 9, protocol 1)"
std::string VersionLine();
// Sets `version`, `schema_version` and `protocol_version` on `j`.
void SetVersionKeys(Json& j);

}  // namespace tuphap::cli
