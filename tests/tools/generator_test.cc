// Tests of the synthetic feed: determinism, SPEC validity of every line,
// realism (population scaling, weekly pattern, lateness) and planted anomalies.
#include "zicht/tools/generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "zicht/base/time.h"

namespace zicht::tools {
namespace {

const std::vector<FeedMunicipality>& Municipalities() {
  static const std::vector<FeedMunicipality> table = [] {
    auto loaded = reference::MunicipalityTable::Load(std::string(ZICHT_SOURCE_DIR) +
                                                     "/config/reference/municipalities.csv");
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return loaded.ok() ? (*loaded)->rows() : std::vector<FeedMunicipality>{};
  }();
  return table;
}

struct Feed {
  std::string events;
  std::string truth;
  GeneratorStats stats;
};

Feed Generate(const GeneratorOptions& options) {
  std::ostringstream events;
  std::ostringstream truth;
  auto stats = GenerateFeed(options, Municipalities(), events, &truth);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  Feed feed;
  feed.events = std::move(events).str();
  feed.truth = std::move(truth).str();
  if (stats.ok()) feed.stats = std::move(stats).value();
  return feed;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t end = text.find('\n');
    EXPECT_NE(end, std::string_view::npos) << "every line ends with a newline";
    if (end == std::string_view::npos) break;
    out.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  return out;
}

// ------------------------------------------------------------ an independent SPEC check

enum class Verdict {
  kValid,
  kParseError,
  kMissingField,
  kBadType,
  kUnknownMunicipality,
  kDuplicate
};

struct Event {
  int type = 0;  // EventKind
  TimeMs time = 0;
  int municipality = 0;
  std::string channel, buyer_type, financing, sector, kind;
  bool has_resale = false;
  double resale_days = 0;
};

const std::array<std::string_view, 4> kTypes = {"suspicious_transaction", "property_sale",
                                                "business_registration", "drug_finding"};
const std::array<std::string_view, 4> kPrefixes = {"fiu-", "kad-", "kvk-", "pol-"};
const std::set<std::string, std::less<>> kVulnerable = {"barbershop", "nail_salon", "car_wash",
                                                        "minimarket", "phone_shop"};

class SpecChecker {
 public:
  SpecChecker() {
    for (size_t i = 0; i < Municipalities().size(); ++i) {
      index_[Municipalities()[i].code] = static_cast<int>(i);
    }
  }

