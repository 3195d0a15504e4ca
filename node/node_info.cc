#include "node/node_info.h"

#include <algorithm>

namespace tuphap::node {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

const char* RoleName(Role role) { return role == Role::kHub ? "hub" : "commune"; }

Result<Role> ParseRole(std::string_view text) {
  if (text == "commune") return Role::kCommune;
  if (text == "hub") return Role::kHub;
  return Status::InvalidArgument("unknown role '" + std::string(text) + "': use commune or hub");
}

std::string StorePath(const std::string& dir) { return dir + "/tuphap.db"; }

Status CheckCommuneCode(std::string_view code) {
  if (code.size() != 5 || !AllDigits(code)) {
    return Status::InvalidArgument("a commune code is 5 digits, got '" + std::string(code) + "'");
  }
  return Status::Ok();
}

Status CheckProvinceCode(std::string_view code) {
  if (code.size() != 2 || !AllDigits(code)) {
    return Status::InvalidArgument("a province code is 2 digits, got '" + std::string(code) + "'");
  }
  return Status::Ok();
}

}  // namespace tuphap::node
