// JSON parser: never crashes; whatever parses dumps to text that parses to
// the same value (round trip).
#include <cstdlib>

#include "base/json.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tuphap::JsonParseError err;
  auto v = tuphap::ParseJson(text, &err);
  if (v) {
    auto again = tuphap::ParseJson(v->Dump(), nullptr);
    FUZZ_FAIL_IF(!again || !(*again == *v));
  } else {
    FUZZ_FAIL_IF(err.offset > size);
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  return {
      R"({"seq":1,"op":"create","data":{"child":{"full_name":"Nguyễn Thị Hồng","birth_date":"2025-06-20"},"father":null},"x":[1,-2.5e3,true,"\u00e9\ud83d\ude00"]})",
      "[[[[]]]]", "\"\\n\\t\"", "-0.0", "{\"a\":{\"b\":[null,false]}}"};
}
