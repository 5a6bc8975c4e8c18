// zicht analyst dashboard: every municipality against the national average,
// live from the engine's JSON API (docs/openapi.yaml). Plain JavaScript, no
// build step and nothing loaded from outside the engine.
//
// Disclosure control: the API sends counts below the disclosure minimum, and
// everything derived from them, as null with `suppressed: true`. This page
// shows those as "< N" and "–" and never computes anything from a value it was
// not given (no totals, no derived rates).
'use strict';

(function () {
  const POLL_MS = Number(new URLSearchParams(location.search).get('poll')) || 4000;

  // ------------------------------------------------------------------ i18n
  const TEXT = {
    nl: {
      skip: 'Naar de inhoud', tagline: 'Zicht op Ondermijning', nav: 'Weergaven',
      nav_ranking: 'Ranglijst', nav_map: 'Kaart', nav_alerts: 'Meldingen', loading: 'Laden…',
      foot_disclosure: 'Aantallen onder de onthullingsgrens worden niet getoond (< 5), net als alles wat ervan is afgeleid.',
      foot_map: 'Kaart: gemeentegrenzen 2024, Bron: CBS, Kadaster (vereenvoudigd).', foot_api: 'JSON-API',
      updated: 'Bijgewerkt {t}', clock: 'Gebeurtenistijd {t} · {n} gebeurtenissen verwerkt', clock_none: 'Nog geen gebeurtenissen verwerkt',
      offline: 'Engine niet bereikbaar ({e}); nieuwe poging over enkele seconden',
      indicator: 'Indicator', theme: 'Thema', all_themes: 'Alle thema’s', province: 'Provincie', all_provinces: 'Alle provincies',
      search: 'Zoek gemeente', severity: 'Ernst', all_severities: 'Alle',
      ranking_title: 'Ranglijst: {title}', map_title: 'Kaart: {title}',
      ranking_caption: '{n} gemeenten, hoogste index eerst. Index 100 = landelijk gemiddelde. Gemeenten met minder dan {min} gebeurtenissen staan onderaan zonder cijfers.',
      rank: 'Rang', municipality: 'Gemeente', count: 'Aantal', rate: 'Per {per} inw.', share: 'Aandeel', mean: 'Gemiddelde',
      value: 'Waarde', national: 'Landelijk', index: 'Index (NL = 100)', percentile: 'Percentiel', trend: 'Trend',
      population: 'Inwoners', window: 'venster {w}', per: 'per {per} inwoners', national_value: 'Landelijk: {v}',
      aggregate_count: 'aantal', aggregate_sum: 'som', aggregate_mean: 'gemiddelde', aggregate_share: 'aandeel', aggregate_value: 'referentiecijfer',
      cls0: 'ver onder gemiddeld (< 50)', cls1: 'onder gemiddeld (50–80)', cls2: 'iets onder (80–95)', cls3: 'rond gemiddeld (95–105)',
      cls4: 'iets boven (105–125)', cls5: 'boven gemiddeld (125–200)', cls6: 'ver boven gemiddeld (> 200)',
      cls_supp: 'te weinig gebeurtenissen (< {min})', cls_none: 'geen gegevens',
      legend: 'Legenda: index t.o.v. landelijk gemiddelde',
      map_label: 'Kaart van Nederland, gemeenten gekleurd naar index van {title}. Toetsenbordgebruikers: zie de ranglijst naast de kaart.',
      map_hint: 'Wijs een gemeente aan voor haar cijfers; klik om haar pagina te openen.',
      top: 'Hoogste index', suppressed: 'onderdrukt',
      muni_sub: '{province} · {pop} inwoners · {n} recente meldingen',
      indicators: 'Indicatoren', position: 'Positie t.o.v. landelijk', history: 'Verloop (90 dagen)',
      more_alerts: 'Oudere meldingen ({n})', alerts: 'Meldingen', recent_alerts: 'Actieve en recente meldingen', no_alerts: 'Geen recente meldingen.',
      alerts_title: 'Meldingen', alerts_caption: '{n} meldingen, nieuwste eerst.',
      emitted: 'Gemeld', event_time: 'Gebeurtenistijd', rule: 'Regel', pack: 'Pakket', score: 'Score', conditions: 'Voorwaarden',
      measure: 'Maat', threshold: 'Drempel', observed: 'Waargenomen', expected: 'Verwacht', held: 'Voldaan', window_col: 'Venster',
      yes: 'ja', no: 'nee', evidence: 'Bewijs: {n} gebeurtenissen', open: 'Openen', not_found: 'Niet gevonden: {what}',
      no_indicators: 'Er zijn geen indicatoren geladen.',
      sev_info: 'info', sev_low: 'laag', sev_medium: 'midden', sev_high: 'hoog', sev_critical: 'kritiek',
      download_ranking: 'Ranglijst downloaden (CSV)', download_alerts: 'Meldingen downloaden (CSV)',
      neighbourhoods: 'Buurten', buurt: 'Buurt', muni_ratio: 't.o.v. gemeente',
      buurt_note: 'Per buurt; de index vergelijkt met alle buurten van Nederland, "t.o.v. gemeente" met de eigen gemeente.',
      download_figures: 'Cijfers downloaden (CSV)', download_muni_alerts: 'Meldingen van de gemeente downloaden (CSV)',
      download_all_munis: 'Alle gemeenten, los van de filters; kleine aantallen blijven leeg.',
      download_all_alerts: 'Alle recente meldingen, los van de filters; kleine aantallen blijven leeg.',
      nav_funnel: 'Trechter', rank_by: 'Rangschikken op', by_shrunk_ratio: 'Gekrompen index (empirisch Bayes)', by_national_ratio: 'Ruwe index',
      shrunk: 'Gekrompen index', funnel_z: 'Trechter-z', q_value: 'q-waarde',
      ranking_caption_shrunk: '{n} gemeenten, hoogste gekrompen index eerst: de index na empirisch-Bayesiaanse krimp, die kleine aantallen naar het gemiddelde trekt. Index 100 = landelijk gemiddelde. Gemeenten met minder dan {min} gebeurtenissen staan onderaan zonder cijfers.',
      funnel_title: 'Trechterplot: {title}', funnel_na: 'Een trechterplot is er alleen voor indicatoren die gebeurtenissen tellen (aantal of aandeel).',
      funnel_label: 'Trechterplot van {title}: per gemeente waargenomen ÷ verwacht tegen het verwachte aantal, met 95%- en 99,8%-controlegrenzen. Toetsenbordgebruikers: zie de lijst naast de plot.',
      funnel_x: 'Verwacht aantal bij het landelijke niveau (logaritmische schaal)', funnel_y: 'Waargenomen ÷ verwacht',
      funnel_hint: 'Wijs een punt aan voor de cijfers van de gemeente; klik om haar pagina te openen.',
      funnel_95: '95%-grenzen', funnel_998: '99,8%-grenzen', funnel_national: 'landelijk niveau (1)',
      funnel_poisson: 'Grenzen: exacte kwantielen van Poisson(verwacht), gedeeld door het verwachte aantal.',
      funnel_binomial: 'Grenzen: exacte kwantielen van Binomiaal(n, landelijk aandeel), gedeeld door het verwachte aantal.',
      funnel_hidden: '{n} gemeenten met minder dan {min} gebeurtenissen staan niet in de plot.',
      funnel_outliers: 'Boven de 99,8%-grens', funnel_none: 'Geen gemeente boven de 99,8%-grens.',
      band_above_998: 'boven de 99,8%-grens', band_above_95: 'boven de 95%-grens', band_within: 'binnen de grenzen',
      band_below_95: 'onder de 95%-grens', band_below_998: 'onder de 99,8%-grens', ratio: 'Verhouding', funnel_link: 'trechter',
      nav_regions: 'Regio’s', regions_title: 'Regio’s: {title}', level: 'Indeling',
      level_province: 'Provincie', level_riec_region: 'RIEC-regio', level_police_unit: 'Politie-eenheid',
      region: 'Regio', members: 'Gemeenten', poisson_p: 'Poisson-p',
      regions_caption: '{n} regio’s ({level}), hoogste index eerst: de cijfers van hun gemeenten samengenomen, zoals het landelijke cijfer, tegen het landelijke cijfer. Regio’s met te weinig gebeurtenissen (of waaruit een onderdrukte gemeente zou zijn af te leiden) staan onderaan zonder cijfers.',
      regions_none: 'Geen regio’s: de kolom {col} van het gemeentebestand is leeg.',
      regions_no_column: 'Geen regio’s: het gemeentebestand heeft geen kolom {col}.',
      regions_unassigned: '{n} gemeenten horen bij geen {level}:',
      regions_map_label: 'Kaart van Nederland, gemeenten gekleurd naar de index van hun {level} voor {title}. Toetsenbordgebruikers: zie de tabel onder de kaart.',
      regions_hint: 'Wijs een gemeente aan voor de cijfers van haar regio; klik om de gemeenten van die regio te tonen.',
      region_members: 'Gemeenten in {region}', region_pick: 'Kies een regio in de tabel of op de kaart om haar gemeenten te zien.',
      download_regions: 'Regio’s downloaden (CSV)', download_regions_hint: 'Alle regio’s van deze indeling; kleine aantallen blijven leeg.',
    },
    en: {
      skip: 'Skip to content', tagline: 'Undermining in view', nav: 'Views',
      nav_ranking: 'Ranking', nav_map: 'Map', nav_alerts: 'Alerts', loading: 'Loading…',
      foot_disclosure: 'Counts below the disclosure minimum are never shown (< 5), nor anything derived from them.',
      foot_map: 'Map: municipal boundaries 2024, source: CBS, Kadaster (simplified).', foot_api: 'JSON API',
      updated: 'Updated {t}', clock: 'Event time {t} · {n} events processed', clock_none: 'No events processed yet',
      offline: 'Engine not reachable ({e}); retrying in a few seconds',
      indicator: 'Indicator', theme: 'Theme', all_themes: 'All themes', province: 'Province', all_provinces: 'All provinces',
      search: 'Find municipality', severity: 'Severity', all_severities: 'All',
      ranking_title: 'Ranking: {title}', map_title: 'Map: {title}',
      ranking_caption: '{n} municipalities, highest index first. Index 100 = national average. Municipalities with fewer than {min} events are listed last without figures.',
      rank: 'Rank', municipality: 'Municipality', count: 'Count', rate: 'Per {per} inh.', share: 'Share', mean: 'Mean',
      value: 'Value', national: 'National', index: 'Index (NL = 100)', percentile: 'Percentile', trend: 'Trend',
      population: 'Inhabitants', window: 'window {w}', per: 'per {per} inhabitants', national_value: 'National: {v}',
      aggregate_count: 'count', aggregate_sum: 'sum', aggregate_mean: 'mean', aggregate_share: 'share', aggregate_value: 'reference figure',
      cls0: 'well below average (< 50)', cls1: 'below average (50–80)', cls2: 'slightly below (80–95)', cls3: 'around average (95–105)',
      cls4: 'slightly above (105–125)', cls5: 'above average (125–200)', cls6: 'well above average (> 200)',
      cls_supp: 'too few events (< {min})', cls_none: 'no data',
      legend: 'Legend: index against the national average',
      map_label: 'Map of the Netherlands, municipalities coloured by their index of {title}. Keyboard users: see the ranking next to the map.',
      map_hint: 'Point at a municipality for its figures; click to open its page.',
      top: 'Highest index', suppressed: 'suppressed',
      muni_sub: '{province} · {pop} inhabitants · {n} recent alerts',
      indicators: 'Indicators', position: 'Position against national', history: 'History (90 days)',
      more_alerts: 'Older alerts ({n})', alerts: 'Alerts', recent_alerts: 'Active and recent alerts', no_alerts: 'No recent alerts.',
      alerts_title: 'Alerts', alerts_caption: '{n} alerts, newest first.',
      emitted: 'Emitted', event_time: 'Event time', rule: 'Rule', pack: 'Pack', score: 'Score', conditions: 'Conditions',
      measure: 'Measure', threshold: 'Threshold', observed: 'Observed', expected: 'Expected', held: 'Held', window_col: 'Window',
      yes: 'yes', no: 'no', evidence: 'Evidence: {n} events', open: 'Open', not_found: 'Not found: {what}',
      no_indicators: 'No indicators are loaded.',
      sev_info: 'info', sev_low: 'low', sev_medium: 'medium', sev_high: 'high', sev_critical: 'critical',
      download_ranking: 'Download ranking (CSV)', download_alerts: 'Download alerts (CSV)',
      neighbourhoods: 'Neighbourhoods', buurt: 'Neighbourhood', muni_ratio: 'vs municipality',
      buurt_note: 'Per CBS buurt; the index compares with every buurt of the Netherlands, "vs municipality" with its own municipality.',
      download_figures: 'Download figures (CSV)', download_muni_alerts: 'Download the municipality’s alerts (CSV)',
      download_all_munis: 'All municipalities, whatever the filters; small counts stay empty.',
      download_all_alerts: 'All recent alerts, whatever the filters; small counts stay empty.',
      nav_funnel: 'Funnel', rank_by: 'Rank by', by_shrunk_ratio: 'Shrunk index (empirical Bayes)', by_national_ratio: 'Raw index',
      shrunk: 'Shrunk index', funnel_z: 'Funnel z', q_value: 'q value',
      ranking_caption_shrunk: '{n} municipalities, highest shrunk index first: the index after empirical-Bayes shrinkage, which pulls small numbers towards the mean. Index 100 = national average. Municipalities with fewer than {min} events are listed last without figures.',
      funnel_title: 'Funnel plot: {title}', funnel_na: 'A funnel plot exists only for indicators that count events (count or share).',
      funnel_label: 'Funnel plot of {title}: each municipality’s observed ÷ expected against its expected count, with 95% and 99.8% control limits. Keyboard users: see the list next to the plot.',
      funnel_x: 'Expected count at the national level (log scale)', funnel_y: 'Observed ÷ expected',
      funnel_hint: 'Point at a dot for the municipality’s figures; click to open its page.',
      funnel_95: '95% limits', funnel_998: '99.8% limits', funnel_national: 'national level (1)',
      funnel_poisson: 'Limits: exact quantiles of Poisson(expected), divided by the expected count.',
      funnel_binomial: 'Limits: exact quantiles of Binomial(n, national share), divided by the expected count.',
      funnel_hidden: '{n} municipalities with fewer than {min} events are not in the plot.',
      funnel_outliers: 'Above the 99.8% limit', funnel_none: 'No municipality above the 99.8% limit.',
      band_above_998: 'above the 99.8% limit', band_above_95: 'above the 95% limit', band_within: 'within the limits',
      band_below_95: 'below the 95% limit', band_below_998: 'below the 99.8% limit', ratio: 'Ratio', funnel_link: 'funnel',
      nav_regions: 'Regions', regions_title: 'Regions: {title}', level: 'Grouping',
      level_province: 'Province', level_riec_region: 'RIEC region', level_police_unit: 'Police unit',
      region: 'Region', members: 'Municipalities', poisson_p: 'Poisson p',
      regions_caption: '{n} regions ({level}), highest index first: their municipalities pooled as the national figure is, against the national figure. Regions with too few events (or from which a suppressed municipality could be derived) are listed last without figures.',
      regions_none: 'No regions: column {col} of the municipalities file is empty.',
      regions_no_column: 'No regions: the municipalities file has no column {col}.',
      regions_unassigned: '{n} municipalities belong to no {level}:',
      regions_map_label: 'Map of the Netherlands, municipalities coloured by the index of their {level} for {title}. Keyboard users: see the table below the map.',
      regions_hint: 'Point at a municipality for its region’s figures; click to list that region’s municipalities.',
      region_members: 'Municipalities in {region}', region_pick: 'Pick a region in the table or on the map to see its municipalities.',
      download_regions: 'Download regions (CSV)', download_regions_hint: 'Every region of this grouping; small counts stay empty.',
    },
  };
  let lang = localStorage.getItem('zicht.lang') === 'en' ? 'en' : 'nl';
  function t(key, vars) {
    let s = (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? '' : String(vars[k])));
    return s;
  }
  function locale() { return lang === 'nl' ? 'nl-NL' : 'en-GB'; }

  // --------------------------------------------------------------- helpers
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  function esc(s) {
    return String(s === undefined || s === null ? '' : s).replace(/[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }
  // API numbers: a number, null (suppressed or undefined) or "+Inf"/"-Inf".
  function num(v) {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (v === '+Inf') return Infinity;
    if (v === '-Inf') return -Infinity;
    return null;
  }
  function fmt(v, opts) {
    const n = num(v);
    if (n === null) return '–';
    if (!Number.isFinite(n)) return n > 0 ? '∞' : '−∞';
    const o = opts || {};
    if (o.int) return Math.round(n).toLocaleString(locale());
    if (Math.abs(n) >= 1000) return n.toLocaleString(locale(), { maximumFractionDigits: 0 });
    if (n !== 0 && Math.abs(n) < 0.001) return n.toExponential(1).replace('.', lang === 'nl' ? ',' : '.');
    return n.toLocaleString(locale(), { maximumSignificantDigits: 3 });
  }
  function fmtTime(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    if (isNaN(d)) return esc(iso);
    return d.toLocaleString(locale(), { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }) + ' UTC';
  }
  // The classes of the diverging scale, on national_ratio.
  const BREAKS = [0.5, 0.8, 0.95, 1.05, 1.25, 2.0];
  function ratioClass(r) {
    const n = num(r);
    if (n === null) return null;
    let c = 0;
    while (c < BREAKS.length && n >= BREAKS[c]) c++;
    return c;
  }
  const CLASS_FILL = ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'];
  // An index cell (× 100, coloured by class) of national_ratio or shrunk_ratio.
  function indexCell(row, field) {
    const f = field || 'national_ratio';
    if (row.suppressed) return `<span class="idx cls-none suppressed" title="${esc(t('suppressed'))}">–</span>`;
    const c = ratioClass(row[f]);
    if (c === null) return '<span class="idx cls-none">–</span>';
    const r = num(row[f]);
    const text = Number.isFinite(r) ? Math.round(r * 100).toLocaleString(locale()) : '∞';
    return `<span class="idx cls-${c}" title="${esc(t('cls' + c))}">${text}</span>`;
  }
  function countCell(row, min) {
    if (row.suppressed) return `<span class="suppressed">&lt;&nbsp;${esc(min)}</span>`;
    return fmt(row.count, { int: true });
  }
  // What the main figure of an indicator is: a rate for counts and sums, the
  // share, mean or reference value otherwise.
  function mainField(ind) { return ind.aggregate === 'count' || ind.aggregate === 'sum' ? 'rate' : 'value'; }
  function mainLabel(ind) {
    switch (ind.aggregate) {
      case 'count': case 'sum': return t('rate', { per: fmt(ind.per, { int: true }) });
      case 'share': return t('share');
      case 'mean': return t('mean');
      default: return t('value');
    }
  }
  function mainValue(ind, row) {
    const v = num(row[mainField(ind)]);
    if (v !== null && ind.aggregate === 'share') return fmt(v * 100) + '%';
    return fmt(v);
  }
  function nationalValue(ind, v) {
    const n = num(v);
    if (n !== null && ind.aggregate === 'share') return fmt(n * 100) + '%';
    return fmt(n);
  }
  function indicatorKey(ind) { return ind.pack + '/' + ind.id; }
  // Indicators that count events: they have shrunk_ratio, funnel_z and a funnel plot.
  function countable(ind) { return !!ind && (ind.aggregate === 'count' || ind.aggregate === 'share'); }
  function derivedCell(row, html) { return row.suppressed ? '<span class="suppressed">–</span>' : html; }
  // A q value (Benjamini–Hochberg) or funnel z, small ones in scientific notation.
  function qCell(row) { return derivedCell(row, fmt(row.q_value)); }
  function zCell(row) { return derivedCell(row, fmt(row.funnel_z)); }
  // A download of a view as CSV: the API's own export (same disclosure
  // control as the JSON this page shows), saved under the name the API gives.
  function csvUrl(path, params) {
    return path + '?' + new URLSearchParams(Object.assign({}, params, { format: 'csv' })).toString();
  }
  function downloads(links, hint) {
    return `<p class="downloads">${links.map(([id, url, key]) =>
      `<a class="download" id="${id}" href="${esc(url)}" download><span aria-hidden="true">⤓ </span>${esc(t(key))}</a>`).join('')}${
      hint ? `<span class="sub">${esc(t(hint))}</span>` : ''}</p>`;
  }
  function sevBadge(s) { return `<span class="sev sev-${esc(s)}">${esc(t('sev_' + s))}</span>`; }

  async function getJson(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) {
      let msg = r.status + '';
      try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return r.json();
  }

  // ----------------------------------------------------------------- state
  const state = {
    status: null, statusKey: '', indicators: [], rules: {}, municipalities: [], byCode: {},
    alerts: [], alertIds: new Set(), alertsSince: '', map: null, route: null, data: null, dataKey: '',
  };

  function parseRoute() {
    const h = location.hash.replace(/^#\/?/, '');
    const [path, qs] = h.split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const query = Object.fromEntries(new URLSearchParams(qs || ''));
    const view = parts[0] || 'ranking';
    return { view, parts: parts.slice(1), query };
  }
  function routeHash(view, parts, query) {
    const p = [view].concat(parts || []).map(encodeURIComponent).join('/');
    const q = new URLSearchParams(Object.entries(query || {}).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString();
    return '#/' + p + (q ? '?' + q : '');
  }
  function setQuery(change) {
    const r = parseRoute();
    const q = Object.assign({}, r.query, change);
    history.replaceState(null, '', routeHash(r.view, r.parts, q));
    state.route = parseRoute();
  }

  // -------------------------------------------------------------- loading
  async function loadStatic() {
    const [inds, munis, rules] = await Promise.all([
      getJson('/api/v1/indicators'), getJson('/api/v1/municipalities'), getJson('/api/v1/rules')]);
    state.indicators = inds.indicators || [];
    state.municipalities = munis.municipalities || [];
    state.byCode = Object.fromEntries(state.municipalities.map((m) => [m.code, m]));
    state.rules = {};
    for (const p of rules.packs || []) {
      for (const r of p.rules || []) state.rules[p.name + '/' + r.id] = r;
    }
  }
  async function loadAlerts() {
    const url = '/api/v1/alerts?limit=1000' + (state.alertsSince ? '&since=' + encodeURIComponent(state.alertsSince) : '');
    const res = await getJson(url);
    let added = 0;
    for (const a of (res.alerts || []).slice().reverse()) {
      if (state.alertIds.has(a.alert_id)) continue;
      state.alertIds.add(a.alert_id);
      state.alerts.unshift(a);
      added++;
      if (!state.alertsSince || a.emitted_at > state.alertsSince) state.alertsSince = a.emitted_at;
    }
    state.alerts.sort((x, y) => (x.emitted_at < y.emitted_at ? 1 : x.emitted_at > y.emitted_at ? -1 : 0));
    if (state.alerts.length > 5000) state.alerts.length = 5000;
    return added;
  }
  async function loadMap() {
    if (!state.map) state.map = await getJson('/gemeenten-2024.json');
    return state.map;
  }

  function currentIndicator(r) {
    if (!state.indicators.length) return null;
    const [pack, id] = r.parts;
    let ind = state.indicators.find((i) => i.pack === pack && i.id === id);
    if (!ind) {
      const theme = r.query.theme;
      const fits = (i) => (!theme || i.theme === theme) && (r.view !== 'funnel' || countable(i));
      ind = state.indicators.find(fits) || state.indicators.find((i) => r.view !== 'funnel' || countable(i)) || state.indicators[0];
    }
    return ind;
  }

  // The data a view shows; fetched again only when the engine's status changed.
  function rankingUrl(ind, by) {
    return '/api/v1/indicators/' + encodeURIComponent(ind.id) + '?pack=' + encodeURIComponent(ind.pack) +
      (by ? '&by=' + encodeURIComponent(by) : '');
  }
  // The ranking's order: the API's default (shrunk_ratio for counts and
  // shares) unless the page asks for the raw index.
  function rankBy(r, ind) { return countable(ind) && r.query.by === 'national_ratio' ? 'national_ratio' : ''; }
  async function fetchViewData(r) {
    if (isIndicatorView(r.view)) {
      const ind = currentIndicator(r);
      if (!ind) return null;
      if (r.view === 'funnel') {
        if (!countable(ind)) return null;
        return getJson('/api/v1/indicators/' + encodeURIComponent(ind.id) + '/funnel?pack=' + encodeURIComponent(ind.pack));
      }
      if (r.view === 'regions') {
        const data = await getJson('/api/v1/regions?' + new URLSearchParams({ by: regionLevel(r), indicator: ind.id, pack: ind.pack }));
        await loadMap();
        return data;
      }
      // The map is coloured by the raw index; its "highest" list follows that.
      const data = await getJson(rankingUrl(ind, r.view === 'map' ? 'national_ratio' : rankBy(r, ind)));
      if (r.view === 'map') await loadMap();
      return data;
    }
    if (r.view === 'municipality') {
      const code = encodeURIComponent(r.parts[0] || '');
      const [data, buurten] = await Promise.all([getJson('/api/v1/municipalities/' + code),
        getJson('/api/v1/municipalities/' + code + '/neighbourhoods').catch(() => null)]);
      if (data) data.buurten = buurten;
      return data;
    }
    return null;
  }

  // ------------------------------------------------------------- rendering
  function isIndicatorView(view) { return view === 'ranking' || view === 'map' || view === 'funnel' || view === 'regions'; }
  function applyStaticText() {
    document.documentElement.lang = lang;
    for (const el of $$('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of $$('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
    for (const b of $$('.lang button')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
    const r = state.route || parseRoute();
    for (const a of $$('.top nav a')) {
      const view = a.dataset.view;
      if (view === r.view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
      // Keep the chosen indicator when switching between ranking, map and funnel.
      if (isIndicatorView(view) && isIndicatorView(r.view) && r.parts.length === 2) {
        a.href = routeHash(view, r.parts, r.query);
      } else {
        a.href = '#/' + view;
      }
    }
  }
  function renderStatus() {
    const s = state.status;
    $('#clock').textContent = s && s.event_time ? t('clock', { t: fmtTime(s.event_time), n: fmt(s.records, { int: true }) }) : t('clock_none');
  }
  function say(text, isError) {
    const el = $('#updated');
    el.textContent = text;
    el.classList.toggle('error', !!isError);
  }

  function themeOptions(selected) {
    const themes = Array.from(new Set(state.indicators.map((i) => i.theme))).sort();
    return `<option value="">${esc(t('all_themes'))}</option>` +
      themes.map((th) => `<option value="${esc(th)}"${th === selected ? ' selected' : ''}>${esc(th)}</option>`).join('');
  }
  function indicatorOptions(selected, theme, only) {
    const groups = {};
    for (const i of state.indicators) {
      if ((theme && i.theme !== theme) || (only && !only(i))) continue;
      (groups[i.theme] = groups[i.theme] || []).push(i);
    }
    return Object.keys(groups).sort().map((th) => `<optgroup label="${esc(th)}">` + groups[th].map((i) =>
      `<option value="${esc(indicatorKey(i))}"${indicatorKey(i) === selected ? ' selected' : ''}>${esc(i.title || i.id)}</option>`).join('') +
      '</optgroup>').join('');
  }
  function provinceOptions(selected) {
    const provs = Array.from(new Set(state.municipalities.map((m) => m.province))).sort();
    return `<option value="">${esc(t('all_provinces'))}</option>` +
      provs.map((p) => `<option value="${esc(p)}"${p === selected ? ' selected' : ''}>${esc(p)}</option>`).join('');
  }
  // The filters of an indicator view; `extra` is more controls (the ranking's
  // order), `only` limits the indicators offered (the funnel: countable ones).
  function indicatorControls(r, ind, withSearch, extra, only) {
    return `<form class="controls" role="search" onsubmit="return false">
      <label>${esc(t('theme'))}<select id="f-theme">${themeOptions(r.query.theme || '')}</select></label>
      <label>${esc(t('indicator'))}<select id="f-indicator">${indicatorOptions(indicatorKey(ind), r.query.theme || '', only)}</select></label>
      <label>${esc(t('province'))}<select id="f-province">${provinceOptions(r.query.province || '')}</select></label>
      ${withSearch ? `<label>${esc(t('search'))}<input id="f-q" type="search" autocomplete="off" value="${esc(r.query.q || '')}"></label>` : ''}
      ${extra || ''}
    </form>`;
  }
  function wireIndicatorControls(view) {
    $('#f-theme').addEventListener('change', (e) => {
      const r = parseRoute();
      const theme = e.target.value;
      const fits = (i) => (!theme || i.theme === theme) && (view !== 'funnel' || countable(i));
      const first = state.indicators.find(fits);
      const cur = currentIndicator(r);
      const keep = cur && fits(cur) ? cur : first;
      location.hash = routeHash(view, keep ? [keep.pack, keep.id] : [], Object.assign({}, r.query, { theme }));
    });
    $('#f-indicator').addEventListener('change', (e) => {
      const r = parseRoute();
      const [pack, ...rest] = e.target.value.split('/');
      location.hash = routeHash(view, [pack, rest.join('/')], r.query);
    });
    const prov = $('#f-province');
    if (prov) prov.addEventListener('change', (e) => { setQuery({ province: e.target.value }); renderData(); });
    const q = $('#f-q');
    if (q) q.addEventListener('input', (e) => { setQuery({ q: e.target.value }); renderData(); });
  }
  function indicatorFacts(ind, data) {
    const bits = [`<li><span>${esc(t('aggregate_' + ind.aggregate))}</span></li>`];
    if (ind.window) bits.push(`<li><span>${esc(t('window', { w: ind.window }))}</span></li>`);
    if (ind.aggregate === 'count' || ind.aggregate === 'sum') bits.push(`<li><span>${esc(t('per', { per: fmt(ind.per, { int: true }) }))}</span></li>`);
    if (data) bits.push(`<li><strong data-testid="national">${esc(t('national_value', { v: nationalValue(ind, data.national_rate) }))}</strong></li>`);
    return `<ul class="facts">${bits.join('')}</ul>`;
  }
  function legend(min) {
    const items = [0, 1, 2, 3, 4, 5, 6].map((c) =>
      `<li><span class="swatch" style="background:${CLASS_FILL[c]}"></span>${esc(t('cls' + c))}</li>`);
    items.push(`<li><span class="swatch hatch"></span>${esc(t('cls_supp', { min }))}</li>`);
    items.push(`<li><span class="swatch" style="background:#e3e5e8"></span>${esc(t('cls_none'))}</li>`);
    return `<h2 id="legend-h">${esc(t('legend'))}</h2><ul class="legend" aria-labelledby="legend-h">${items.join('')}</ul>`;
  }
  function filteredRows(data, r) {
    const prov = r.query.province || '';
    const q = (r.query.q || '').trim().toLowerCase();
    return data.municipalities.filter((m) => (!prov || m.province === prov) && (!q || m.name.toLowerCase().includes(q) || m.code.toLowerCase() === q));
  }

  // (1) ranking
  function renderRankingShell(r, ind) {
    const by = rankBy(r, ind);
    const byControl = countable(ind) ? `<label>${esc(t('rank_by'))}<select id="f-by">${['shrunk_ratio', 'national_ratio'].map((b) =>
      `<option value="${b}"${(by || 'shrunk_ratio') === b ? ' selected' : ''}>${esc(t('by_' + b))}</option>`).join('')}</select></label>` : '';
    const dl = csvUrl('/api/v1/indicators/' + encodeURIComponent(ind.id), Object.assign({ pack: ind.pack }, by ? { by } : {}));
    $('#main').innerHTML = `<h1 id="view-title">${esc(t('ranking_title', { title: ind.title || ind.id }))}</h1>
      ${indicatorControls(r, ind, true, byControl)}
      ${downloads([['dl-ranking', dl, 'download_ranking']], 'download_all_munis')}
      <div id="facts"></div>
      <div class="tablewrap"><table class="nav" id="ranking" aria-describedby="ranking-cap">
        <caption id="ranking-cap"></caption>
        <thead><tr>
          <th scope="col" class="num" aria-sort="ascending">${esc(t('rank'))}</th>
          <th scope="col">${esc(t('municipality'))}</th>
          <th scope="col">${esc(t('province'))}</th>
          <th scope="col" class="num">${esc(t('count'))}</th>
          <th scope="col" class="num">${esc(mainLabel(ind))}</th>
          <th scope="col" class="num">${esc(t('national'))}</th>
          <th scope="col" class="num">${esc(t('index'))}</th>
          ${countable(ind) ? `<th scope="col" class="num">${esc(t('shrunk'))}</th><th scope="col" class="num">${esc(t('funnel_z'))}</th>` : ''}
          <th scope="col" class="num">${esc(t('percentile'))}</th>
          ${ind.q_ranked ? `<th scope="col" class="num">${esc(t('q_value'))}</th>` : ''}
        </tr></thead><tbody></tbody></table></div>
      <div id="legend"></div>`;
    wireIndicatorControls('ranking');
    const sel = $('#f-by');
    if (sel) {
      sel.addEventListener('change', (e) => {
        setQuery({ by: e.target.value === 'national_ratio' ? 'national_ratio' : '' });
        renderShell();
        refresh(true);
      });
    }
  }
  function renderRankingData(r, ind, data) {
    const min = data.disclosure_min_count;
    $('#facts').innerHTML = indicatorFacts(ind, data);
    const rows = filteredRows(data, r);
    $('#ranking').dataset.rankedBy = data.ranked_by || 'national_ratio';
    $('#ranking-cap').textContent = t(data.ranked_by === 'shrunk_ratio' ? 'ranking_caption_shrunk' : 'ranking_caption', { n: rows.length, min });
    $('#ranking tbody').innerHTML = rows.map((m) => `<tr data-code="${esc(m.code)}"${m.suppressed ? ' data-suppressed="true"' : ''}>
      <td class="num">${m.rank === null ? '–' : esc(m.rank)}</td>
      <th scope="row"><a class="rowlink" data-key="row-${esc(m.code)}" href="#/municipality/${esc(m.code)}">${esc(m.name)}</a></th>
      <td>${esc(m.province)}</td>
      <td class="num" data-col="count">${countCell(m, min)}</td>
      <td class="num" data-col="main">${m.suppressed ? '<span class="suppressed">–</span>' : mainValue(ind, m)}</td>
      <td class="num">${nationalValue(ind, m.national_rate)}</td>
      <td class="num" data-col="index">${indexCell(m)}</td>
      ${countable(ind) ? `<td class="num" data-col="shrunk">${indexCell(m, 'shrunk_ratio')}</td><td class="num" data-col="funnel_z">${zCell(m)}</td>` : ''}
      <td class="num" data-col="pct">${m.suppressed ? '<span class="suppressed">–</span>' : fmt(m.percentile)}</td>
      ${ind.q_ranked ? `<td class="num" data-col="q">${qCell(m)}</td>` : ''}
    </tr>`).join('');
    $('#legend').innerHTML = legend(min);
  }

  // (2) map
  function renderMapShell(r, ind) {
    $('#main').innerHTML = `<h1 id="view-title">${esc(t('map_title', { title: ind.title || ind.id }))}</h1>
      ${indicatorControls(r, ind, false)}
      <div id="facts"></div>
      <div class="maplayout">
        <div class="mapbox"><div id="map"></div></div>
        <div>
          <p class="maptip" id="maptip" aria-live="polite">${esc(t('map_hint'))}</p>
          <div id="maplegend"></div>
          <h2>${esc(t('top'))}</h2>
          <div class="tablewrap"><table class="nav" id="maptop"><thead><tr>
            <th scope="col" class="num">${esc(t('rank'))}</th><th scope="col">${esc(t('municipality'))}</th>
            <th scope="col" class="num">${esc(t('index'))}</th></tr></thead><tbody></tbody></table></div>
        </div>
      </div>`;
    wireIndicatorControls('map');
  }
  function renderMapData(r, ind, data) {
    const geo = state.map;
    const min = data.disclosure_min_count;
    $('#facts').innerHTML = indicatorFacts(ind, data);
    $('#maplegend').innerHTML = legend(min);
    const prov = r.query.province || '';
    const byCode = Object.fromEntries(data.municipalities.map((m) => [m.code, m]));
    const vb = geo.viewBox.join(' ');
    let paths = '';
    for (const [code, d] of Object.entries(geo.municipalities)) {
      const m = byCode[code];
      let fill = '#e3e5e8';
      let cls = 'none';
      if (m && m.suppressed) { fill = 'url(#hatch)'; cls = 'suppressed'; } else if (m) {
        const c = ratioClass(m.national_ratio);
        if (c !== null) { fill = CLASS_FILL[c]; cls = String(c); }
      }
      const dim = prov && m && m.province !== prov ? ' opacity="0.25"' : '';
      const name = m ? m.name : code;
      const label = m && m.suppressed ? `${name}: ${t('cls_supp', { min })}` :
        `${name}: ${t('index')} ${m && num(m.national_ratio) !== null ? fmt(num(m.national_ratio) * 100, { int: true }) : '–'}`;
      paths += `<path class="m" d="${d}" fill="${fill}" data-code="${esc(code)}" data-class="${cls}"${dim}><title>${esc(label)}</title></path>`;
    }
    for (const d of Object.values(geo.provinces || {})) paths += `<path class="prov" d="${d}"/>`;
    $('#map').innerHTML = `<svg viewBox="${vb}" role="img" aria-label="${esc(t('map_label', { title: ind.title || ind.id }))}">
      <defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
        <rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="#d6d9dd"/></pattern></defs>${paths}</svg>`;
    const svg = $('#map svg');
    svg.addEventListener('click', (e) => {
      const p = e.target.closest('path.m');
      if (p) location.hash = '#/municipality/' + p.dataset.code;
    });
    svg.addEventListener('mouseover', (e) => {
      const p = e.target.closest('path.m');
      if (!p) return;
      const m = byCode[p.dataset.code];
      if (!m) return;
      $('#maptip').innerHTML = `<strong>${esc(m.name)}</strong> (${esc(m.province)})<br>${esc(t('count'))}: ${countCell(m, min)} · ` +
        `${esc(mainLabel(ind))}: ${m.suppressed ? '–' : mainValue(ind, m)} · ${esc(t('index'))}: ${indexCell(m)}`;
    });
    const top = data.municipalities.filter((m) => m.rank !== null && (!prov || m.province === prov)).slice(0, 15);
    $('#maptop tbody').innerHTML = top.map((m) => `<tr data-code="${esc(m.code)}"><td class="num">${esc(m.rank)}</td>
      <th scope="row"><a class="rowlink" data-key="top-${esc(m.code)}" href="#/municipality/${esc(m.code)}">${esc(m.name)}</a></th>
      <td class="num">${indexCell(m)}</td></tr>`).join('');
    for (const a of $$('#maptop a.rowlink')) {
      const code = a.closest('tr').dataset.code;
      const hl = (on) => { const p = $(`#map path[data-code="${code}"]`); if (p) p.classList.toggle('hl', on); };
      a.addEventListener('focus', () => hl(true));
      a.addEventListener('blur', () => hl(false));
    }
  }

  // (2b) funnel plot: observed ÷ expected against the expected count, with
  // the API's exact control limits; each dot opens its municipality.
  const BANDS = ['above_998', 'above_95', 'within', 'below_95', 'below_998'];
  const BAND_FILL = { above_998: '#b2182b', above_95: '#ef8a62', within: '#8a949e', below_95: '#67a9cf', below_998: '#2166ac' };
  function niceStep(x) {
    const p = Math.pow(10, Math.floor(Math.log10(x)));
    return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= x);
  }
  function renderFunnelShell(r, ind) {
    $('#main').innerHTML = `<h1 id="view-title">${esc(t('funnel_title', { title: ind.title || ind.id }))}</h1>
      ${indicatorControls(r, ind, false, '', countable)}
      <div id="facts"></div>
      ${countable(ind) ? `<div class="maplayout">
        <div class="funnelbox"><div id="funnel"></div><ul class="legend" id="funnel-legend"></ul></div>
        <div>
          <p class="maptip" id="funneltip" aria-live="polite">${esc(t('funnel_hint'))}</p>
          <p class="sub" id="funnel-note"></p>
          <h2>${esc(t('funnel_outliers'))}</h2>
          <div class="tablewrap"><table class="nav" id="funnel-out"><thead><tr>
            <th scope="col">${esc(t('municipality'))}</th><th scope="col" class="num">${esc(t('count'))}</th>
            <th scope="col" class="num">${esc(t('expected'))}</th><th scope="col" class="num">${esc(t('ratio'))}</th>
            <th scope="col" class="num">${esc(t('funnel_z'))}</th></tr></thead><tbody></tbody></table></div>
        </div>
      </div>` : `<p class="empty" id="funnel-na">${esc(t('funnel_na'))}</p>`}`;
    wireIndicatorControls('funnel');
  }
  function renderFunnelData(r, ind, data) {
    const min = data.disclosure_min_count;
    $('#facts').innerHTML = indicatorFacts(ind, data);
    const prov = r.query.province || '';
    const pts = data.points.filter((p) => !p.suppressed && num(p.expected) > 0 && Number.isFinite(num(p.ratio)));
    const lim = data.limits || [];
    const hidden = data.points.filter((p) => p.suppressed).length;
    $('#funnel-note').textContent = t(data.model === 'binomial' ? 'funnel_binomial' : 'funnel_poisson') + ' ' +
      (hidden ? t('funnel_hidden', { n: hidden, min }) : '');
    const xs = pts.map((p) => num(p.expected)).concat(lim.map((l) => num(l.expected))).filter((v) => v > 0);
    if (!xs.length) { $('#funnel').innerHTML = `<p class="empty">${esc(t('cls_none'))}</p>`; return; }
    const W = 900, H = 560, L = 64, R = 18, T = 14, B = 58;
    let x0 = Math.log10(Math.min(...xs)), x1 = Math.log10(Math.max(...xs));
    if (x1 - x0 < 1e-9) { x0 -= 0.5; x1 += 0.5; }
    const pad = (x1 - x0) * 0.03;
    x0 -= pad; x1 += pad;
    const ystep = niceStep(Math.max(2, ...pts.map((p) => num(p.ratio))) * 1.05 / 6);
    const ymax = Math.ceil(Math.max(2, ...pts.map((p) => num(p.ratio))) * 1.05 / ystep) * ystep;
    const X = (e) => L + ((Math.log10(e) - x0) / (x1 - x0)) * (W - L - R);
    const Y = (v) => T + (1 - Math.min(v, ymax * 2) / ymax) * (H - T - B);
    let grid = '';
    // Log ticks at 1, 2, 5 × 10^d; more per decade when the range is short.
    const ticksWith = (ms) => {
      const out = [];
      for (let d = Math.floor(x0); d <= Math.ceil(x1); d++) {
        for (const m of ms) { const v = m * Math.pow(10, d); if (Math.log10(v) >= x0 && Math.log10(v) <= x1) out.push(v); }
      }
      return out;
    };
    let xt = ticksWith([1, 2, 5]);
    if (xt.length < 4) xt = ticksWith([1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const v of xt) {
      const x = X(v).toFixed(1);
      grid += `<line class="grid" x1="${x}" x2="${x}" y1="${T}" y2="${H - B}"/>` +
        `<text class="tick" x="${x}" y="${H - B + 16}" text-anchor="middle">${esc(fmt(v))}</text>`;
    }
    for (let v = 0; v <= ymax + 1e-9; v += ystep) {
      const y = Y(v).toFixed(1);
      grid += `<line class="grid" x1="${L}" x2="${W - R}" y1="${y}" y2="${y}"/>` +
        `<text class="tick" x="${L - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${esc(fmt(v))}</text>`;
    }
    const lines = ['upper_998', 'upper_95', 'lower_95', 'lower_998'].map((k) => {
      const pl = lim.filter((l) => num(l[k]) !== null).map((l) => `${X(num(l.expected)).toFixed(1)},${Y(num(l[k])).toFixed(1)}`);
      return `<polyline class="limit ${k.endsWith('998') ? 'l998' : 'l95'}" data-limit="${k}" points="${pl.join(' ')}"/>`;
    }).join('');
    const hl = r.query.hl || '';
    // Outliers and the highlighted one on top.
    const order = (p) => (p.code === hl ? 3 : p.band === 'above_998' ? 2 : p.band === 'within' ? 0 : 1);
    const dots = pts.slice().sort((a, b) => order(a) - order(b)).map((p) => {
      const label = `${p.name}: ${t('count')} ${fmt(p.observed, { int: true })}, ${t('expected')} ${fmt(p.expected)}, ${t('ratio')} ${fmt(p.ratio)}${p.band ? ' (' + t('band_' + p.band) + ')' : ''}`;
      const dim = prov && p.province !== prov ? ' opacity="0.2"' : '';
      return `<circle class="pt${p.code === hl ? ' hl' : ''}" cx="${X(num(p.expected)).toFixed(1)}" cy="${Y(num(p.ratio)).toFixed(1)}" r="${p.code === hl ? 7 : 4.5}" ` +
        `fill="${BAND_FILL[p.band] || '#8a949e'}" data-code="${esc(p.code)}" data-band="${esc(p.band || '')}"${dim}><title>${esc(label)}</title></circle>`;
    }).join('');
    $('#funnel').innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t('funnel_label', { title: ind.title || ind.id }))}">
      <defs><clipPath id="plotclip"><rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}"/></clipPath></defs>
      ${grid}
      <g clip-path="url(#plotclip)"><line class="natline" x1="${L}" x2="${W - R}" y1="${Y(1).toFixed(1)}" y2="${Y(1).toFixed(1)}"/>${lines}${dots}</g>
      <rect class="frame" x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}"/>
      <text class="axislabel" x="${(L + W - R) / 2}" y="${H - 14}" text-anchor="middle">${esc(t('funnel_x'))}</text>
      <text class="axislabel" transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(t('funnel_y'))}</text>
    </svg>`;
    $('#funnel-legend').innerHTML = [
      `<li><svg class="key" viewBox="0 0 30 10" aria-hidden="true"><line class="limit l95" x1="0" x2="30" y1="5" y2="5"/></svg>${esc(t('funnel_95'))}</li>`,
      `<li><svg class="key" viewBox="0 0 30 10" aria-hidden="true"><line class="limit l998" x1="0" x2="30" y1="5" y2="5"/></svg>${esc(t('funnel_998'))}</li>`,
      `<li><svg class="key" viewBox="0 0 30 10" aria-hidden="true"><line class="natline" x1="0" x2="30" y1="5" y2="5"/></svg>${esc(t('funnel_national'))}</li>`,
    ].concat(BANDS.map((b) => `<li><span class="swatch dot" style="background:${BAND_FILL[b]}"></span>${esc(t('band_' + b))}</li>`)).join('');
    const svg = $('#funnel svg');
    svg.addEventListener('click', (e) => {
      const c = e.target.closest('circle.pt');
      if (c) location.hash = '#/municipality/' + c.dataset.code;
    });
    const byCode = Object.fromEntries(pts.map((p) => [p.code, p]));
    svg.addEventListener('mouseover', (e) => {
      const c = e.target.closest('circle.pt');
      const p = c && byCode[c.dataset.code];
      if (!p) return;
      $('#funneltip').innerHTML = `<strong>${esc(p.name)}</strong> (${esc(p.province)})<br>${esc(t('count'))}: ${fmt(p.observed, { int: true })} · ` +
        `${esc(t('expected'))}: ${fmt(p.expected)} · ${esc(t('ratio'))}: ${fmt(p.ratio)} · ${esc(t('shrunk'))}: ${indexCell(p, 'shrunk_ratio')}<br>${esc(t('band_' + p.band))}`;
    });
    const z = (p) => { const v = num(p.funnel_z); return v === null ? -Infinity : v; };
    const out = pts.filter((p) => p.band === 'above_998' && (!prov || p.province === prov)).sort((a, b) => z(b) - z(a));
    $('#funnel-out tbody').innerHTML = out.length ? out.map((p) => `<tr data-code="${esc(p.code)}">
      <th scope="row"><a class="rowlink" data-key="fo-${esc(p.code)}" href="#/municipality/${esc(p.code)}">${esc(p.name)}</a></th>
      <td class="num">${fmt(p.observed, { int: true })}</td><td class="num">${fmt(p.expected)}</td>
      <td class="num">${fmt(p.ratio)}</td><td class="num">${fmt(p.funnel_z)}</td></tr>`).join('') :
      `<tr><td colspan="5" class="empty">${esc(t('funnel_none'))}</td></tr>`;
    for (const a of $$('#funnel-out a.rowlink')) {
      const code = a.closest('tr').dataset.code;
      const mark = (on) => { const c = $(`#funnel circle[data-code="${code}"]`); if (c) c.classList.toggle('hl', on); };
      a.addEventListener('focus', () => mark(true));
      a.addEventListener('blur', () => mark(false));
    }
  }

  // (2c) regions: every indicator per province, RIEC region or police unit,
  // pooled by the API as the national figure is and against it; the map
  // colours each municipality by its region's index and outlines the regions.
  const LEVELS = ['province', 'riec_region', 'police_unit'];
  function regionLevel(r) { return LEVELS.includes(r.query.level) ? r.query.level : 'province'; }
  // The outline of a region: the edges of its municipalities' paths that no
  // other member shares (the map's neighbours share their edges exactly), as
  // one path of segments. Cached per set of members.
  const outlineCache = new Map();
  function regionOutline(codes) {
    const key = codes.join(',');
    if (outlineCache.has(key)) return outlineCache.get(key);
    const edges = new Map();
    const add = (a, b) => {
      const k = a < b ? a + '|' + b : b + '|' + a;
      const e = edges.get(k);
      if (e) e.n++; else edges.set(k, { a, b, n: 1 });
    };
    for (const code of codes) {
      const d = (state.map.municipalities || {})[code];
      if (!d) continue;
      for (const ring of d.split('M')) {
        if (!ring.trim()) continue;
        const pts = ring.replace(/Z/gi, '').split('L').map((p) => p.trim()).filter(Boolean);
        for (let i = 0; i + 1 < pts.length; i++) add(pts[i], pts[i + 1]);
        if (pts.length > 2 && pts[0] !== pts[pts.length - 1]) add(pts[pts.length - 1], pts[0]);
      }
    }
    let out = '';
    for (const e of edges.values()) if (e.n === 1) out += `M${e.a}L${e.b}`;
    if (outlineCache.size > 200) outlineCache.clear();
    outlineCache.set(key, out);
    return out;
  }
  function regionHash(r, ind, region) {
    return routeHash('regions', [ind.pack, ind.id], Object.assign({}, r.query, { level: regionLevel(r), region }));
  }
  function renderRegionsShell(r, ind) {
    const level = regionLevel(r);
    const dl = csvUrl('/api/v1/regions', { by: level, indicator: ind.id, pack: ind.pack });
    $('#main').innerHTML = `<h1 id="view-title">${esc(t('regions_title', { title: ind.title || ind.id }))}</h1>
      <form class="controls" role="search" onsubmit="return false">
        <label>${esc(t('theme'))}<select id="f-theme">${themeOptions(r.query.theme || '')}</select></label>
        <label>${esc(t('indicator'))}<select id="f-indicator">${indicatorOptions(indicatorKey(ind), r.query.theme || '')}</select></label>
        <label>${esc(t('level'))}<select id="f-level">${LEVELS.map((l) =>
          `<option value="${l}"${l === level ? ' selected' : ''}>${esc(t('level_' + l))}</option>`).join('')}</select></label>
      </form>
      ${downloads([['dl-regions', dl, 'download_regions']], 'download_regions_hint')}
      <div id="facts"></div>
      <p class="sub" id="regions-note"></p>
      <div class="maplayout">
        <div class="mapbox"><div id="map"></div></div>
        <div>
          <p class="maptip" id="maptip" aria-live="polite">${esc(t('regions_hint'))}</p>
          <div id="maplegend"></div>
          <section id="region-members" aria-live="polite"></section>
        </div>
      </div>
      <div class="tablewrap"><table class="nav" id="regions" aria-describedby="regions-cap">
        <caption id="regions-cap"></caption>
        <thead><tr>
          <th scope="col" class="num" aria-sort="ascending">${esc(t('rank'))}</th>
          <th scope="col">${esc(t('level_' + level))}</th>
          <th scope="col" class="num">${esc(t('members'))}</th>
          <th scope="col" class="num">${esc(t('population'))}</th>
          <th scope="col" class="num">${esc(t('count'))}</th>
          <th scope="col" class="num">${esc(mainLabel(ind))}</th>
          <th scope="col" class="num">${esc(t('national'))}</th>
          <th scope="col" class="num">${esc(t('index'))}</th>
          ${countable(ind) ? `<th scope="col" class="num">${esc(t('expected'))}</th><th scope="col" class="num">${esc(t('poisson_p'))}</th>` : ''}
        </tr></thead><tbody></tbody></table></div>`;
    wireIndicatorControls('regions');
    $('#f-level').addEventListener('change', (e) => {
      setQuery({ level: e.target.value === 'province' ? '' : e.target.value, region: '' });
      renderShell();
      refresh(true);
    });
  }
  function renderRegionsData(r, ind, data) {
    const level = regionLevel(r);
    if (data.by !== level) return;  // the answer for the grouping before a change
    const min = data.disclosure_min_count;
    const geo = state.map;
    $('#facts').innerHTML = indicatorFacts(ind, data.indicators[0]);
    $('#maplegend').innerHTML = legend(min);
    const regions = data.regions.map((g) => Object.assign({ cell: g.figures[0] }, g));
    const byName = Object.fromEntries(regions.map((g) => [g.region, g]));
    const regionOf = {};
    for (const g of regions) for (const code of g.municipalities) regionOf[code] = g;
    const sel = byName[r.query.region] ? r.query.region : '';
    // Empty grouping, unassigned municipalities.
    const col = t('level_' + level);
    let note = '';
    if (!regions.length) note = t(data.in_file ? 'regions_none' : 'regions_no_column', { col: level });
    if (data.unassigned.length && regions.length) {
      const names = data.unassigned.map((c) => (state.byCode[c] || {}).name || c);
      note = `${t('regions_unassigned', { n: data.unassigned.length, level: col.toLowerCase() })} ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}`;
    }
    $('#regions-note').textContent = note;
    // Map: every municipality in its region's class; region outlines on top.
    let paths = '';
    for (const [code, d] of Object.entries(geo.municipalities)) {
      const g = regionOf[code];
      let fill = '#e3e5e8';
      let cls = 'none';
      if (g && g.cell.suppressed) { fill = 'url(#hatch)'; cls = 'suppressed'; } else if (g) {
        const c = ratioClass(g.cell.national_ratio);
        if (c !== null) { fill = CLASS_FILL[c]; cls = String(c); }
      }
      const m = state.byCode[code];
      const label = `${m ? m.name : code}${g ? ' – ' + g.region + ': ' + (g.cell.suppressed ? t('cls_supp', { min }) :
        t('index') + ' ' + (num(g.cell.national_ratio) !== null ? fmt(num(g.cell.national_ratio) * 100, { int: true }) : '–')) : ''}`;
      paths += `<path class="m" d="${d}" fill="${fill}" data-code="${esc(code)}" data-class="${cls}"${
        g ? ` data-region="${esc(g.region)}"` : ''}><title>${esc(label)}</title></path>`;
    }
    for (const g of regions) {
      paths += `<path class="region${g.region === sel ? ' sel' : ''}" d="${regionOutline(g.municipalities)}" data-region="${esc(g.region)}"/>`;
    }
    $('#map').innerHTML = `<svg viewBox="${geo.viewBox.join(' ')}" role="img" aria-label="${esc(t('regions_map_label', { level: col.toLowerCase(), title: ind.title || ind.id }))}">
      <defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
        <rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="#d6d9dd"/></pattern></defs>${paths}</svg>`;
    // Choosing a region changes the address (bookmarkable) but only redraws
    // the data, so keyboard focus stays where it was.
    const choose = (region) => { setQuery({ region }); renderData(); };
    const svg = $('#map svg');
    svg.addEventListener('click', (e) => {
      const p = e.target.closest('path.m');
      if (!p) return;
      if (p.dataset.region !== undefined) choose(p.dataset.region);
      else location.hash = '#/municipality/' + p.dataset.code;
    });
    svg.addEventListener('mouseover', (e) => {
      const p = e.target.closest('path.m');
      const g = p && regionOf[p.dataset.code];
      const m = p && state.byCode[p.dataset.code];
      if (!p) return;
      if (!g) { $('#maptip').innerHTML = `<strong>${esc(m ? m.name : p.dataset.code)}</strong>`; return; }
      $('#maptip').innerHTML = `<strong>${esc(g.region)}</strong> (${esc(m ? m.name : '')})<br>${esc(t('count'))}: ${
        ind.aggregate === 'value' ? '–' : countCell(g.cell, min)} · ${esc(mainLabel(ind))}: ${g.cell.suppressed ? '–' : mainValue(ind, g.cell)} · ${
        esc(t('index'))}: ${indexCell(g.cell)}`;
    });
    // Table: the API's order (ranked regions first).
    $('#regions-cap').textContent = t('regions_caption', { n: regions.length, level: col.toLowerCase() });
    $('#regions tbody').innerHTML = regions.length ? regions.map((g) => {
      const c = g.cell;
      return `<tr data-region="${esc(g.region)}"${c.suppressed ? ' data-suppressed="true"' : ''}${g.region === sel ? ' aria-current="true" class="sel"' : ''}>
      <td class="num">${c.rank === null ? '–' : esc(c.rank)}</td>
      <th scope="row"><a class="rowlink" data-key="reg-${esc(g.region)}" href="${esc(regionHash(r, ind, g.region))}">${esc(g.region)}</a></th>
      <td class="num" data-col="members">${fmt(g.municipalities.length, { int: true })}</td>
      <td class="num">${fmt(g.population, { int: true })}</td>
      <td class="num" data-col="count">${ind.aggregate === 'value' ? '–' : countCell(c, min)}</td>
      <td class="num" data-col="main">${c.suppressed ? '<span class="suppressed">–</span>' : mainValue(ind, c)}</td>
      <td class="num">${nationalValue(ind, c.national_rate)}</td>
      <td class="num" data-col="index">${indexCell(c)}</td>
      ${countable(ind) ? `<td class="num" data-col="expected">${derivedCell(c, fmt(c.expected))}</td><td class="num" data-col="poisson_p">${derivedCell(c, fmt(c.poisson_p))}</td>` : ''}
    </tr>`;
    }).join('') : `<tr><td colspan="${countable(ind) ? 10 : 8}" class="empty">${esc(note)}</td></tr>`;
    for (const a of $$('#regions a.rowlink')) {
      a.addEventListener('click', (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;  // a new tab: the address
        e.preventDefault();
        choose(a.closest('tr').dataset.region);
      });
    }
    // The chosen region's municipalities, each a link to its page.
    const g = byName[sel];
    $('#region-members').innerHTML = g ? `<h2 id="members-h">${esc(t('region_members', { region: g.region }))}</h2>
      <div class="tablewrap"><table class="nav" id="region-munis" aria-labelledby="members-h"><thead><tr>
        <th scope="col">${esc(t('municipality'))}</th><th scope="col">${esc(t('province'))}</th><th scope="col" class="num">${esc(t('population'))}</th>
      </tr></thead><tbody>${g.municipalities.map((code) => {
        const m = state.byCode[code] || { name: code };
        return `<tr data-code="${esc(code)}"><th scope="row"><a class="rowlink" data-key="rm-${esc(code)}" href="#/municipality/${esc(code)}">${esc(m.name)}</a></th>
          <td>${esc(m.province || '')}</td><td class="num">${fmt(m.population, { int: true })}</td></tr>`;
      }).join('')}</tbody></table></div>` : (regions.length ? `<p class="sub">${esc(t('region_pick'))}</p>` : '');
    for (const a of $$('#region-munis a.rowlink')) {
      const code = a.closest('tr').dataset.code;
      const hl = (on) => { const p = $(`#map path[data-code="${code}"]`); if (p) p.classList.toggle('hl', on); };
      a.addEventListener('focus', () => hl(true));
      a.addEventListener('blur', () => hl(false));
    }
  }

  // (3) municipality
  function sparkline(history, national) {
    const pts = history.map(num);
    const vals = pts.filter((v) => v !== null && Number.isFinite(v));
    if (vals.length < 2) return '<span class="suppressed">–</span>';
    const nat = num(national);
    const lo = Math.min(...vals, nat !== null ? nat : Infinity, 0);
    const hi = Math.max(...vals, nat !== null ? nat : -Infinity);
    const span = hi - lo || 1;
    const w = 100, h = 24;
    const x = (i) => (i / (pts.length - 1)) * w;
    const y = (v) => h - 2 - ((v - lo) / span) * (h - 4);
    let segs = '', cur = [];
    pts.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { if (cur.length) segs += `<polyline points="${cur.join(' ')}"/>`; cur = []; return; }
      cur.push(x(i).toFixed(1) + ',' + y(v).toFixed(1));
    });
    if (cur.length) segs += `<polyline points="${cur.join(' ')}"/>`;
    const natLine = nat !== null && Number.isFinite(nat) ? `<line x1="0" x2="${w}" y1="${y(nat).toFixed(1)}" y2="${y(nat).toFixed(1)}"/>` : '';
    return `<svg class="spark" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" aria-hidden="true">${natLine}${segs}</svg>`;
  }
  function positionBar(row) {
    const r = num(row.national_ratio);
    if (row.suppressed || r === null) return '<span class="suppressed">–</span>';
    const l = Number.isFinite(r) ? Math.max(-2, Math.min(2, Math.log2(Math.max(r, 1e-9)))) : 2;
    return `<span class="posbar" aria-hidden="true"><i style="left:${((l + 2) / 4) * 100}%"></i></span>`;
  }
  function conditionRows(a) {
    return (a.conditions || []).map((c) => {
      const supp = c.suppressed === true;
      return `<tr${supp ? ' data-suppressed="true"' : ''}>
        <td>${esc(c.indicator)}</td><td>${esc(c.measure)}</td>
        <td class="num">${esc(c.op)} ${fmt(c.value)}</td>
        <td class="num" data-col="observed">${fmt(c.observed)}</td>
        <td class="num" data-col="count">${supp ? `<span class="suppressed">&lt;&nbsp;${esc(state.data && state.data.disclosure_min_count || 5)}</span>` : c.window ? fmt(c.count, { int: true }) : '–'}</td>
        <td class="num">${fmt(c.expected)}</td>
        <td>${esc(c.window || '')}</td>
        <td>${c.held ? `<span class="held">✓ ${esc(t('yes'))}</span>` : `<span class="notheld">✗ ${esc(t('no'))}</span>`}</td>
      </tr>`;
    }).join('');
  }
  function alertCard(a) {
    const rule = state.rules[a.pack + '/' + a.rule] || {};
    return `<article class="card" id="alert-${esc(a.alert_id)}" data-alert="${esc(a.alert_id)}" tabindex="-1" aria-labelledby="ah-${esc(a.alert_id)}">
      <h3 id="ah-${esc(a.alert_id)}">${sevBadge(a.severity)} ${esc(rule.title || a.rule)}</h3>
      <p class="sub">${esc(a.rule)} · ${esc(a.pack)} · ${esc(t('event_time'))} ${fmtTime(a.event_time)} · ${esc(t('emitted'))} ${fmtTime(a.emitted_at)}${
        a.score !== undefined ? ' · ' + esc(t('score')) + ' ' + fmt(a.score) : ''}</p>
      <div class="tablewrap"><table class="conditions"><caption>${esc(t('conditions'))}</caption><thead><tr>
        <th scope="col">${esc(t('indicator'))}</th><th scope="col">${esc(t('measure'))}</th>
        <th scope="col" class="num">${esc(t('threshold'))}</th><th scope="col" class="num">${esc(t('observed'))}</th>
        <th scope="col" class="num">${esc(t('count'))}</th><th scope="col" class="num">${esc(t('expected'))}</th>
        <th scope="col">${esc(t('window_col'))}</th><th scope="col">${esc(t('held'))}</th>
      </tr></thead><tbody>${conditionRows(a)}</tbody></table></div>
      <p class="sub">${esc(t('evidence', { n: (a.evidence || []).length }))}</p>
    </article>`;
  }
  // The newest alerts as cards; older ones behind a disclosure widget (open
  // when the linked alert is among them).
  function alertSection(alerts, linked) {
    if (!alerts.length) return `<p class="empty">${esc(t('no_alerts'))}</p>`;
    const SHOWN = 4;
    const first = alerts.slice(0, SHOWN), rest = alerts.slice(SHOWN);
    let html = `<div class="cards">${first.map(alertCard).join('')}</div>`;
    if (rest.length) {
      const open = linked && rest.some((a) => a.alert_id === linked) ? ' open' : '';
      html += `<details class="more"${open}><summary>${esc(t('more_alerts', { n: rest.length }))}</summary>
        <div class="cards">${rest.map(alertCard).join('')}</div></details>`;
    }
    return html;
  }
  // SPEC 8.3: the buurten of a municipality for its neighbourhood indicators,
  // small counts suppressed by the API (shown as a dash).
  function neighbourhoodTable(b, min) {
    if (!b || !b.available || !b.indicators.length || !b.neighbourhoods.length) return '';
    const cell = (f, field) => f.suppressed ? '<span class="suppressed">–</span>' : fmt(f[field]);
    return `<h2 id="buurten-h">${esc(t('neighbourhoods'))}</h2><p class="sub">${esc(t('buurt_note'))}</p>
      <div class="tablewrap"><table class="neighbourhoods" aria-labelledby="buurten-h"><thead><tr>
        <th scope="col">${esc(t('buurt'))}</th>
        ${b.indicators.map((i) => `<th scope="col" class="num">${esc(i.title || i.id)} · ${esc(t('count'))}</th>
          <th scope="col" class="num">${esc(t('index'))}</th><th scope="col" class="num">${esc(t('muni_ratio'))}</th>`).join('')}
      </tr></thead><tbody>${b.neighbourhoods.map((n) => `<tr data-buurt="${esc(n.code)}">
        <th scope="row">${esc(n.name)} <span class="sub">${esc(n.code)}</span></th>
        ${n.figures.map((f) => `<td class="num" data-col="count">${f.suppressed ? `<span class="suppressed" title="${esc(t('suppressed'))}">&lt; ${min}</span>` : fmt(f.count, { int: true })}</td>
          <td class="num" data-col="index">${cell(f, 'national_ratio')}</td>
          <td class="num" data-col="muni_ratio">${cell(f, 'municipality_ratio')}</td>`).join('')}
      </tr>`).join('')}</tbody></table></div>`;
  }

  function renderMunicipality(r, data) {
    const min = data.disclosure_min_count;
    const recent = (state.byCode[data.code] || {}).recent_alerts;
    const groups = {};
    for (const i of data.indicators) (groups[i.theme] = groups[i.theme] || []).push(i);
    // Shrunk index and funnel z for indicators that count events; the q value
    // (column only in a theme where some rule reads it) where one is ranked.
    const tables = Object.keys(groups).sort().map((th) => {
      const withQ = groups[th].some((i) => i.q_ranked);
      return `<h2>${esc(t('indicators'))}: ${esc(th)}</h2>
      <div class="tablewrap"><table class="nav indicators" data-theme="${esc(th)}"><thead><tr>
        <th scope="col">${esc(t('indicator'))}</th><th scope="col" class="num">${esc(t('count'))}</th>
        <th scope="col" class="num">${esc(t('value'))}</th><th scope="col" class="num">${esc(t('national'))}</th>
        <th scope="col" class="num">${esc(t('index'))}</th><th scope="col" class="num">${esc(t('shrunk'))}</th>
        <th scope="col">${esc(t('position'))}</th><th scope="col" class="num">${esc(t('funnel_z'))}</th>
        ${withQ ? `<th scope="col" class="num">${esc(t('q_value'))}</th>` : ''}
        <th scope="col" class="num">${esc(t('percentile'))}</th><th scope="col">${esc(t('history'))}</th>
      </tr></thead><tbody>${groups[th].map((i) => `<tr data-indicator="${esc(indicatorKey(i))}"${i.suppressed ? ' data-suppressed="true"' : ''}>
        <th scope="row"><a class="rowlink" data-key="ind-${esc(indicatorKey(i))}" href="${routeHash('ranking', [i.pack, i.id], {})}">${esc(i.title || i.id)}</a>
          <div class="sub">${esc(t('aggregate_' + i.aggregate))}${i.window ? ' · ' + esc(t('window', { w: i.window })) : ''}${
            countable(i) ? ` · <a class="funnel-link" href="${routeHash('funnel', [i.pack, i.id], { hl: data.code })}">${esc(t('funnel_link'))}</a>` : ''}</div></th>
        <td class="num" data-col="count">${i.aggregate === 'value' ? '–' : countCell(i, min)}</td>
        <td class="num" data-col="main">${i.suppressed ? '<span class="suppressed">–</span>' : mainValue(i, i)}</td>
        <td class="num">${nationalValue(i, i.national_rate)}</td>
        <td class="num" data-col="index">${indexCell(i)}</td>
        <td class="num" data-col="shrunk">${countable(i) ? indexCell(i, 'shrunk_ratio') : '–'}</td>
        <td>${positionBar(i)}</td>
        <td class="num" data-col="funnel_z">${countable(i) ? zCell(i) : '–'}</td>
        ${withQ ? `<td class="num" data-col="q">${i.q_ranked ? qCell(i) : '–'}</td>` : ''}
        <td class="num">${i.suppressed ? '<span class="suppressed">–</span>' : fmt(i.percentile)}</td>
        <td>${sparkline(i.history || [], i[mainField(i)] === undefined ? null : i.national_rate)}</td>
      </tr>`).join('')}</tbody></table></div>`;
    }).join('');
    const alerts = data.alerts || [];
    const moreOpen = !!($('details.more') && $('details.more').open);
    $('#main').innerHTML = `<h1 id="view-title">${esc(data.name)} <small class="sub">${esc(data.code)}</small></h1>
      <p class="sub">${esc(t('muni_sub', { province: data.province, pop: fmt(data.population, { int: true }), n: recent === undefined ? alerts.length : recent }))}</p>
      ${downloads([['dl-figures', csvUrl('/api/v1/municipalities/' + encodeURIComponent(data.code), {}), 'download_figures'],
        ['dl-muni-alerts', csvUrl('/api/v1/alerts', { municipality: data.code, limit: 10000 }), 'download_muni_alerts']])}
      <h2 id="alerts-h">${esc(t('recent_alerts'))}</h2>
      <section aria-labelledby="alerts-h">${alertSection(alerts, r.query.alert)}</section>
      ${tables}${neighbourhoodTable(data.buurten, min)}`;
    if (moreOpen && $('details.more')) $('details.more').open = true;
    document.title = data.name + ' – zicht';
    if (r.query.alert) {
      const card = document.getElementById('alert-' + r.query.alert);
      if (card && !state.focusedAlert) { card.focus(); card.scrollIntoView({ block: 'start' }); state.focusedAlert = true; }
    }
  }

  // (4) alerts
  function renderAlertsShell(r) {
    const sevs = ['info', 'low', 'medium', 'high', 'critical'];
    $('#main').innerHTML = `<h1 id="view-title">${esc(t('alerts_title'))}</h1>
      <form class="controls" role="search" onsubmit="return false">
        <label>${esc(t('severity'))}<select id="f-sev"><option value="">${esc(t('all_severities'))}</option>${
          sevs.map((s) => `<option value="${s}"${r.query.severity === s ? ' selected' : ''}>≥ ${esc(t('sev_' + s))}</option>`).join('')}</select></label>
        <label>${esc(t('province'))}<select id="f-province">${provinceOptions(r.query.province || '')}</select></label>
        <label>${esc(t('search'))}<input id="f-q" type="search" autocomplete="off" value="${esc(r.query.q || '')}"></label>
      </form>
      ${downloads([['dl-alerts', csvUrl('/api/v1/alerts', { limit: 10000 }), 'download_alerts']], 'download_all_alerts')}
      <div class="tablewrap"><table class="nav" id="alerts"><caption id="alerts-cap"></caption><thead><tr>
        <th scope="col">${esc(t('emitted'))}</th><th scope="col">${esc(t('event_time'))}</th><th scope="col">${esc(t('severity'))}</th>
        <th scope="col">${esc(t('rule'))}</th><th scope="col">${esc(t('municipality'))}</th><th scope="col">${esc(t('pack'))}</th>
        <th scope="col">${esc(t('conditions'))}</th></tr></thead><tbody></tbody></table></div>`;
    $('#f-sev').addEventListener('change', (e) => { setQuery({ severity: e.target.value }); renderData(); });
    $('#f-province').addEventListener('change', (e) => { setQuery({ province: e.target.value }); renderData(); });
    $('#f-q').addEventListener('input', (e) => { setQuery({ q: e.target.value }); renderData(); });
  }
  function renderAlertsData(r) {
    const order = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
    const minSev = r.query.severity ? order[r.query.severity] : -1;
    const prov = r.query.province || '';
    const q = (r.query.q || '').trim().toLowerCase();
    const rows = state.alerts.filter((a) => (order[a.severity] ?? 0) >= minSev &&
      (!prov || (state.byCode[a.municipality] || {}).province === prov) &&
      (!q || (a.municipality_name || '').toLowerCase().includes(q) || a.municipality.toLowerCase() === q)).slice(0, 500);
    $('#alerts-cap').textContent = t('alerts_caption', { n: rows.length });
    $('#alerts tbody').innerHTML = rows.map((a) => {
      const rule = state.rules[a.pack + '/' + a.rule] || {};
      const conds = (a.conditions || []).filter((c) => c.held).map((c) =>
        `${esc(c.indicator)} ${esc(c.measure)} ${esc(c.op)} ${fmt(c.value)}`).join('; ');
      return `<tr data-alert="${esc(a.alert_id)}" data-code="${esc(a.municipality)}">
        <td>${fmtTime(a.emitted_at)}</td><td>${fmtTime(a.event_time)}</td><td>${sevBadge(a.severity)}</td>
        <td>${esc(rule.title || a.rule)}<div class="sub">${esc(a.rule)}</div></td>
        <th scope="row"><a class="rowlink" data-key="al-${esc(a.alert_id)}" href="${routeHash('municipality', [a.municipality], { alert: a.alert_id })}">${esc(a.municipality_name || a.municipality)}</a></th>
        <td>${esc(a.pack)}</td><td class="sub">${conds}</td></tr>`;
    }).join('');
  }

  // --------------------------------------------------------- view control
  function renderShell() {
    const r = state.route;
    applyStaticText();
    if (isIndicatorView(r.view)) {
      const ind = currentIndicator(r);
      if (!ind) { $('#main').innerHTML = `<p class="empty">${esc(t('no_indicators'))}</p>`; return; }
      document.title = t('nav_' + r.view) + ': ' + (ind.title || ind.id) + ' – zicht';
      if (r.view === 'ranking') renderRankingShell(r, ind);
      else if (r.view === 'map') renderMapShell(r, ind);
      else if (r.view === 'regions') renderRegionsShell(r, ind);
      else renderFunnelShell(r, ind);
    } else if (r.view === 'alerts') {
      document.title = t('alerts_title') + ' – zicht';
      renderAlertsShell(r);
    } else if (r.view === 'municipality') {
      if (!state.data) $('#main').innerHTML = `<p class="loading">${esc(t('loading'))}</p>`;
    } else {
      $('#main').innerHTML = `<p class="error">${esc(t('not_found', { what: location.hash }))}</p>`;
    }
  }
  // Re-renders the data part of the view, keeping keyboard focus where it was.
  function renderData() {
    const r = state.route;
    const active = document.activeElement;
    const key = active && active.dataset ? active.dataset.key : null;
    const d = state.data;
    if (isIndicatorView(r.view) && d) {
      const ind = currentIndicator(r);
      if (r.view === 'ranking') renderRankingData(r, ind, d);
      else if (r.view === 'map') renderMapData(r, ind, d);
      else if (r.view === 'regions') renderRegionsData(r, ind, d);
      else if (countable(ind)) renderFunnelData(r, ind, d);
    } else if (r.view === 'municipality' && d) {
      renderMunicipality(r, d);
    } else if (r.view === 'alerts') {
      renderAlertsData(r);
    }
    if (key) { const el = document.querySelector(`[data-key="${CSS.escape(key)}"]`); if (el) el.focus(); }
  }

  let refreshing = false;
  let pending = null;  // a refresh asked for while one was running (true: forced)
  function routeKey(r) { return r.view + '/' + r.parts.join('/'); }
  async function refresh(force) {
    if (refreshing) { pending = pending || !!force; return; }
    refreshing = true;
    try {
      const status = await getJson('/api/v1/status');
      const key = [status.records, status.alerts, status.event_time, status.rule_set_version].join('|');
      const changed = key !== state.statusKey;
      if (state.status && status.rule_set_version !== state.status.rule_set_version) { await loadStatic(); renderShell(); force = true; }
      state.status = status;
      state.statusKey = key;
      renderStatus();
      const r = state.route;
      const viewKey = routeKey(r);
      // Only what changed: the view's data is fetched again when the engine
      // processed something (or the view changed), alerts only since the newest.
      if (!changed && !force && state.dataKey === viewKey) return;
      if (changed || !state.alertsSince || r.view === 'alerts') await loadAlerts();
      let data;
      try {
        data = await fetchViewData(r);
      } catch (e) {
        if (e.status === 404 && r.view === 'municipality') {
          $('#main').innerHTML = `<p class="error">${esc(t('not_found', { what: r.parts[0] }))}</p>`;
          state.dataKey = viewKey;
          return;
        }
        throw e;
      }
      if (routeKey(state.route) !== viewKey) { pending = true; return; }  // navigated meanwhile
      state.data = data;
      state.dataKey = viewKey;
      renderData();
      say(t('updated', { t: new Date().toLocaleTimeString(locale()) }));
      document.body.dataset.ready = 'true';
    } catch (e) {
      say(t('offline', { e: e.message }), true);
    } finally {
      refreshing = false;
      if (pending !== null) { const f = pending; pending = null; refresh(f); }
    }
  }

  function onRoute() {
    const prev = state.route;
    state.route = parseRoute();
    state.focusedAlert = false;
    const sameView = prev && prev.view === state.route.view && prev.parts.join('/') === state.route.parts.join('/');
    if (!sameView) { state.data = null; state.dataKey = ''; document.body.dataset.ready = 'false'; }
    renderShell();
    if (state.data) renderData();
    refresh(true);
    if (prev && !sameView) $('#main').focus();
  }

  // Arrow keys move between the rows of a data table (one link per row).
  document.addEventListener('keydown', (e) => {
    const link = e.target.closest && e.target.closest('table.nav a.rowlink');
    if (!link) return;
    const links = $$('a.rowlink', link.closest('table'));
    const i = links.indexOf(link);
    let j = null;
    if (e.key === 'ArrowDown') j = i + 1;
    else if (e.key === 'ArrowUp') j = i - 1;
    else if (e.key === 'PageDown') j = i + 10;
    else if (e.key === 'PageUp') j = i - 10;
    else if (e.key === 'Home' && e.ctrlKey) j = 0;
    else if (e.key === 'End' && e.ctrlKey) j = links.length - 1;
    if (j === null) return;
    e.preventDefault();
    links[Math.max(0, Math.min(links.length - 1, j))].focus();
  });
  for (const b of $$('.lang button')) {
    b.addEventListener('click', () => {
      lang = b.dataset.lang;
      localStorage.setItem('zicht.lang', lang);
      renderShell();
      renderData();
      renderStatus();
    });
  }
  window.addEventListener('hashchange', onRoute);

  (async function start() {
    state.route = parseRoute();
    applyStaticText();
    for (;;) {
      try { await loadStatic(); break; } catch (e) { say(t('offline', { e: e.message }), true); await new Promise((res) => setTimeout(res, 2000)); }
    }
    if (!location.hash) history.replaceState(null, '', '#/ranking');
    onRoute();
    setInterval(() => refresh(false), POLL_MS);
  })();
})();
