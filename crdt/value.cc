#include "crdt/value.h"

namespace tuphap::crdt {

std::string Value::ToDisplay() const {
  switch (kind_) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return int_ != 0 ? "true" : "false";
    case Kind::kInt:
      return std::to_string(int_);
    case Kind::kString:
    case Kind::kJson:
      return text_;
  }
  return {};
}

}  // namespace tuphap::crdt
