// The funnel plot of a count or share indicator (api.h FunnelJson): every
// municipality's observed ÷ expected count against the national rate, with
// exact control limits from Boost.Math's Poisson and binomial quantiles.
// What is shown of a municipality comes from views.h, as for the ranking.
#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/poisson.hpp>
#include <boost/math/policies/policy.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "views.h"
#include "zicht/api/api.h"
#include "zicht/api/figures.h"
#include "zicht/base/json_writer.h"

namespace zicht::api {

using engine::Engine;
using engine::IndicatorDef;
using engine::Municipality;
using engine::Plan;

using views::Number;

namespace {

namespace bmp = boost::math::policies;

// No exceptions on the engine thread (NaN instead), and the quantile of a
// discrete distribution at q is the smallest k with P(X <= k) >= q.
using QuantilePolicy =
    bmp::policy<bmp::domain_error<bmp::errno_on_error>, bmp::pole_error<bmp::errno_on_error>,
                bmp::overflow_error<bmp::errno_on_error>, bmp::underflow_error<bmp::ignore_error>,
                bmp::denorm_error<bmp::ignore_error>, bmp::evaluation_error<bmp::errno_on_error>,
                bmp::rounding_error<bmp::errno_on_error>,
                bmp::indeterminate_result_error<bmp::errno_on_error>,
                bmp::discrete_quantile<bmp::integer_round_up>>;

constexpr int kGridPoints = 60;
// Two-sided levels: 95 % (α = 0.05) and 99.8 % (α = 0.002).
constexpr double kTail95 = 0.025;
constexpr double kTail998 = 0.001;

// The distribution of the matching count of a municipality of a given size
// under the national rate: Poisson(E) for counts, Binomial(n, share) for
// shares (E = n × share).
struct Model {
  bool binomial = false;
  double share = 0;  // binomial: the national share

  // The four quantiles at tails 0.001, 0.025 (lower) and 0.975, 0.999 (upper).
  struct Quantiles {
    double lower_998, lower_95, upper_95, upper_998;
  };
  Quantiles At(double size) const {
    if (binomial) {
      boost::math::binomial_distribution<double, QuantilePolicy> d(size, share);
      return {Lower(d, kTail998), Lower(d, kTail95), Upper(d, kTail95), Upper(d, kTail998)};
    }
    boost::math::poisson_distribution<double, QuantilePolicy> d(size);
    return {Lower(d, kTail998), Lower(d, kTail95), Upper(d, kTail95), Upper(d, kTail998)};
  }
  // E of a size: n × share, or E itself.
  double Expected(double size) const { return binomial ? size * share : size; }

 private:
  template <class D>
  static double Lower(const D& d, double tail) {
    return boost::math::quantile(d, tail);
  }
  // From the complement, so that the upper tail keeps its precision.
  template <class D>
  static double Upper(const D& d, double tail) {
    return boost::math::quantile(boost::math::complement(d, tail));
  }
};

// Where O lies against its own exact limits.
const char* Band(const Model::Quantiles& q, double observed) {
  if (observed > q.upper_998) return "above_998";
  if (observed > q.upper_95) return "above_95";
  if (observed < q.lower_998) return "below_998";
  if (observed < q.lower_95) return "below_95";
  return "within";
}

// The sizes (E, or n for shares) of the limit lines: log-spaced from the
// smallest to the largest size among the shown points; n are whole numbers.
std::vector<double> Grid(const Model& model, double lo, double hi) {
  std::vector<double> out;
  if (!(lo > 0) || !(hi >= lo)) return out;
  if (lo == hi) {
    lo = model.binomial ? std::max(1.0, std::floor(lo / 2)) : lo / 2;
    hi *= 2;
  }
  for (int i = 0; i < kGridPoints; ++i) {
    double size = lo * std::pow(hi / lo, static_cast<double>(i) / (kGridPoints - 1));
    if (model.binomial) size = std::round(size);
    if (i == kGridPoints - 1) size = hi;  // exactly the largest, whatever pow rounds to
    if (out.empty() || size > out.back()) out.push_back(size);
  }
  return out;
}

}  // namespace

ApiResult FunnelJson(Engine& engine, const std::string& id, const std::string& pack,
                     const ApiOptions& options) {
  const Plan& plan = engine.plan();
  int indicator = -1;
  if (ApiResult e = views::FindIndicator(plan, id, pack, &indicator); e.status != 200) return e;
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  const bool share = ind.aggregate == rules::Aggregate::kShare;
  if (ind.reference >= 0 || (ind.aggregate != rules::Aggregate::kCount && !share)) {
    return views::Error(400, "a funnel plot needs a count or share indicator");
  }
  const std::vector<IndicatorFigures> all = IndicatorFiguresAll(engine, indicator);
  const double national = views::NationalRate(all);
  Model model;
  model.binomial = share;
  model.share = national;
  // A share of 0 or 1 (or none yet) spreads nothing: no limits.
  const bool limits = share ? national > 0 && national < 1 : national > 0;

  std::vector<views::ShownFigures> shown;
  shown.reserve(all.size());
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const IndicatorFigures& f : all) {
    shown.push_back(views::Disclose(ind, f, options));
    const views::ShownFigures& s = shown.back();
    if (s.suppressed || !(s.national_expected > 0)) continue;
    // For shares the size is the municipality's number of events (its count).
    const double size = share ? static_cast<double>(*s.count) : s.national_expected;
    lo = std::min(lo, size);
    hi = std::max(hi, size);
  }

  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("id").String(ind.spec->id);
  w.Key("pack").String(views::PackOf(plan, ind).name);
  w.Key("title").String(ind.spec->title);
  w.Key("aggregate").String(rules::AggregateName(ind.aggregate));
  w.Key("window").String(ind.spec->window.ToString());
  w.Key("disclosure_min_count").Int(options.disclosure_min_count);
  Number(w, "national_rate", national);
  w.Key("baseline").String("national");
  w.Key("model").String(share ? "binomial" : "poisson");
  w.Key("levels").BeginArray().Double(0.95).Double(0.998).EndArray();
  w.Key("limits").BeginArray();
  if (limits) {
    for (double size : Grid(model, lo, hi)) {
      const Model::Quantiles q = model.At(size);
      const double e = model.Expected(size);
      w.BeginObject();
      Number(w, "expected", e);
      if (share) w.Key("n").Int(static_cast<int64_t>(size));
      Number(w, "lower_998", q.lower_998 / e);
      Number(w, "lower_95", q.lower_95 / e);
      Number(w, "upper_95", q.upper_95 / e);
      Number(w, "upper_998", q.upper_998 / e);
      w.EndObject();
    }
  }
  w.EndArray();
  w.Key("points").BeginArray();
  for (size_t m = 0; m < all.size(); ++m) {
    const Municipality& mu = plan.municipalities().at(m);
    const views::ShownFigures& s = shown[m];
    w.BeginObject();
    w.Key("code").String(mu.code).Key("name").String(mu.name).Key("province").String(mu.province);
    w.Key("suppressed").Bool(s.suppressed);
    Number(w, "observed", s.observed);
    Number(w, "expected", s.national_expected);
    const bool placed = s.national_expected > 0 && !std::isnan(s.observed);
    Number(w, "ratio", placed ? s.observed / s.national_expected : IndicatorFigures::kNone);
    Number(w, "funnel_z", s.funnel_z);
    Number(w, "shrunk_ratio", s.shrunk_ratio);
    w.Key("band");
    if (placed && limits) {
      w.String(
          Band(model.At(share ? static_cast<double>(*s.count) : s.national_expected), s.observed));
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return {200, std::move(out)};
}

}  // namespace zicht::api