  // Classifies one line the way SPEC section 2 orders the reasons (too_late aside).
  Verdict Check(std::string_view line, Event* event) {
    simdjson::dom::element doc;
    if (parser_.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) {
      return Verdict::kParseError;
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return Verdict::kParseError;
    // Field name -> JSON value, for the presence checks below (views into the
    // parser's buffer, valid until the next line).
    fields_.clear();
    for (auto [key, value] : obj) fields_.emplace_back(key, value);
    auto get = [&](std::string_view name) -> const simdjson::dom::element* {
      for (const auto& [key, value] : fields_) {
        if (key == name) return value.is_null() ? nullptr : &value;
      }
      return nullptr;
    };
    for (auto name : {"type", "id", "time", "municipality"}) {
      if (get(name) == nullptr) return Verdict::kMissingField;
    }
    std::string_view type;
    if (get("type")->get_string().get(type) != simdjson::SUCCESS) return Verdict::kBadType;
    auto type_it = std::find(kTypes.begin(), kTypes.end(), type);
    if (type_it == kTypes.end()) return Verdict::kBadType;  // no unknown types in the feed
    event->type = static_cast<int>(type_it - kTypes.begin());

    // Declared fields: name, is_number, allowed values (empty = any), optional.
    struct Declared {
      const char* name;
      bool number;
      std::vector<std::string_view> values;
      bool optional;
    };
    static const std::vector<Declared> kDeclared[4] = {
        {{"amount_eur", true, {}, false},
         {"channel", false, {"cash", "wire", "money_transfer", "crypto", "card", "cheque"}, false},
         {"sector", false, {}, false}},
        {{"price_eur", true, {}, false},
         {"buyer_type", false, {"person", "company", "foreign_company"}, false},
         {"financing", false, {"mortgage", "none", "unknown"}, false},
         {"resale_days", true, {}, true}},
        {{"sbi", false, {}, false}, {"sector", false, {}, false}, {"revenue_eur", true, {}, false}},
        {{"kind", false, {"hemp_plantation", "synthetic_lab", "drug_storage"}, false},
         {"property", false, {"residential", "business", "rural"}, false}},
    };
    const auto& declared = kDeclared[event->type];
    for (const auto& d : declared) {
      if (!d.optional && get(d.name) == nullptr) return Verdict::kMissingField;
    }
    // Nothing undeclared either: the feed carries exactly the SPEC fields.
    size_t absent_optional = 0;
    for (const auto& d : declared) absent_optional += d.optional && get(d.name) == nullptr;
    EXPECT_EQ(fields_.size(), 4 + declared.size() - absent_optional) << line;

    std::string_view id;
    if (get("id")->get_string().get(id) != simdjson::SUCCESS || id.empty() || id.size() > 128) {
      return Verdict::kBadType;
    }
    EXPECT_EQ(id.substr(0, 4), kPrefixes[event->type]) << line;
    std::string_view time;
    if (get("time")->get_string().get(time) != simdjson::SUCCESS) return Verdict::kBadType;
    auto parsed_time = ParseRfc3339(time);
    if (!parsed_time) return Verdict::kBadType;
    EXPECT_EQ(time.back(), 'Z') << "UTC: " << line;
    event->time = *parsed_time;
    std::string_view code;
    if (get("municipality")->get_string().get(code) != simdjson::SUCCESS) return Verdict::kBadType;

    for (const auto& d : declared) {
      const auto* value = get(d.name);
      if (value == nullptr) continue;
      if (d.number) {
        double number;
        if (value->get_double().get(number) != simdjson::SUCCESS) return Verdict::kBadType;
        EXPECT_GE(number, 0) << line;
        if (std::string_view(d.name) == "resale_days") {
          event->has_resale = true;
          event->resale_days = number;
        }
      } else {
        std::string_view text;
        if (value->get_string().get(text) != simdjson::SUCCESS) return Verdict::kBadType;
        if (!d.values.empty() &&
            std::find(d.values.begin(), d.values.end(), text) == d.values.end()) {
          return Verdict::kBadType;
        }
        std::string_view name = d.name;
        if (name == "channel") event->channel = text;
        if (name == "buyer_type") event->buyer_type = text;
        if (name == "financing") event->financing = text;
        if (name == "sector") event->sector = text;
        if (name == "kind") event->kind = text;
        if (name == "sbi") {
          EXPECT_EQ(text.size(), 5u) << line;
        }
      }
    }
    auto found = index_.find(std::string(code));
    if (found == index_.end()) return Verdict::kUnknownMunicipality;
    event->municipality = found->second;
    if (!seen_.insert(std::string(type) + "|" + std::string(id)).second) return Verdict::kDuplicate;
    return Verdict::kValid;
  }

 private:
  simdjson::dom::parser parser_;
  std::vector<std::pair<std::string_view, simdjson::dom::element>> fields_;
  std::unordered_map<std::string, int> index_;
  std::unordered_set<std::string> seen_;
};

struct Checked {
  std::vector<Event> events;  // valid ones, in delivery order
  std::map<Verdict, int64_t> verdicts;
  int64_t out_of_order = 0;  // valid events older than one delivered before them
  int64_t too_late = 0;      // valid events older than the watermark (max time - 1d)
};

Checked CheckFeed(const std::string& text) {
  SpecChecker checker;
  Checked out;
  TimeMs max_time = kMinTime;
  for (std::string_view line : Lines(text)) {
    Event e;
    Verdict v = checker.Check(line, &e);
    ++out.verdicts[v];
    if (v != Verdict::kValid) continue;
    if (e.time < max_time) ++out.out_of_order;
    if (e.time < max_time - kMsPerDay) ++out.too_late;
    max_time = std::max(max_time, e.time);
    out.events.push_back(std::move(e));
  }
  return out;
}

// A year of feed, shared by the tests that look at its statistics.
const Feed& YearFeed() {
  static const Feed feed = [] {
    GeneratorOptions options;
    options.days = 365;
    options.seed = 1;
    return Generate(options);
  }();
  return feed;
}

const Checked& YearChecked() {
  static const Checked checked = CheckFeed(YearFeed().events);
  return checked;
}

// ------------------------------------------------------------ tests

TEST(Generator, SameSeedGivesTheSameBytes) {
  GeneratorOptions options;
  options.days = 30;
  options.seed = 77;
  Feed a = Generate(options);
  Feed b = Generate(options);
  ASSERT_GT(a.events.size(), 1000u);
  EXPECT_TRUE(a.events == b.events);
  EXPECT_EQ(a.truth, b.truth);
  options.seed = 78;
  Feed c = Generate(options);
  EXPECT_FALSE(a.events == c.events);
}

TEST(Generator, CleanFeedHasTheSameEventsWithoutBadLines) {
  GeneratorOptions options;
  options.days = 45;
  options.seed = 3;
  Feed dirty = Generate(options);
  options.clean = true;
  Feed clean = Generate(options);
  EXPECT_EQ(clean.stats.bad_line_total(), 0);
  EXPECT_GT(dirty.stats.bad_line_total(), 0);
  Checked checked = CheckFeed(clean.events);
  EXPECT_EQ(checked.verdicts.size(), 1u) << "every clean line is a valid, new event";
  // The corrupted events of the dirty feed are whole in the clean one; the
  // duplicates are gone.
  int64_t corrupted = dirty.stats.bad_line_total() -
                      dirty.stats.bad_lines[static_cast<int>(BadLineKind::kDuplicate)];
  EXPECT_EQ(clean.stats.valid_event_total(), dirty.stats.valid_event_total() + corrupted);
  EXPECT_EQ(clean.stats.lines, clean.stats.valid_event_total());
  EXPECT_EQ(clean.truth, dirty.truth);
}

TEST(Generator, EveryLineIsValidExceptTheDeclaredBadOnes) {
  const Feed& feed = YearFeed();
  const Checked& checked = YearChecked();
  const auto& bad = feed.stats.bad_lines;
  auto verdict = [&](Verdict v) {
    auto it = checked.verdicts.find(v);
    return it == checked.verdicts.end() ? 0 : it->second;
  };
  EXPECT_EQ(verdict(Verdict::kParseError), bad[static_cast<int>(BadLineKind::kMalformedJson)]);
  EXPECT_EQ(verdict(Verdict::kMissingField), bad[static_cast<int>(BadLineKind::kMissingField)]);
  EXPECT_EQ(verdict(Verdict::kUnknownMunicipality),
            bad[static_cast<int>(BadLineKind::kUnknownMunicipality)]);
  EXPECT_EQ(verdict(Verdict::kBadType), bad[static_cast<int>(BadLineKind::kWrongType)]);
  EXPECT_EQ(verdict(Verdict::kDuplicate), bad[static_cast<int>(BadLineKind::kDuplicate)]);
  EXPECT_EQ(verdict(Verdict::kValid), feed.stats.valid_event_total());
  EXPECT_EQ(static_cast<int64_t>(Lines(feed.events).size()), feed.stats.lines);
  for (int kind = 0; kind < kBadLineKindCount; ++kind) EXPECT_GT(bad[kind], 0) << kind;
  // About 0.1% bad lines.
  double bad_share =
      static_cast<double>(feed.stats.bad_line_total()) / static_cast<double>(feed.stats.lines);
  EXPECT_GT(bad_share, 0.0006);
  EXPECT_LT(bad_share, 0.0015);
}

TEST(Generator, AYearHasAboutAMillionEvents) {
  const Feed& feed = YearFeed();
  int64_t total = feed.stats.valid_event_total();
  EXPECT_GT(total, 900000);
  EXPECT_LT(total, 1100000);
  std::array<int64_t, 4> by_type{};
  for (const Event& e : YearChecked().events) ++by_type[static_cast<size_t>(e.type)];
  for (int t = 0; t < kEventKindCount; ++t) EXPECT_EQ(by_type[t], feed.stats.valid_events[t]);
  // Drug findings are rare: a few per municipality per year on average.
  double per_municipality =
      static_cast<double>(by_type[3]) / static_cast<double>(Municipalities().size());
  EXPECT_GT(per_municipality, 2);
  EXPECT_LT(per_municipality, 8);
}

TEST(Generator, FieldMixesAreRealistic) {
  int64_t transactions = 0, cash = 0, sales = 0, companies = 0, foreign = 0, no_mortgage = 0,
          unknown = 0, resales = 0;
  for (const Event& e : YearChecked().events) {
    if (e.type == 0) {
      ++transactions;
      cash += e.channel == "cash";
    } else if (e.type == 1) {
      ++sales;
      companies += e.buyer_type == "company";
      foreign += e.buyer_type == "foreign_company";
      no_mortgage += e.financing == "none";
      unknown += e.financing == "unknown";
      resales += e.has_resale;
    }
  }
  auto share = [](int64_t part, int64_t whole) {
    return static_cast<double>(part) / static_cast<double>(whole);
  };
  // Anomalies push these up a little from their base values.
  EXPECT_NEAR(share(cash, transactions), 0.36, 0.03);
  EXPECT_NEAR(share(companies, sales), 0.125, 0.02);
  EXPECT_NEAR(share(foreign, sales), 0.021, 0.006);
  EXPECT_NEAR(share(no_mortgage, sales), 0.165, 0.03);
  EXPECT_NEAR(share(unknown, sales), 0.057, 0.01);
  EXPECT_NEAR(share(resales, sales), 0.30, 0.03);
}

double Correlation(const std::vector<double>& x, const std::vector<double>& y) {
  double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / n, my += y[i] / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(Generator, CountsScaleWithPopulationAndDipAtWeekends) {
  GeneratorOptions options;
  options.days = 60;
  options.seed = 11;
  Feed feed = Generate(options);
  Checked checked = CheckFeed(feed.events);
  size_t n = Municipalities().size();
  std::vector<double> population(n), counts(n);
  for (size_t i = 0; i < n; ++i)
    population[i] = static_cast<double>(Municipalities()[i].population);
  // weekday (0 = Monday) x type
  std::array<std::array<double, 4>, 7> by_weekday{};
  std::array<int, 7> days_per_weekday{};
  for (const Event& e : checked.events) {
    counts[static_cast<size_t>(e.municipality)] += 1;
    int64_t day = FloorDiv(e.time, kMsPerDay);
    by_weekday[static_cast<size_t>((day + 3) % 7)][static_cast<size_t>(e.type)] += 1;
  }
  EXPECT_GT(Correlation(population, counts), 0.95);
  // Every municipality has events, the biggest the most.
  EXPECT_GT(*std::min_element(counts.begin(), counts.end()), 0);

  int64_t first_day = FloorDiv(*ParseRfc3339("2026-01-01T00:00:00Z"), kMsPerDay);
  for (int d = 0; d < 60; ++d) ++days_per_weekday[static_cast<size_t>((first_day + d + 3) % 7)];
  auto per_day = [&](int weekday, int type) {
    return by_weekday[static_cast<size_t>(weekday)][static_cast<size_t>(type)] /
           days_per_weekday[static_cast<size_t>(weekday)];
  };
  for (int type = 0; type < 3; ++type) {
    double weekday_mean = 0;
    for (int d = 0; d < 5; ++d) weekday_mean += per_day(d, type) / 5;
    EXPECT_LT(per_day(6, type), 0.6 * weekday_mean) << kTypes[static_cast<size_t>(type)];
    EXPECT_LT(per_day(5, type), 0.8 * weekday_mean) << kTypes[static_cast<size_t>(type)];
    if (type != 0) {
      // Property sales and registrations: almost none on Sunday.
      EXPECT_LT(per_day(6, type), 0.05 * weekday_mean) << kTypes[static_cast<size_t>(type)];
    }
  }
}

TEST(Generator, FewEventsArriveOutOfOrderAndSomeTooLate) {
  const Feed& feed = YearFeed();
  const Checked& checked = YearChecked();
  double events = static_cast<double>(checked.events.size());
  double out_of_order = static_cast<double>(checked.out_of_order) / events;
  EXPECT_GT(out_of_order, 0.007);
  EXPECT_LT(out_of_order, 0.015);
  // Exactly the events the generator delayed beyond 1 day are older than the
  // watermark when they arrive; no event delayed within 1 day is.
  EXPECT_EQ(checked.too_late, feed.stats.delayed_beyond_lateness);
  double too_late = static_cast<double>(checked.too_late) / events;
  EXPECT_GT(too_late, 0.0003);
  EXPECT_LT(too_late, 0.0008);
  // A delayed event is out of order unless nothing happened while it was
  // delayed (a few minutes at night).
  int64_t delayed = feed.stats.delayed_within_lateness + feed.stats.delayed_beyond_lateness;
  EXPECT_LE(checked.out_of_order, delayed);
  EXPECT_GE(checked.out_of_order, delayed * 9 / 10);
}

TEST(Generator, PlansAnomaliesOfEveryKindAcrossSizes) {
  const auto& anomalies = YearFeed().stats.anomalies;
  ASSERT_GE(anomalies.size(), 12u);
  ASSERT_LE(anomalies.size(), 20u);
  std::vector<int64_t> populations;
  for (const auto& m : Municipalities()) populations.push_back(m.population);
  std::sort(populations.begin(), populations.end());
  int64_t smallest_tenth = populations[populations.size() / 10];
  int64_t median = populations[populations.size() / 2];
  std::set<AnomalyKind> kinds;
  std::set<size_t> places;
  int below_median = 0;
  for (const auto& a : anomalies) {
    kinds.insert(a.kind);
    EXPECT_TRUE(places.insert(a.municipality).second) << "one anomaly per municipality";
    int64_t population = Municipalities()[a.municipality].population;
    EXPECT_GE(population, smallest_tenth);
    below_median += population < median;
    int duration = a.last_day - a.first_day + 1;
    EXPECT_GE(duration, 30);
    EXPECT_LE(duration, 120);
    EXPECT_GE(a.first_day, 60);
    EXPECT_LT(a.last_day, 365);
    EXPECT_GE(a.factor, 3.5);
    if (a.kind == AnomalyKind::kCombined) {
      EXPECT_GE(a.drug_factor, 6);
    }
  }
  EXPECT_EQ(kinds.size(), static_cast<size_t>(kAnomalyKindCount));
  EXPECT_GE(below_median, 2) << "small municipalities get anomalies too";

  // The truth file lists them, one JSON line each.
  std::vector<std::string_view> truth = Lines(YearFeed().truth);
  ASSERT_EQ(truth.size(), anomalies.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < truth.size(); ++i) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(truth[i].data(), truth[i].size()).get(doc), simdjson::SUCCESS);
    const auto& a = anomalies[i];
    const auto& m = Municipalities()[a.municipality];
    EXPECT_EQ(std::string_view(doc["kind"]), AnomalyKindName(a.kind));
    EXPECT_EQ(std::string_view(doc["municipality"]), m.code);
    EXPECT_EQ(std::string_view(doc["municipality_name"]), m.name);
    EXPECT_EQ(
        std::string_view(doc["start"]),
        FormatDate((FloorDiv(*ParseRfc3339("2026-01-01T00:00:00Z"), kMsPerDay) + a.first_day) *
                   kMsPerDay));
    EXPECT_EQ(double(doc["factor"]), a.factor);
  }
}

// Whether an event is one that an anomaly of `kind` multiplies.
bool Targeted(AnomalyKind kind, const Event& e) {
  switch (kind) {
    case AnomalyKind::kCashSurge:
      return e.type == 0 && e.channel == "cash";
    case AnomalyKind::kCompanyProperty:
    case AnomalyKind::kCombined:
      return e.type == 1 && e.buyer_type != "person";
    case AnomalyKind::kQuickResale:
      return e.type == 1 && e.financing == "none";
    case AnomalyKind::kDrugProduction:
      return e.type == 3;
    case AnomalyKind::kVulnerableSector:
      return e.type == 2 && kVulnerable.contains(e.sector);
  }
  return false;
}

TEST(Generator, AnomaliesAreVisibleInTheData) {
  const auto& anomalies = YearFeed().stats.anomalies;
  int64_t first_day = FloorDiv(*ParseRfc3339("2026-01-01T00:00:00Z"), kMsPerDay);
  for (const auto& a : anomalies) {
    std::vector<AnomalyKind> signals = {a.kind};
    if (a.kind == AnomalyKind::kCombined) signals.push_back(AnomalyKind::kDrugProduction);
    for (AnomalyKind signal : signals) {
      double inside = 0, outside = 0, quick_inside = 0;
      for (const Event& e : YearChecked().events) {
        if (e.municipality != static_cast<int>(a.municipality) || !Targeted(signal, e)) continue;
        int64_t day = FloorDiv(e.time, kMsPerDay) - first_day;
        bool in = day >= a.first_day && day <= a.last_day;
        (in ? inside : outside) += 1;
        quick_inside += in && e.has_resale && e.resale_days < 180;
      }
      double days_in = a.last_day - a.first_day + 1;
      double days_out = 365 - days_in;
      double ratio = (inside / days_in) / ((outside + 1) / days_out);
      EXPECT_GE(ratio, 2.5) << AnomalyKindName(a.kind) << " in "
                            << Municipalities()[a.municipality].name << ": " << inside << " in "
                            << days_in << " days, " << outside << " in " << days_out;
      EXPECT_GE(inside, 12) << AnomalyKindName(a.kind);
      if (a.kind == AnomalyKind::kQuickResale) {
        EXPECT_GE(quick_inside, 0.5 * inside) << "the extra sales are quick resales";
      }
    }
  }
}

TEST(Generator, ScaleMultipliesTheRates) {
  GeneratorOptions options;
  options.days = 20;
  options.seed = 9;
  options.clean = true;
  Feed one = Generate(options);
  options.scale = 3;
  Feed three = Generate(options);
  double ratio = static_cast<double>(three.stats.valid_event_total()) /
                 static_cast<double>(one.stats.valid_event_total());
  EXPECT_NEAR(ratio, 3.0, 0.05);
  EXPECT_EQ(one.truth, three.truth) << "the planted anomalies do not depend on the scale";
}

TEST(Generator, RejectsBadOptionsAndTables) {
  GeneratorOptions options;
  options.days = 0;
  EXPECT_FALSE(options.Validate().ok());
  options.days = 10;
  EXPECT_TRUE(options.Validate().ok());
  options.start_date = "2026-02-30";
  EXPECT_FALSE(options.Validate().ok());
  options.start_date = "2026-03-01";
  options.scale = 0;
  EXPECT_FALSE(options.Validate().ok());
  options.scale = 1;
  std::ostringstream sink;
  EXPECT_FALSE(GenerateFeed(options, {}, sink, nullptr).ok());
}

TEST(Generator, ShortFeedsAndDisabledAnomaliesPlantNone) {
  GeneratorOptions options;
  options.days = 20;
  options.seed = 4;
  EXPECT_TRUE(PlanAnomalies(options, Municipalities()).empty());
  options.days = 365;
  options.anomalies = false;
  EXPECT_TRUE(PlanAnomalies(options, Municipalities()).empty());
  options.anomalies = true;
  EXPECT_FALSE(PlanAnomalies(options, Municipalities()).empty());
}

}  // namespace
}  // namespace zicht::tools
