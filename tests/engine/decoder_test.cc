#include "zicht/engine/decoder.h"

#include <gtest/gtest.h>

#include <string>

namespace zicht::engine {
namespace {

// The four built-in types of SPEC section 2 plus a declared one, built by hand
// so the decoder is tested independently of the rule loader.
std::vector<rules::EventTypeSpec> Types() {
  using rules::FieldType;
  auto field = [](std::string name, FieldType t, std::vector<std::string> values = {},
                  bool optional = false) {
    rules::FieldSpec f;
    f.name = std::move(name);
    f.type = t;
    f.values = std::move(values);
    f.optional = optional;
    return f;
  };
  std::vector<rules::EventTypeSpec> types(3);
  types[0].type = "suspicious_transaction";
  types[0].fields = {field("amount_eur", FieldType::kNumber), field("channel", FieldType::kString),
                     field("sector", FieldType::kString)};
  types[1].type = "property_sale";
  types[1].fields = {
      field("price_eur", FieldType::kNumber),
      field("buyer_type", FieldType::kString, {"person", "company", "foreign_company"}),
      field("financing", FieldType::kString, {"mortgage", "none", "unknown"}),
      field("resale_days", FieldType::kNumber, {}, true)};
  types[2].type = "care_claim";
  types[2].fields = {field("amount_eur", FieldType::kNumber), field("urgent", FieldType::kBool),
                     field("patient_age", FieldType::kNumber, {}, true)};
  return types;
}

class DecoderTest : public ::testing::Test {
 protected:
  DecoderTest() {
    std::vector<Municipality> rows = {{"GM0363", "Amsterdam", "Noord-Holland", 931298, {}, 2024},
                                      {"GM0599", "Rotterdam", "Zuid-Holland", 670610, {}, 2024}};
    decoder_ = std::make_unique<EventDecoder>(std::make_shared<SchemaRegistry>(Types()),
                                              *MunicipalityTable::FromRows(rows));
  }

  // Decodes through an unpadded copy (the decoder must handle both).
  bool Decode(const std::string& json) { return decoder_->Decode(json, false, &event_, &error_); }
  void ExpectRejected(const std::string& json, DeadLetterReason reason,
                      const std::string& detail = "") {
    ASSERT_FALSE(Decode(json)) << json;
    EXPECT_EQ(DeadLetterReasonName(error_.reason), DeadLetterReasonName(reason))
        << json << " -> " << error_.detail;
    if (!detail.empty()) {
      EXPECT_EQ(error_.detail, detail) << json;
    }
  }

