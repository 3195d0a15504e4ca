// What a node is: its role, its commune or province, its identity. Kept in
// the store's meta table.
#pragma once

#include <string>

#include "base/status.h"
#include "crdt/replica_id.h"

namespace tuphap::node {

enum class Role { kCommune, kHub };

const char* RoleName(Role role);
Result<Role> ParseRole(std::string_view text);

// How a node gets register entry numbers (docs/register-numbers.md): the
// commune's primary node numbers its books; a secondary node draws only
// from blocks the primary has leased to it.
enum class Numbering { kPrimary, kSecondary, kNone };

struct InitParams {
  Role role = Role::kCommune;
  std::string commune;     // 5 digits, for a commune node
  std::string province;    // 2 digits, for a hub
  bool secondary = false;  // a further node of a commune that already has one
  int64_t now_ms = 0;      // the creation time; 0: this computer's clock (tests set it)
};

struct NodeInfo {
  Role role = Role::kCommune;
  std::string commune;
  std::string province;
  crdt::ReplicaId id;
  Numbering numbering = Numbering::kNone;
};

// The store file inside a data directory.
std::string StorePath(const std::string& dir);

// Checks the shape of a commune (5 digits) or province (2 digits) code.
Status CheckCommuneCode(std::string_view code);
Status CheckProvinceCode(std::string_view code);

}  // namespace tuphap::node
