package nl.zicht.peer;

/**
 * The job of bench/packs/peer-benchmark.yaml, written out as a Kafka Streams
 * team would: a fixed table of windowed slots and threshold rules. (In zicht
 * the same job is YAML; here a new indicator is a code change.)
 */
final class Job {
  private Job() {}

  static final long DAY_MS = 86_400_000L;
  static final long ALLOWED_LATENESS_MS = DAY_MS;
  static final long COOLDOWN_MS = 30 * DAY_MS;
  /** Sums are kept in micro-euros (as zicht does), so window sums are exact integers. */
  static final double FIXED_SCALE = 1e6;

  // Windowed slots: what is counted per (municipality, UTC day).
  static final int FIU_30 = 0; // suspicious_transaction, 30d
  static final int CASH_90 = 1; // suspicious_transaction channel=cash, 90d
  static final int AMOUNT_SUM_90 = 2; // sum of amount_eur (micro-euro), 90d
  static final int AMOUNT_N_90 = 3; // suspicious_transaction, 90d: the count of the amount indicator
  static final int COMPANY_365 = 4; // property_sale buyer_type company|foreign_company, 365d
  static final int DRUG_365 = 5; // drug_finding, 365d
  static final int VULNERABLE_180 = 6; // business_registration in vulnerable sectors, 180d
  static final int SLOTS = 7;
  static final int[] WINDOW_DAYS = {30, 90, 90, 90, 365, 365, 180};
  static final int MAX_WINDOW_DAYS = 365;

  /** A national_ratio >= threshold rule on one indicator. */
  record Rule(String id, int valueSlot, int countSlot, boolean sum, double per, double threshold,
      long minEvents) {}

  static final Rule[] RULES = {
    new Rule("cash-above-national", CASH_90, CASH_90, false, 1000, 1.8, 20),
    new Rule("amount-above-national", AMOUNT_SUM_90, AMOUNT_N_90, true, 10000, 2.0, 20),
    new Rule("company-purchases-above-national", COMPANY_365, COMPANY_365, false, 1000, 2.0, 10),
    new Rule("drug-sites-above-national", DRUG_365, DRUG_365, false, 1000, 3.0, 5),
    new Rule("vulnerable-registrations-above-national", VULNERABLE_180, VULNERABLE_180, false, 1000,
        2.0, 10),
    new Rule("reports-above-national", FIU_30, FIU_30, false, 1000, 1.8, 20),
  };
  static final int CASH_RULE = 0, AMOUNT_RULE = 1, COMPANY_RULE = 2, DRUG_RULE = 3,
      VULNERABLE_RULE = 4, REPORTS_RULE = 5;

  static boolean isVulnerableSector(String sector) {
    if (sector == null) return false;
    switch (sector) {
      case "barbershop":
      case "nail_salon":
      case "car_wash":
      case "minimarket":
      case "phone_shop":
        return true;
      default:
        return false;
    }
  }

  /**
   * Adds the event's contribution to `delta` (length SLOTS) and returns a bit
   * set of the rules whose indicator counted it; -1 when the event is invalid.
   */
  static int contribution(Event e, long[] delta) {
    if (e.type == null) return -1;
    switch (e.type) {
      case "suspicious_transaction": {
        if (e.amount_eur == null || e.channel == null) return -1;
        int rules = (1 << REPORTS_RULE) | (1 << AMOUNT_RULE);
        delta[FIU_30] = 1;
        delta[AMOUNT_N_90] = 1;
        delta[AMOUNT_SUM_90] = Math.round(e.amount_eur * FIXED_SCALE);
        if (e.channel.equals("cash")) {
          delta[CASH_90] = 1;
          rules |= 1 << CASH_RULE;
        }
        return rules;
      }
      case "property_sale": {
        if (e.buyer_type == null) return -1;
        if (e.buyer_type.equals("company") || e.buyer_type.equals("foreign_company")) {
          delta[COMPANY_365] = 1;
          return 1 << COMPANY_RULE;
        }
        return 0;
      }
      case "drug_finding":
        delta[DRUG_365] = 1;
        return 1 << DRUG_RULE;
      case "business_registration":
        if (e.sector == null) return -1;
        if (isVulnerableSector(e.sector)) {
          delta[VULNERABLE_180] = 1;
          return 1 << VULNERABLE_RULE;
        }
        return 0;
      default:
        return -1;
    }
  }
}
