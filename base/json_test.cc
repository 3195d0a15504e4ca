#include "base/json.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>

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

// RFC 8785 (JCS): the canonical form of JSON values inside changes
// (docs/envelope.md). The expected texts are the RFC's own examples.

std::string Canonical(std::string_view text) {
  JsonParseError err;
  auto v = ParseJson(text, &err);
  EXPECT_TRUE(v.has_value()) << err.message;
  if (!v) return "";
  auto c = v->DumpCanonical();
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : "";
}

TEST(JsonCanonicalTest, Rfc8785Section322Example) {
  const std::string in = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(Canonical(in),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(JsonCanonicalTest, MembersSortByUtf16CodeUnitsNotCodePoints) {
  // RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before
  // U+FB33, although its code point is larger.
  const std::string in = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  EXPECT_EQ(Canonical(in),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
            "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(JsonCanonicalTest, NumbersInEcmaScriptFormRfc8785AppendixB) {
  struct Case {
    uint64_t bits;
    const char* text;
  };
  for (const Case& c : std::initializer_list<Case>{
           {0x0000000000000000, "0"},
           {0x8000000000000000, "0"},
           {0x0000000000000001, "5e-324"},
           {0x8000000000000001, "-5e-324"},
           {0x7fefffffffffffff, "1.7976931348623157e+308"},
           {0xffefffffffffffff, "-1.7976931348623157e+308"},
           {0x4340000000000000, "9007199254740992"},
           {0xc340000000000000, "-9007199254740992"},
           {0x4430000000000000, "295147905179352830000"},
           {0x44b52d02c7e14af5, "9.999999999999997e+22"},
           {0x44b52d02c7e14af6, "1e+23"},
           {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
           {0x444b1ae4d6e2ef4e, "999999999999999700000"},
           {0x444b1ae4d6e2ef4f, "999999999999999900000"},
           {0x444b1ae4d6e2ef50, "1e+21"},
           {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
           {0x3eb0c6f7a0b5ed8d, "0.000001"},
           {0x41b3de4355555553, "333333333.3333332"},
           {0x41b3de4355555554, "333333333.33333325"},
           {0x41b3de4355555555, "333333333.3333333"},
           {0x41b3de4355555556, "333333333.3333334"},
           {0x41b3de4355555557, "333333333.33333343"},
           {0xbecbf647612f3696, "-0.0000033333333333333333"},
           {0x43143ff3c1cb0959, "1424953923781206.2"},
       }) {
    double d = 0;
    std::memcpy(&d, &c.bits, sizeof d);
    auto text = Json(d).DumpCanonical();
    ASSERT_TRUE(text.ok()) << c.text;
    EXPECT_EQ(*text, c.text) << std::hex << c.bits;
    // And what it reads back as is the same number.
    auto back = ParseJson(*text, nullptr);
    ASSERT_TRUE(back.has_value()) << c.text;
    EXPECT_EQ(back->as_double(), d == 0 ? 0.0 : d) << c.text;
  }
}

TEST(JsonCanonicalTest, IntegersAreDoublesAndOnlyExactOnesHaveAForm) {
  EXPECT_EQ(*Json(int64_t{9007199254740991}).DumpCanonical(), "9007199254740991");
  EXPECT_EQ(*Json(int64_t{-9007199254740992}).DumpCanonical(), "-9007199254740992");
  EXPECT_EQ(*Json(INT64_MIN).DumpCanonical(), "-9223372036854775808");  // -2^63 is a double
  // 2^53 + 1 would be rounded to 2^53 by any JCS implementation: refused,
  // not silently changed.
  auto odd = Json(int64_t{9007199254740993}).DumpCanonical();
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(odd.status().message().find("9007199254740993"), std::string::npos);
  EXPECT_FALSE(Json(INT64_MAX).DumpCanonical().ok());
  // A double with an integral value is written as the integer.
  EXPECT_EQ(Canonical("[-2.5e3, 1.0, -0.0, 1e21, 1e-7]"), "[-2500,1,0,1e+21,1e-7]");
}

TEST(JsonCanonicalTest, WhatHasNoCanonicalFormIsRefused) {
  EXPECT_FALSE(Json(1.0 / 0.0).DumpCanonical().ok());
  EXPECT_FALSE(Json(std::string("\xff")).DumpCanonical().ok());
  Json twice = Json::MakeObject();
  twice.as_object().emplace_back("a", 1);
  twice.as_object().emplace_back("a", 2);
  EXPECT_EQ(twice.DumpCanonical().status().code(), StatusCode::kInvalidArgument);
}

TEST(JsonCanonicalTest, CanonicalTextIsAFixedPoint) {
  for (const char* text : {R"([{"b":[],"a":{"d":null,"c":"\u001f\u007f"}},"x",-1,0.5])",
                           R"({"z":1,"é":2,"e":3,"E":4})", "[]", "{}", "\"\"", "true"}) {
    const std::string once = Canonical(text);
    EXPECT_EQ(Canonical(once), once) << text;
  }
  EXPECT_EQ(Canonical(R"({"z":1,"é":2,"e":3,"E":4})"), "{\"E\":4,\"e\":3,\"z\":1,\"\xC3\xA9\":2}");
  // Dump keeps the input's order; only DumpCanonical sorts.
  EXPECT_EQ(ParseJson(R"({"b":1,"a":2})", nullptr)->Dump(), R"({"b":1,"a":2})");
}

}  // namespace
}  // namespace tuphap
