"""The batch baseline of bench/run: the peer-benchmark job as an analyst would
write it in pandas, single-threaded, over the whole JSONL file at once.

Reads the feed in chunks (10 M events do not fit comfortably as Python
objects), counts events per municipality and UTC day for the six indicators
of bench/packs/peer-benchmark.yaml, takes rolling windows over a complete day
x municipality grid, divides by population, compares with the national rate
(all municipalities pooled, same day) and applies min_events, the threshold and
the 30-day cooldown. Batch has no lateness: every event counts, and each day is
evaluated once, at its end.

Usage: indicators.py FEED.jsonl MUNICIPALITIES.csv ALERTS.jsonl
Prints one JSON line: events, days, alerts, seconds.
"""
import json
import sys
import time

import pandas as pd

VULNERABLE = ["barbershop", "nail_salon", "car_wash", "minimarket", "phone_shop"]
# indicator: (daily column, count column for min_events, window days, per)
INDICATORS = {
    "fiu_reports": ("fiu", "fiu", 30, 1000),
    "cash_reports": ("cash", "cash", 90, 1000),
    "reported_amount": ("amount", "fiu", 90, 10000),
    "company_purchases": ("company", "company", 365, 1000),
    "drug_sites": ("drug", "drug", 365, 1000),
    "vulnerable_registrations": ("vulnerable", "vulnerable", 180, 1000),
}
# rule: (indicator, threshold, min_events); cooldown 30 days for all
RULES = {
    "cash-above-national": ("cash_reports", 1.8, 20),
    "amount-above-national": ("reported_amount", 2.0, 20),
    "company-purchases-above-national": ("company_purchases", 2.0, 10),
    "drug-sites-above-national": ("drug_sites", 3.0, 5),
    "vulnerable-registrations-above-national": ("vulnerable_registrations", 2.0, 10),
    "reports-above-national": ("fiu_reports", 1.8, 20),
}
COOLDOWN_DAYS = 30


def daily_counts(chunk):
    day = pd.to_datetime(chunk["time"], utc=True, format="ISO8601").dt.floor("D")
    st = chunk["type"] == "suspicious_transaction"
    frame = pd.DataFrame({
        "municipality": chunk["municipality"],
        "day": day,
        "fiu": st.astype("int64"),
        "cash": (st & (chunk["channel"] == "cash")).astype("int64"),
        "amount": chunk["amount_eur"].where(st, 0.0).fillna(0.0),
        "company": ((chunk["type"] == "property_sale")
                    & chunk["buyer_type"].isin(["company", "foreign_company"])).astype("int64"),
        "drug": (chunk["type"] == "drug_finding").astype("int64"),
        "vulnerable": ((chunk["type"] == "business_registration")
                       & chunk["sector"].isin(VULNERABLE)).astype("int64"),
    })
    return frame.groupby(["municipality", "day"]).sum()


def main():
    feed, munis_csv, alerts_path = sys.argv[1:4]
    start = time.time()
    munis = pd.read_csv(munis_csv, dtype={"code": str}).set_index("code")
    population = munis["population"].astype("float64")
    total_population = float(population.sum())

    parts, events = [], 0
    for chunk in pd.read_json(feed, lines=True, chunksize=500_000, dtype=False):
        chunk = chunk.reindex(columns=["type", "time", "municipality", "amount_eur", "channel",
                                       "buyer_type", "sector"])
        events += len(chunk)
        parts.append(daily_counts(chunk))
    daily = pd.concat(parts).groupby(level=["municipality", "day"]).sum()

    days = pd.date_range(daily.index.get_level_values("day").min(),
                         daily.index.get_level_values("day").max(), freq="D")
    grid = {}
    for column in ["fiu", "cash", "amount", "company", "drug", "vulnerable"]:
        wide = daily[column].unstack("municipality").reindex(index=days, columns=munis.index)
        grid[column] = wide.fillna(0.0)

    alerts = []
    for rule, (indicator, threshold, min_events) in RULES.items():
        column, count_column, window, per = INDICATORS[indicator]
        value = grid[column].rolling(window, min_periods=1).sum()
        count = grid[count_column].rolling(window, min_periods=1).sum()
        rate = value.div(population, axis=1) * per
        national = value.sum(axis=1) / total_population * per
        ratio = rate.div(national.where(national > 0), axis=0)
        holds = (ratio >= threshold) & (count >= min_events)
        for municipality in holds.columns[holds.any()]:
            last = None
            for day in holds.index[holds[municipality].to_numpy()]:
                if last is None or (day - last).days >= COOLDOWN_DAYS:
                    alerts.append({"rule": rule, "municipality": municipality,
                                   "event_time": day.strftime("%Y-%m-%dT23:59:59Z"),
                                   "national_ratio": float(ratio.at[day, municipality])})
                    last = day
    with open(alerts_path, "w") as out:
        for a in alerts:
            out.write(json.dumps(a) + "\n")
    print(json.dumps({"events": events, "days": len(days), "alerts": len(alerts),
                      "seconds": time.time() - start}))


if __name__ == "__main__":
    main()
