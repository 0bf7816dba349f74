#include "gate/json.h"

#include <gtest/gtest.h>

#include <string>

namespace gate::json {
namespace {

Status ParseError(std::string_view text, std::size_t max = kMaxBodySize) {
  auto v = Parse(text, max);
  if (v.has_value()) return Status::Ok();
  return v.error();
}

TEST(JsonParseTest, AcceptsObject) {
  auto v = Parse(R"({"user":"alice","ttl":3600,"logins":["root","alice"],"x":{"y":null}})");
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ((*v)["user"].asString(), "alice");
  EXPECT_EQ(Parse("  {}  ").value(), Json::Value(Json::objectValue));
}

TEST(JsonParseTest, RejectsMalformed) {
  for (const char* text : {"", "{", "{\"a\":}", "{'a':1}", "{a:1}", "{\"a\":1,}", "{\"a\":NaN}",
                           "{\"a\":1 // c\n}", "{\"a\":\"\\x\"}", "{\"a\":1, /* c */ \"b\":2}",
                           "{\"a\":1 /* c */}", "{\"a\":\"line\nbreak\"}", "{\"a\":\"\x01\"}"}) {
    Status s = ParseError(text);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(s.message().rfind("malformed JSON", 0), 0u) << text << ": " << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
}

TEST(JsonParseTest, RejectsTrailingGarbage) {
  EXPECT_EQ(ParseError("{\"a\":1} x").code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseError("{\"a\":1}{\"b\":2}").code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseError(std::string_view("{}\0", 3)).code(), Code::kInvalidArgument);
}

TEST(JsonParseTest, RejectsDuplicateKeys) {
  Status s = ParseError(R"({"role":"user","role":"admin"})");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("malformed JSON", 0), 0u);
  EXPECT_FALSE(Parse(R"({"a":{"b":1,"b":2}})").has_value());
}

TEST(JsonParseTest, TopLevelMustBeObject) {
  for (const char* text : {"[]", "[1,2]", "1", "\"s\"", "null", "true"}) {
    Status s = ParseError(text);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
  }
  EXPECT_EQ(ParseError("[1]").message(), "malformed JSON: expected an object");
}

TEST(JsonParseTest, SizeCap) {
  std::string big = "{\"a\":\"" + std::string(kMaxBodySize, 'x') + "\"}";
  Status s = ParseError(big);
  EXPECT_EQ(s, InvalidArgument("body too large"));
  EXPECT_EQ(ParseError("{\"a\":1}", 6), InvalidArgument("body too large"));
  EXPECT_TRUE(ParseError("{\"a\":1}", 7).ok());
}

TEST(JsonParseTest, DeepNestingFailsCleanly) {
  std::string deep = "{\"a\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_EQ(ParseError(deep).code(), Code::kInvalidArgument);
}

TEST(JsonWriteTest, CompactOneLine) {
  Json::Value v(Json::objectValue);
  v["name"] = "z\u00fcrich";
  v["n"] = 3;
  v["list"] = StringArray({"a", "b"});
  std::string out = Write(v);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out, "{\"list\":[\"a\",\"b\"],\"n\":3,\"name\":\"z\u00fcrich\"}");
  EXPECT_EQ(Parse(out).value(), v);
  EXPECT_EQ(Write(Json::Value(Json::objectValue)), "{}");
}

TEST(JsonFieldTest, GetString) {
  auto v = Parse(R"({"s":"x","n":1,"z":null})").value();
  EXPECT_EQ(GetString(v, "s").value(), "x");
  EXPECT_EQ(GetString(v, "n").error(), InvalidArgument("field 'n' must be a string"));
  EXPECT_EQ(GetString(v, "z").error(), InvalidArgument("field 'z' must be a string"));
  EXPECT_EQ(GetString(v, "missing").error(), InvalidArgument("missing field 'missing'"));
  EXPECT_EQ(OptionalString(v, "missing", "d").value(), "d");
  EXPECT_EQ(OptionalString(v, "z").value(), "");
  EXPECT_EQ(OptionalString(v, "s").value(), "x");
  EXPECT_FALSE(OptionalString(v, "n").has_value());
  EXPECT_FALSE(GetString(Json::Value(Json::arrayValue), "s").has_value());
  EXPECT_FALSE(GetString(Json::Value("str"), "s").has_value());
}

TEST(JsonFieldTest, GetIntOnlyIntegers) {
  auto v = Parse(R"({"i":42,"neg":-7,"min":-9223372036854775808,"max":9223372036854775807,
                    "big":9223372036854775808,"d":5.0,"e":1e3,"s":"5","b":true})")
               .value();
  EXPECT_EQ(GetInt(v, "i").value(), 42);
  EXPECT_EQ(GetInt(v, "neg").value(), -7);
  EXPECT_EQ(GetInt(v, "min").value(), INT64_MIN);
  EXPECT_EQ(GetInt(v, "max").value(), INT64_MAX);
  for (const char* name : {"big", "d", "e", "s", "b"}) {
    auto r = GetInt(v, name);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error(), InvalidArgument(std::string("field '") + name + "' must be an integer"));
  }
  EXPECT_EQ(GetInt(v, "none").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(OptionalInt(v, "none", 9).value(), 9);
  EXPECT_EQ(OptionalInt(v, "i", 9).value(), 42);
  EXPECT_FALSE(OptionalInt(v, "d", 9).has_value());
}

TEST(JsonFieldTest, StringArrays) {
  auto v = Parse(R"({"a":["x","y"],"e":[],"mixed":["x",1],"s":"x","o":{}})").value();
  EXPECT_EQ(GetStringArray(v, "a").value(), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(GetStringArray(v, "e").value().empty());
  EXPECT_EQ(GetStringArray(v, "mixed").error(),
            InvalidArgument("field 'mixed' must be an array of strings"));
  EXPECT_FALSE(GetStringArray(v, "s").has_value());
  EXPECT_FALSE(GetStringArray(v, "o").has_value());
  EXPECT_FALSE(GetStringArray(v, "none").has_value());
  EXPECT_TRUE(OptionalStringArray(v, "none").value().empty());
  EXPECT_EQ(OptionalStringArray(v, "a").value().size(), 2u);
  EXPECT_FALSE(OptionalStringArray(v, "mixed").has_value());
}

TEST(JsonFieldTest, StringArrayBuildsArrayEvenWhenEmpty) {
  EXPECT_TRUE(StringArray({}).isArray());
  EXPECT_EQ(Write(Json::Value(StringArray({}))), "[]");
  EXPECT_EQ(StringArray({"a"})[0].asString(), "a");
}

}  // namespace
}  // namespace gate::json
