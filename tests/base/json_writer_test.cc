#include "zicht/base/json_writer.h"

#include <gtest/gtest.h>

#include <limits>

namespace zicht {
namespace {

TEST(JsonWriterTest, WritesNestedValues) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject()
      .Key("a")
      .Int(1)
      .Key("b")
      .BeginArray()
      .String("x")
      .Double(0.5)
      .Double(2)
      .Bool(true)
      .Null()
      .EndArray();
  w.Key("c").BeginObject().EndObject().Key("d").Double(std::numeric_limits<double>::infinity());
  w.EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",0.5,2.0,true,null],"c":{},"d":null})");
}

TEST(JsonWriterTest, EscapesAndRepairsUtf8) {
  std::string out;
  JsonWriter::Escape("q\"\\\n\x01 é \xFF", &out);
  EXPECT_EQ(out, "q\\\"\\\\\\n\\u0001 é \xEF\xBF\xBD");
}

}  // namespace
}  // namespace zicht