  std::unique_ptr<EventDecoder> decoder_;
  DecodedEvent event_;
  DecodeError error_;
};

TEST_F(DecoderTest, DecodesTheSpecExample) {
  ASSERT_TRUE(Decode(
      R"({"type":"suspicious_transaction","id":"fiu-000001","time":"2026-03-01T12:34:56Z","municipality":"GM0363","amount_eur":12500.0,"channel":"cash","sector":"money_transfer"})"))
      << error_.detail;
  EXPECT_EQ(event_.type, 0);
  EXPECT_EQ(event_.id, "fiu-000001");
  EXPECT_EQ(event_.time, *ParseRfc3339("2026-03-01T12:34:56Z"));
  EXPECT_EQ(event_.municipality, 0);
  ASSERT_EQ(event_.fields.size(), 3u);
  EXPECT_DOUBLE_EQ(event_.fields[0].number, 12500.0);
  EXPECT_EQ(event_.fields[1].text, "cash");

  ASSERT_TRUE(Decode(
      R"({"type":"property_sale","id":"kad-000001","time":"2026-03-02T09:00:00Z","municipality":"GM0599","price_eur":415000,"buyer_type":"company","financing":"none","resale_days":120})"));
  EXPECT_EQ(event_.fields[1].value_index, 1);  // company
  EXPECT_TRUE(event_.fields[3].present);
  // resale_days is optional: absent and null are both fine.
  ASSERT_TRUE(Decode(
      R"({"type":"property_sale","id":"kad-2","time":"2026-03-02T09:00:00Z","municipality":"GM0599","price_eur":1,"buyer_type":"person","financing":"mortgage","resale_days":null})"));
  EXPECT_FALSE(event_.fields[3].present);
  // Undeclared extra fields are allowed and ignored.
  ASSERT_TRUE(Decode(
      R"({"extra":[1,2,{"a":null}],"type":"care_claim","id":"c1","time":"2026-03-02T09:00:00+01:00","municipality":"GM0599","amount_eur":-3,"urgent":true})"));
  EXPECT_TRUE(event_.fields[1].boolean);
  EXPECT_EQ(event_.time, *ParseRfc3339("2026-03-02T08:00:00Z"));
}

TEST_F(DecoderTest, ParseErrors) {
  ExpectRejected("", DeadLetterReason::kParseError);
  ExpectRejected("{", DeadLetterReason::kParseError);
  ExpectRejected("not json", DeadLetterReason::kParseError);
  ExpectRejected("[1,2]", DeadLetterReason::kParseError, "not a JSON object but array");
  ExpectRejected("\"x\"", DeadLetterReason::kParseError);
  ExpectRejected("{\"type\":\"care_claim\"} trailing", DeadLetterReason::kParseError);
  ExpectRejected("{\"type\":\"\xff\xfe\"}", DeadLetterReason::kParseError, "not valid UTF-8");
  ExpectRejected(R"({"type":"care_claim","type":"x"})", DeadLetterReason::kParseError,
                 "duplicate key 'type'");
  // 32 levels are fine, 33 are not (the top-level object is level 1).
  std::string ok_depth = "{\"x\":" + std::string(31, '[') + std::string(31, ']') + "}";
  ExpectRejected(ok_depth, DeadLetterReason::kMissingField);
  std::string deep = "{\"x\":" + std::string(32, '[') + std::string(32, ']') + "}";
  ExpectRejected(deep, DeadLetterReason::kParseError, "nested deeper than 32 levels");
  std::string huge = "{\"x\":\"" + std::string(70000, 'a') + "\"}";
  ExpectRejected(huge, DeadLetterReason::kParseError);
  std::string mb(1 << 20, ' ');
  mb[0] = '{';
  ExpectRejected(mb, DeadLetterReason::kParseError);
}

TEST_F(DecoderTest, ReasonsInSpecOrder) {
  // missing_field: envelope first (type included), then declared fields.
  ExpectRejected(R"({"id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM0363"})",
                 DeadLetterReason::kMissingField, "type: missing");
  ExpectRejected(
      R"({"type":"care_claim","id":null,"time":"2026-03-01T00:00:00Z","municipality":"GM0363"})",
      DeadLetterReason::kMissingField, "id: missing");
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM9999","urgent":true})",
      DeadLetterReason::kMissingField, "amount_eur: missing");
  // unknown_type beats a missing declared field (the type decides the fields).
  ExpectRejected(
      R"({"type":"nope","id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM0363"})",
      DeadLetterReason::kUnknownType, "type 'nope' is not declared");
  // bad_type: wrong JSON types, values outside the declared set, bad time or id.
  ExpectRejected(R"({"type":7,"id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM0363"})",
                 DeadLetterReason::kBadType, "type: expected string, got number");
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM0363","amount_eur":"12","urgent":true})",
      DeadLetterReason::kBadType, "amount_eur: expected number, got string");
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM0363","amount_eur":1,"urgent":1})",
      DeadLetterReason::kBadType, "urgent: expected bool, got number");
  ExpectRejected(
      R"({"type":"property_sale","id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM0363","price_eur":1,"buyer_type":"alien","financing":"none"})",
      DeadLetterReason::kBadType,
      "buyer_type: 'alien' is not one of person, company, foreign_company");
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"yesterday","municipality":"GM0363","amount_eur":1,"urgent":true})",
      DeadLetterReason::kBadType, "time: 'yesterday' is not an RFC 3339 timestamp");
  ExpectRejected(
      R"({"type":"care_claim","id":"","time":"2026-03-01T00:00:00Z","municipality":"GM0363","amount_eur":1,"urgent":true})",
      DeadLetterReason::kBadType, "id: length 0 is outside 1..128");
  std::string long_id = std::string(129, 'x');
  ExpectRejected(
      R"({"type":"care_claim","id":")" + long_id +
          R"(","time":"2026-03-01T00:00:00Z","municipality":"GM0363","amount_eur":1,"urgent":true})",
      DeadLetterReason::kBadType, "id: length 129 is outside 1..128");
  // 128 characters (not bytes) are fine.
  std::string utf8_id;
  for (int i = 0; i < 128; ++i) utf8_id += "é";
  EXPECT_TRUE(Decode(
      R"({"type":"care_claim","id":")" + utf8_id +
      R"(","time":"2026-03-01T00:00:00Z","municipality":"GM0363","amount_eur":1,"urgent":true})"));
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"2026-03-01T00:00:00Z","municipality":363,"amount_eur":1,"urgent":true})",
      DeadLetterReason::kBadType, "municipality: expected string, got number");
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM0363","amount_eur":1e300,"urgent":true})",
      DeadLetterReason::kBadType);
  // unknown_municipality comes after every type check.
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"2026-03-01T00:00:00Z","municipality":"GM9999","amount_eur":1,"urgent":true})",
      DeadLetterReason::kUnknownMunicipality, "municipality 'GM9999' is not in the reference data");
  ExpectRejected(
      R"({"type":"care_claim","id":"a","time":"2026-03-01T00:00:00Z","municipality":"Amsterdam","amount_eur":1,"urgent":true})",
      DeadLetterReason::kUnknownMunicipality);
}

