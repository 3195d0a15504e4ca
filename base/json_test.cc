#include "base/json.h"

#include <gtest/gtest.h>

namespace tuphap {
namespace {

TEST(JsonTest, ParsesNestedValuesAndKeepsMemberOrder) {
  JsonParseError err;
  auto v = ParseJson(R"( {"b": [1, -2, 3.5, true, null], "a": {"x": "y\u00e9\n"}} )", &err);
  ASSERT_TRUE(v.has_value()) << err.message;
  ASSERT_TRUE(v->is_object());
  EXPECT_EQ(v->as_object()[0].first, "b");
  EXPECT_EQ(v->Find("b")->as_array()[1].as_int(), -2);
  EXPECT_DOUBLE_EQ(v->Find("b")->as_array()[2].as_double(), 3.5);
  EXPECT_EQ(v->Find("a")->Find("x")->as_string(), "y\xC3\xA9\n");
  EXPECT_EQ(v->Dump(), R"({"b":[1,-2,3.5,true,null],"a":{"x":"yé\n"}})");
}

TEST(JsonTest, DuplicateKeyIsReportedWithItsOffset) {
  JsonParseError err;
  auto v = ParseJson(R"({"a":1,"b":2,"a":3})", &err);
  EXPECT_FALSE(v.has_value());
  EXPECT_EQ(err.kind, JsonParseError::Kind::kDuplicateKey);
  EXPECT_EQ(err.offset, 13u);
  EXPECT_NE(err.message.find("\"a\""), std::string::npos);
}

TEST(JsonTest, DuplicateKeyInLargeObjectIsFound) {
  std::string text = "{";
  for (int i = 0; i < 100; ++i) text += "\"k" + std::to_string(i) + "\":1,";
  text += "\"k7\":2}";
  JsonParseError err;
  EXPECT_FALSE(ParseJson(text, &err).has_value());
  EXPECT_EQ(err.kind, JsonParseError::Kind::kDuplicateKey);
}

TEST(JsonTest, InvalidUtf8IsAnEncodingError) {
  JsonParseError err;
  EXPECT_FALSE(ParseJson("{\"a\":\"\xC3\x28\"}", &err).has_value());
  EXPECT_EQ(err.kind, JsonParseError::Kind::kEncoding);
  EXPECT_EQ(err.offset, 6u);
}

TEST(JsonTest, RejectsMalformedText) {
  for (const char* bad : {"", "{", "{\"a\"}", "[1,]", "01", "\"\t\"", "{\"a\":1} x", "tru",
                          "\"\\ud800\"", "1.", "-", "{'a':1}"}) {
    JsonParseError err;
    EXPECT_FALSE(ParseJson(bad, &err).has_value()) << bad;
    EXPECT_EQ(err.kind, JsonParseError::Kind::kSyntax) << bad;
    EXPECT_FALSE(err.message.empty());
  }
}

TEST(JsonTest, DepthIsLimited) {
  std::string deep(100000, '[');
  JsonParseError err;
  EXPECT_FALSE(ParseJson(deep, &err).has_value());
  EXPECT_EQ(err.kind, JsonParseError::Kind::kTooDeep);
}

TEST(JsonTest, SurrogatePairsAndEscapesRoundTrip) {
  JsonParseError err;
  auto v = ParseJson(R"("\ud83d\ude00 \" \\ \/ \u0001")", &err);
  ASSERT_TRUE(v.has_value()) << err.message;
  EXPECT_EQ(v->as_string(), "\xF0\x9F\x98\x80 \" \\ / \x01");
  EXPECT_EQ(v->Dump(), "\"\xF0\x9F\x98\x80 \\\" \\\\ / \\u0001\"");
}

TEST(JsonTest, DoublesStayDoublesAndNonFiniteIsNull) {
  auto v = ParseJson("[-2.5e3,1e300]", nullptr);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->Dump(), "[-2500.0,1e+300]");
  EXPECT_EQ(*ParseJson(v->Dump(), nullptr), *v);
  EXPECT_EQ(Json(1.0 / 0.0).Dump(), "null");
  EXPECT_EQ(Json(uint64_t{18446744073709551615ULL}).type(), Json::Type::kDouble);
}

TEST(JsonTest, BigIntegersBecomeDoubles) {
  auto v = ParseJson("123456789012345678901234567890", nullptr);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->type(), Json::Type::kDouble);
  auto w = ParseJson("-9223372036854775808", nullptr);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->as_int(), INT64_MIN);
}

}  // namespace
}  // namespace tuphap