TEST_F(DecoderTest, SurvivesArbitraryBytes) {
  // Deterministic pseudo-random inputs: any outcome is fine, a crash is not.
  uint64_t x = 88172645463325252ULL;
  std::string base =
      R"({"type":"property_sale","id":"kad-1","time":"2026-03-02T09:00:00Z","municipality":"GM0599","price_eur":415000,"buyer_type":"company","financing":"none","resale_days":120})";
  for (int i = 0; i < 20000; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(x % 4);
    for (int e = 0; e < edits; ++e) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      size_t pos = x % (s.size() + 1);
      switch ((x >> 20) % 3) {
        case 0:
          if (pos < s.size()) s[pos] = static_cast<char>(x >> 32);
          break;
        case 1:
          s.insert(pos, 1, static_cast<char>(x >> 40));
          break;
        default:
          if (pos < s.size()) s.erase(pos, 1 + (x >> 50) % 8);
          break;
      }
    }
    DecodedEvent ev;
    DecodeError err;
    if (!decoder_->Decode(s, false, &ev, &err)) {
      EXPECT_FALSE(err.detail.empty());
    }
  }
}

// SPEC 8.3: the optional neighbourhood, its two dead-letter reasons and their
// place in the order (bad_type < unknown_municipality < unknown_neighbourhood
// < neighbourhood_mismatch).
class NeighbourhoodDecoderTest : public DecoderTest {
 protected:
  NeighbourhoodDecoderTest() {
    std::vector<Municipality> rows = {{"GM0363", "Amsterdam", "Noord-Holland", 931298, {}, 2024},
                                      {"GM0599", "Rotterdam", "Zuid-Holland", 670610, {}, 2024}};
    auto munis = *MunicipalityTable::FromRows(rows);
    auto buurten = *NeighbourhoodTable::FromRows({{"BU03630000", "Burgwallen-Oude Zijde", 0, 4000},
                                                  {"BU05990001", "Stadsdriehoek", 1, 3000}},
                                                 2);
    decoder_ = std::make_unique<EventDecoder>(std::make_shared<SchemaRegistry>(Types()), munis,
                                              DecoderOptions{}, buurten);
  }
  static std::string Event(const std::string& municipality, const std::string& neighbourhood) {
    return R"({"type":"suspicious_transaction","id":"x1","time":"2026-03-01T12:00:00Z",)"
           R"("municipality":")" +
           municipality + "\"" +
           (neighbourhood.empty() ? "" : ",\"neighbourhood\":" + neighbourhood) +
           R"(,"amount_eur":10,"channel":"cash","sector":"bank"})";
  }
};

TEST_F(NeighbourhoodDecoderTest, AcceptsAKnownNeighbourhoodOfTheMunicipality) {
  ASSERT_TRUE(Decode(Event("GM0599", "\"BU05990001\""))) << error_.detail;
  EXPECT_EQ(event_.municipality, 1);
  EXPECT_EQ(event_.neighbourhood, 1);
  ASSERT_TRUE(Decode(Event("GM0363", ""))) << error_.detail;
  EXPECT_EQ(event_.neighbourhood, -1);
  ASSERT_TRUE(Decode(Event("GM0363", "null"))) << error_.detail;  // null: absent
  EXPECT_EQ(event_.neighbourhood, -1);
}

TEST_F(NeighbourhoodDecoderTest, UnknownNeighbourhood) {
  ExpectRejected(Event("GM0363", "\"BU03639999\""), DeadLetterReason::kUnknownNeighbourhood,
                 "neighbourhood 'BU03639999' is not in the reference data");
}

TEST_F(NeighbourhoodDecoderTest, NeighbourhoodMismatch) {
  ExpectRejected(Event("GM0363", "\"BU05990001\""), DeadLetterReason::kNeighbourhoodMismatch,
                 "neighbourhood BU05990001 lies in GM0599, not in GM0363");
}

TEST_F(NeighbourhoodDecoderTest, MalformedNeighbourhoodIsBadType) {
  ExpectRejected(Event("GM0363", "42"), DeadLetterReason::kBadType,
                 "neighbourhood: expected string, got number");
  ExpectRejected(Event("GM0363", "\"BU0363000\""), DeadLetterReason::kBadType,
                 "neighbourhood: 'BU0363000' is not a CBS buurt code (BU + 8 digits)");
  ExpectRejected(Event("GM0363", "\"bu03630000\""), DeadLetterReason::kBadType);
}

TEST_F(NeighbourhoodDecoderTest, ReasonsInSpecOrder) {
  // bad_type (malformed buurt) before unknown_municipality.
  ExpectRejected(Event("GM9999", "\"BUxx\""), DeadLetterReason::kBadType);
  // unknown_municipality before unknown_neighbourhood and the mismatch.
  ExpectRejected(Event("GM9999", "\"BU99990000\""), DeadLetterReason::kUnknownMunicipality);
  ExpectRejected(Event("GM9999", "\"BU05990001\""), DeadLetterReason::kUnknownMunicipality);
  // unknown_neighbourhood before the mismatch: a code in no table lies nowhere.
  ExpectRejected(Event("GM0599", "\"BU03631234\""), DeadLetterReason::kUnknownNeighbourhood);
  // a duplicate envelope key stays a parse error.
  ExpectRejected(Event("GM0363", "\"BU03630000\",\"neighbourhood\":\"BU03630000\""),
                 DeadLetterReason::kParseError, "duplicate key 'neighbourhood'");
}

TEST_F(DecoderTest, WithoutATableANeighbourhoodIsCheckedForItsFormOnly) {
  const std::string event =
      R"({"type":"suspicious_transaction","id":"x1","time":"2026-03-01T12:00:00Z",)"
      R"("municipality":"GM0363","neighbourhood":"BU12345678","amount_eur":10,)"
      R"("channel":"cash","sector":"bank"})";
  ASSERT_TRUE(Decode(event)) << error_.detail;
  EXPECT_EQ(event_.neighbourhood, -1);
  ExpectRejected(
      R"({"type":"suspicious_transaction","id":"x1","time":"2026-03-01T12:00:00Z",)"
      R"("municipality":"GM0363","neighbourhood":"B1","amount_eur":10,"channel":"cash","sector":"bank"})",
      DeadLetterReason::kBadType);
}

// Mergers (SPEC 8.3): an old code is never unknown_municipality (an alias
// names its new code's row), and a buurt of an old code is no mismatch for an
// event that names the new code, nor the other way round.
TEST_F(NeighbourhoodDecoderTest, MergedCodesAndTheirBuurten) {
  std::vector<Municipality> rows = {{"GM0363", "Amsterdam", "Noord-Holland", 931298, {}, 2024},
                                    {"GM0599", "Rotterdam", "Zuid-Holland", 670610, {}, 2024},
                                    {"GM0457", "Weesp", "Noord-Holland", 21000, {}, 2021}};
  auto munis = *MunicipalityTable::FromRows(rows, "munis", {}, {}, {{"GM0500", 1}});
  auto buurten = *NeighbourhoodTable::FromRows(
      {{"BU03630000", "Burgwallen-Oude Zijde", 0, 4000}, {"BU04570001", "Weesp-Centrum", 2, 5000}},
      3);
  // Weesp (2) merges into Amsterdam (0); GM0500 is an alias of Rotterdam.
  decoder_ = std::make_unique<EventDecoder>(std::make_shared<SchemaRegistry>(Types()), munis,
                                            DecoderOptions{}, buurten, std::vector<int>{0, 1, 0});
  ASSERT_TRUE(Decode(Event("GM0500", ""))) << error_.detail;
  EXPECT_EQ(event_.municipality, 1);
  ASSERT_TRUE(Decode(Event("GM0363", "\"BU04570001\""))) << error_.detail;
  EXPECT_EQ(event_.municipality, 0);
  EXPECT_EQ(event_.neighbourhood, 1);
  ASSERT_TRUE(Decode(Event("GM0457", "\"BU03630000\""))) << error_.detail;
  EXPECT_EQ(event_.municipality, 2);
  ExpectRejected(Event("GM0599", "\"BU04570001\""), DeadLetterReason::kNeighbourhoodMismatch,
                 "neighbourhood BU04570001 lies in GM0457, not in GM0599");
}

}  // namespace
}  // namespace zicht::engine
