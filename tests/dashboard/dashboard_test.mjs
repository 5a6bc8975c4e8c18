// Browser tests of the dashboard: a real `zicht run` on a generated feed, the
// page in Debian's Chromium driven by playwright-core. Run by
// scripts/dashboard-test (ctest: dashboard_browser_test, label integration).
//
// Environment: ZICHT_BIN (the zicht binary), ZICHT_SOURCE_DIR (repository
// root), ZICHT_DASHBOARD_NODE_MODULES (folder whose node_modules holds
// playwright-core), ZICHT_CHROMIUM (default /usr/bin/chromium),
// ZICHT_SCREENSHOTS=1 to write docs/screenshots/*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const ROOT = process.env.ZICHT_SOURCE_DIR;
const ZICHT = process.env.ZICHT_BIN;
const CHROMIUM = process.env.ZICHT_CHROMIUM || '/usr/bin/chromium';
const require = createRequire(path.join(process.env.ZICHT_DASHBOARD_NODE_MODULES, 'package.json'));
const { chromium } = require('playwright-core');

const SEED = 11;
const DAYS = 365;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'zicht-dashboard-'));
const shots = process.env.ZICHT_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : path.join(tmp, 'screenshots');
mkdirSync(shots, { recursive: true });

// The shipped ondermijning pack when it is there, else the SPEC example pack.
const SHIPPED = path.join(ROOT, 'config', 'rules', 'ondermijning.yaml');
const PACK = existsSync(SHIPPED) ? SHIPPED : path.join(ROOT, 'tests', 'rules', 'data', 'spec_example.yaml');
// A drug indicator of that pack: synthetic labs are rare nationally and 40 % of
// a drug_production anomaly's extra findings, so planted municipalities stand out.
const DRUG = existsSync(SHIPPED) ? { pack: 'ondermijning', id: 'synthetic_labs' } : { pack: 'ondermijning-example', id: 'drug_sites' };
// A second pack whose rule reads q_value, so that the page has a q ranking to
// show (the shipped packs may not read it).
const Q_PACK = { pack: 'dashboard-q', id: 'labs_q' };
// Every event names a CBS buurt (the shipped synthetic table), for the
// neighbourhood table of the municipality page (SPEC 8.3).
const NEIGHBOURHOODS = path.join(ROOT, 'config', 'reference', 'neighbourhoods.csv');
const Q_PACK_YAML = `apiVersion: zicht/v1
kind: RulePack
metadata: { name: ${Q_PACK.pack}, theme: ondermijning }
indicators:
  - id: ${Q_PACK.id}
    title: Synthetic drug labs, Benjamini-Hochberg q (test pack)
    event: drug_finding
    aggregate: count
    where: { kind: [synthetic_lab] }
    window: 365d
  - id: cash_buurt
    title: Cash reports per buurt (test pack)
    event: suspicious_transaction
    aggregate: count
    where: { channel: [cash] }
    window: 90d
    level: neighbourhood
rules:
  - id: labs-q
    title: Synthetic labs, false discoveries controlled
    severity: low
    min_events: 5
    cooldown: 365d
    conditions:
      - { indicator: ${Q_PACK.id}, measure: q_value, op: "<=", value: 0.01 }
`;

let engine;
let engineLog = '';
let base;
let context;
let page;
let truth;
let eventsFile;
const external = [];
const pageErrors = [];

async function api(p) {
  const r = await fetch(base + p);
  assert.equal(r.status, 200, `${p}: HTTP ${r.status}`);
  return r.json();
}
function sleep(ms) { return new Promise((res) => setTimeout(res, ms)); }
async function until(what, fn, timeoutMs = 120000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- zicht log ---\n${engineLog.slice(-3000)}`);
    await sleep(500);
  }
}
async function open(hash) {
  await page.goto(base + '/' + hash);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
}
// RFC 4180 as the API writes it (CRLF, quoted fields with "" escapes).
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  const [header, ...body] = rows;
  return { header, rows: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))) };
}
// Clicks a download link; returns the suggested file name and the parsed CSV.
async function download(selector) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const file = await dl.path();
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\r\n'), 'rows end with CRLF');
  return { name: dl.suggestedFilename(), ...parseCsv(text) };
}
const FIGURES = ['suppressed', 'live', 'count', 'value', 'rate', 'expected', 'national_rate', 'national_ratio',
  'national_zscore', 'poisson_p', 'percentile', 'trend_ratio', 'shrunk_ratio', 'funnel_z', 'q_value'];
const DERIVED = ['count', 'value', 'rate', 'expected', 'national_ratio', 'national_zscore', 'poisson_p', 'percentile', 'trend_ratio',
  'shrunk_ratio', 'funnel_z', 'q_value'];

async function shot(name, fullPage = false) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage });
}

before(async () => {
  eventsFile = path.join(tmp, 'events.jsonl');
  const truthFile = path.join(tmp, 'truth.jsonl');
  execFileSync(ZICHT, ['generate', '--days', String(DAYS), '--seed', String(SEED), '--municipalities',
    path.join(ROOT, 'config', 'reference', 'municipalities.csv'), '--neighbourhoods', NEIGHBOURHOODS,
    '--anomalies', truthFile, '-o', eventsFile],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  truth = readFileSync(truthFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const lines = readFileSync(eventsFile, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  const qPack = path.join(tmp, 'q-pack.yaml');
  writeFileSync(qPack, Q_PACK_YAML);
  const config = path.join(tmp, 'engine.yaml');
  writeFileSync(config, [
    `source: { file: { path: ${JSON.stringify(eventsFile)}, follow: true } }`,
    `sinks:`,
    `  alerts: { file: ${JSON.stringify(path.join(tmp, 'alerts.jsonl'))} }`,
    `  dead_letter: { file: ${JSON.stringify(path.join(tmp, 'dead-letter.jsonl'))} }`,
    `state: { dir: ${JSON.stringify(path.join(tmp, 'state'))} }`,
    `rules: [${JSON.stringify(PACK)}, ${JSON.stringify(qPack)}]`,
    `reference: { municipalities: ${JSON.stringify(path.join(ROOT, 'config', 'reference', 'municipalities.csv'))}, neighbourhoods: ${JSON.stringify(NEIGHBOURHOODS)} }`,
    `http: { port: 0, bind: 127.0.0.1 }`,
    `allowed_lateness: 1d`, ''].join('\n'));
  engine = spawn(ZICHT, ['run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const s of [engine.stdout, engine.stderr]) s.on('data', (d) => { engineLog += d.toString(); });
  const port = await until('the HTTP port in the log', async () => (engineLog.match(/http on [^\s]*:(\d+)/) || [])[1], 30000);
  base = `http://127.0.0.1:${port}`;
  // Processed: every line of the feed read (blank lines are skipped, not counted).
  await until('the feed to be processed', async () => (await api('/api/v1/status')).records >= lines, 240000);

  const profile = path.join(tmp, 'chromium-profile');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) external.push(r.url()); });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  if (context) await context.close();
  if (engine) {
    engine.kill('SIGTERM');
    await new Promise((res) => { engine.once('exit', res); setTimeout(res, 10000); });
  }
  rmSync(tmp, { recursive: true, force: true });
});

test('ranking of a drug indicator puts the planted drug anomalies at the top', async () => {
  const planted = new Set(truth.filter((a) => a.kind === 'drug_production' || a.kind === 'combined').map((a) => a.municipality));
  assert.ok(planted.size >= 2, `the feed plants drug anomalies (${[...planted]})`);
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  await page.waitForSelector('#ranking tbody tr');
  const rows = await page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => ({
    code: tr.dataset.code, rank: tr.cells[0].textContent.trim(), index: tr.querySelector('[data-col=index] .idx').className })));
  assert.equal(rows.length, 342);
  // The table shows the API's order.
  const ranking = await api(`/api/v1/indicators/${DRUG.id}?pack=${DRUG.pack}`);
  assert.deepEqual(rows.slice(0, 20).map((r) => r.code), ranking.municipalities.slice(0, 20).map((m) => m.code));
  const top = rows.slice(0, planted.size + 2).map((r) => r.code);
  for (const code of planted) assert.ok(top.includes(code), `planted ${code} in the top ${top.length}: ${top}`);
  assert.ok(planted.has(rows[0].code), `rank 1 (${rows[0].code}) is a planted municipality`);
  assert.match(rows[0].index, /cls-6/, 'rank 1 is coloured "well above"');
  // The province filter keeps only that province.
  await page.selectOption('#f-province', 'Zeeland');
  const provs = await page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => tr.cells[2].textContent.trim()));
  assert.ok(provs.length === 13 && provs.every((p) => p === 'Zeeland'), `13 Zeeland rows, got ${provs.length}`);
  await page.selectOption('#f-province', '');
  await shot('ranking');
});

test('map of the Netherlands is coloured by the indicator and a municipality opens on click', async () => {
  await open(`#/map/${DRUG.pack}/${DRUG.id}`);
  const paths = await page.$$eval('#map path.m', (ps) => ps.map((p) => ({ code: p.dataset.code, cls: p.dataset.class, fill: p.getAttribute('fill') })));
  assert.equal(paths.length, 342, 'one path per municipality');
  assert.ok(paths.every((p) => /^GM\d{4}$/.test(p.code)));
  assert.ok(paths.some((p) => p.cls === '6') && paths.some((p) => p.cls === 'suppressed'), 'well-above and suppressed drawn');
  const ranking = await api(`/api/v1/indicators/${DRUG.id}?pack=${DRUG.pack}`);
  const first = ranking.municipalities[0];
  assert.equal(paths.find((p) => p.code === first.code).cls, '6', `${first.name} drawn "well above"`);
  const suppressed = ranking.municipalities.find((m) => m.suppressed);
  if (suppressed) assert.equal(paths.find((p) => p.code === suppressed.code).fill, 'url(#hatch)');
  await shot('map');
  // An indicator with many events in every municipality spreads over the scale.
  const broad = existsSync(SHIPPED) ? 'ondermijning/cash_reports' : 'ondermijning-example/cash_reports';
  await open(`#/map/${broad}`);
  const classes = new Set(await page.$$eval('#map path.m', (ps) => ps.map((p) => p.dataset.class)));
  assert.ok(['0', '1', '2', '3', '4', '5', '6'].filter((c) => classes.has(c)).length >= 4, `classes ${[...classes]}`);
  await page.click('#map path[data-code="GM0363"]');
  await page.waitForFunction(() => location.hash === '#/municipality/GM0363');
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.textContent('h1'), /Amsterdam/);
});

test('regions view ranks the regions of the indicator, colours the map by region and lists a region\'s municipalities', async () => {
  // The finest grouping the shipped municipalities file fills, else provinces.
  const q = (by, ind) => `/api/v1/regions?by=${by}&indicator=${ind.id}&pack=${ind.pack}`;
  let level = 'province';
  for (const l of ['riec_region', 'police_unit']) {
    if ((await api(q(l, DRUG))).regions.length) { level = l; break; }
  }
  const data = await api(q(level, DRUG));
  assert.equal(data.by, level);
  if (level === 'province') assert.equal(data.regions.length, 12, 'twelve provinces');
  const members = data.regions.flatMap((g) => g.municipalities);
  assert.equal(members.length + data.unassigned.length, 342, 'every municipality once');
  assert.equal(new Set(members).size, members.length);
  for (const g of data.regions) {
    const c = g.figures[0];
    if (c.count !== null) assert.ok(c.count >= data.disclosure_min_count, `${g.region} count ${c.count}`);
    if (c.suppressed) for (const k of ['count', 'rate', 'expected', 'national_ratio', 'poisson_p']) assert.equal(c[k], null);
  }
  // Pooled as the national figure: on an indicator with many events in every
  // municipality, a region's count is the sum of its municipalities' counts.
  const broad = existsSync(SHIPPED) ? { pack: 'ondermijning', id: 'cash_reports' } : { pack: 'ondermijning-example', id: 'cash_reports' };
  const ranking = await api(`/api/v1/indicators/${broad.id}?pack=${broad.pack}`);
  const count = Object.fromEntries(ranking.municipalities.map((m) => [m.code, m.count]));
  let checked = 0;
  for (const g of (await api(q(level, broad))).regions) {
    if (g.figures[0].suppressed || g.municipalities.some((c) => count[c] === null)) continue;
    assert.equal(g.figures[0].count, g.municipalities.reduce((s, c) => s + count[c], 0), `${g.region}: the sum of its municipalities`);
    checked++;
  }
  assert.ok(checked >= 1, 'some region with every municipality shown');

  await open(`#/regions/${DRUG.pack}/${DRUG.id}?level=${level}`);
  await page.waitForSelector('#regions tbody tr[data-region]');
  const rows = await page.$$eval('#regions tbody tr', (trs) => trs.map((tr) => ({
    region: tr.dataset.region, rank: tr.cells[0].textContent.trim(), count: tr.querySelector('[data-col=count]').textContent.trim() })));
  assert.deepEqual(rows.map((r) => r.region), data.regions.map((g) => g.region), 'the API\'s order');
  assert.equal(await page.$eval('#f-level', (e) => e.labels[0].textContent.trim() !== '' && e.value), level);
  // Map: every municipality drawn, coloured as its region; one outline per region.
  const paths = await page.$$eval('#map path.m', (ps) => ps.map((p) => ({ code: p.dataset.code, region: p.dataset.region, cls: p.dataset.class, fill: p.getAttribute('fill') })));
  assert.equal(paths.length, 342);
  const classOf = {};
  for (const p of paths) {
    if (p.region === undefined) { assert.equal(p.cls, 'none', `${p.code} in no region is grey`); continue; }
    if (classOf[p.region] === undefined) classOf[p.region] = p.cls;
    assert.equal(p.cls, classOf[p.region], `${p.code} drawn as the rest of ${p.region}`);
  }
  for (const g of data.regions) {
    const shown = paths.filter((p) => p.region === g.region);
    assert.equal(shown.length, g.municipalities.length, `${g.region}: its municipalities`);
    if (g.figures[0].suppressed) assert.ok(shown.every((p) => p.fill === 'url(#hatch)'), `${g.region} hatched`);
  }
  const outlines = await page.$$eval('#map path.region', (ps) => ps.map((p) => ({ region: p.dataset.region, d: p.getAttribute('d') })));
  assert.equal(outlines.length, data.regions.length);
  assert.ok(outlines.every((o) => /^M[\d.]+ [\d.]+L/.test(o.d)), 'outlines drawn');
  await shot('regions');
  // Download: the regions of the grouping, in the table's order.
  assert.match(await page.getAttribute('#dl-regions', 'href'), new RegExp(`by=${level}.*format=csv`));
  const csv = await download('#dl-regions');
  assert.match(csv.name, new RegExp(`^zicht-regions-${level}-${DRUG.pack}-${DRUG.id}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  assert.deepEqual(csv.rows.map((r) => r.region), rows.map((r) => r.region));
  // A region lists its municipalities; each opens its page.
  const first = data.regions[0];
  await page.click(`#regions tr[data-region="${first.region}"] a.rowlink`);
  await page.waitForSelector('#region-munis tbody tr');
  assert.equal(await page.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('region')), first.region, 'in the address');
  const listed = await page.$$eval('#region-munis tbody tr', (trs) => trs.map((tr) => tr.dataset.code));
  assert.deepEqual(listed, first.municipalities);
  assert.equal(await page.$eval('#map path.region.sel', (p) => p.dataset.region), first.region);
  await page.click(`#region-munis tr[data-code="${listed[0]}"] a.rowlink`);
  await page.waitForFunction((code) => location.hash === '#/municipality/' + code, listed[0]);
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.textContent('h1'), new RegExp(listed[0]));
});

test('ranking: shrunk index by default, the raw index by a control; the download follows', async () => {
  const shrunk = await api(`/api/v1/indicators/${DRUG.id}?pack=${DRUG.pack}`);
  const raw = await api(`/api/v1/indicators/${DRUG.id}?pack=${DRUG.pack}&by=national_ratio`);
  assert.equal(shrunk.ranked_by, 'shrunk_ratio');
  assert.equal(raw.ranked_by, 'national_ratio');
  const codes = (d) => d.municipalities.map((m) => m.code);
  assert.notDeepEqual(codes(shrunk), codes(raw), 'the two orders differ on this feed');
  const shown = (d, k) => d.municipalities.filter((m) => m.rank !== null).map((m) => m[k]);
  for (const [d, k] of [[shrunk, 'shrunk_ratio'], [raw, 'national_ratio']]) {
    const v = shown(d, k);
    assert.ok(v.every((x, i) => i === 0 || x <= v[i - 1]), `ranked by ${k}, highest first`);
  }
  const tableCodes = () => page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => tr.dataset.code));
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  assert.equal(await page.getAttribute('#ranking', 'data-ranked-by'), 'shrunk_ratio');
  assert.equal(await page.$eval('#f-by', (e) => e.labels[0].textContent.trim() !== '' && e.value), 'shrunk_ratio');
  assert.deepEqual(await tableCodes(), codes(shrunk));
  assert.match(await page.textContent('#ranking-cap'), /gekrompen/);
  // The shrunk index column shows the API's shrunk_ratio × 100.
  const first = shrunk.municipalities[0];
  assert.equal((await page.textContent(`#ranking tr[data-code="${first.code}"] [data-col=shrunk]`)).trim(),
    Math.round(first.shrunk_ratio * 100).toLocaleString('nl-NL'));
  await page.selectOption('#f-by', 'national_ratio');
  await page.waitForSelector('#ranking[data-ranked-by="national_ratio"] tbody tr');
  assert.match(await page.evaluate(() => location.hash), /by=national_ratio/);
  assert.deepEqual(await tableCodes(), codes(raw));
  assert.match(await page.getAttribute('#dl-ranking', 'href'), /by=national_ratio/);
  const csv = await download('#dl-ranking');
  assert.deepEqual(csv.rows.map((r) => r.code), codes(raw), 'the CSV in the order on screen');
  // The choice survives a reload (it is in the address), and goes back.
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}?by=national_ratio`);
  assert.equal(await page.$eval('#f-by', (e) => e.value), 'national_ratio');
  await page.selectOption('#f-by', 'shrunk_ratio');
  await page.waitForSelector('#ranking[data-ranked-by="shrunk_ratio"] tbody tr');
  assert.deepEqual(await tableCodes(), codes(shrunk));
  // A reference indicator has no shrunk index: no control.
  const ref = (await api('/api/v1/indicators')).indicators.find((i) => i.aggregate === 'value');
  if (ref) {
    await open(`#/ranking/${ref.pack}/${ref.id}`);
    assert.equal(await page.$('#f-by'), null);
  }
});

test('funnel plot draws the control limits and every shown municipality; a dot opens its page', async () => {
  const funnel = await api(`/api/v1/indicators/${DRUG.id}/funnel?pack=${DRUG.pack}`);
  assert.equal(funnel.model, 'poisson');
  assert.ok(funnel.limits.length >= 30 && funnel.limits.length <= 60, `${funnel.limits.length} grid points`);
  for (const l of funnel.limits) assert.ok(l.lower_998 <= l.lower_95 && l.lower_95 <= 1.0001 && l.upper_95 <= l.upper_998);
  const placed = funnel.points.filter((p) => !p.suppressed && p.ratio !== null);
  await open(`#/funnel/${DRUG.pack}/${DRUG.id}`);
  await page.waitForSelector('#funnel svg circle.pt');
  for (const k of ['upper_998', 'upper_95', 'lower_95', 'lower_998']) {
    const n = await page.$eval(`#funnel polyline[data-limit="${k}"]`, (e) => e.getAttribute('points').trim().split(/\s+/).length);
    assert.equal(n, funnel.limits.length, `${k}: one vertex per grid point`);
  }
  const dots = await page.$$eval('#funnel circle.pt', (cs) => cs.map((c) => ({ code: c.dataset.code, band: c.dataset.band })));
  assert.equal(dots.length, placed.length, 'one dot per municipality with a figure');
  const hidden = funnel.points.find((p) => p.suppressed);
  if (hidden) assert.ok(!dots.some((d) => d.code === hidden.code), 'no dot for a suppressed municipality');
  // The planted drug anomalies lie above the 99.8 % limit, and are listed.
  const planted = new Set(truth.filter((a) => a.kind === 'drug_production' || a.kind === 'combined').map((a) => a.municipality));
  const above = dots.filter((d) => d.band === 'above_998').map((d) => d.code);
  for (const code of planted) assert.ok(above.includes(code), `planted ${code} above the 99.8% limit`);
  const listed = await page.$$eval('#funnel-out tbody tr[data-code]', (trs) => trs.map((tr) => tr.dataset.code));
  assert.deepEqual([...listed].sort(), [...above].sort());
  assert.match(await page.textContent('#funnel-note'), /Poisson/);
  // A dot opens the municipality page.
  const target = [...planted][0];
  await page.click(`#funnel circle.pt[data-code="${target}"]`);
  await page.waitForFunction((code) => location.hash === '#/municipality/' + code, target);
  await page.waitForSelector('body[data-ready="true"]');
  const name = funnel.points.find((p) => p.code === target).name;
  assert.equal((await page.textContent('h1')).includes(name), true, `${name} opened`);
  // Back from its indicator row: the funnel with that municipality highlighted.
  await page.click(`tr[data-indicator="${DRUG.pack}/${DRUG.id}"] a.funnel-link`);
  await page.waitForSelector(`#funnel circle.pt.hl[data-code="${target}"]`);
  // An indicator with events everywhere: every municipality a dot.
  const broad = existsSync(SHIPPED) ? { pack: 'ondermijning', id: 'cash_reports' } : { pack: 'ondermijning-example', id: 'cash_reports' };
  const everywhere = await api(`/api/v1/indicators/${broad.id}/funnel?pack=${broad.pack}`);
  await open(`#/funnel/${broad.pack}/${broad.id}`);
  await page.waitForSelector('#funnel svg circle.pt');
  const n = everywhere.points.filter((p) => !p.suppressed && p.ratio !== null).length;
  assert.ok(n > 300, `${n} municipalities with a figure`);
  assert.equal(await page.$$eval('#funnel circle.pt', (cs) => cs.length), n);
  await shot('funnel');
  // A share indicator: binomial limits.
  const share = (await api('/api/v1/indicators')).indicators.find((i) => i.aggregate === 'share');
  if (share) {
    await open(`#/funnel/${share.pack}/${share.id}`);
    await page.waitForSelector('#funnel svg circle.pt');
    assert.match(await page.textContent('#funnel-note'), /Binomia/);
  }
  // Not for a mean or a reference figure.
  const mean = (await api('/api/v1/indicators')).indicators.find((i) => i.aggregate === 'mean' || i.aggregate === 'value');
  if (mean) {
    await open(`#/funnel/${mean.pack}/${mean.id}`);
    assert.ok(await page.$('#funnel-na'));
  }
});

test('q value is shown where a rule reads it, and only there', async () => {
  const inds = (await api('/api/v1/indicators')).indicators;
  assert.equal(inds.find((i) => i.pack === Q_PACK.pack && i.id === Q_PACK.id).q_ranked, true);
  assert.equal(inds.find((i) => i.pack === DRUG.pack && i.id === DRUG.id).q_ranked, false);
  const ranking = await api(`/api/v1/indicators/${Q_PACK.id}?pack=${Q_PACK.pack}`);
  const top = ranking.municipalities[0];
  assert.ok(typeof top.q_value === 'number' && top.q_value >= 0 && top.q_value <= 1, `q ${top.q_value}`);
  await open(`#/ranking/${Q_PACK.pack}/${Q_PACK.id}`);
  const q = (await page.textContent(`#ranking tr[data-code="${top.code}"] [data-col=q]`)).trim();
  assert.notEqual(q, '–');
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  assert.equal(await page.$('#ranking [data-col=q]'), null, 'no q column where no rule reads it');
  // Municipality page: the q column, filled for that indicator only.
  await open(`#/municipality/${top.code}`);
  const row = await page.waitForSelector(`tr[data-indicator="${Q_PACK.pack}/${Q_PACK.id}"]`);
  assert.notEqual((await row.$eval('[data-col=q]', (e) => e.textContent)).trim(), '–');
  assert.equal((await page.$eval(`tr[data-indicator="${DRUG.pack}/${DRUG.id}"] [data-col=q]`, (e) => e.textContent)).trim(), '–');
});

test('municipality page lists its neighbourhoods with disclosure control', async () => {
  const b = await api('/api/v1/municipalities/GM0363/neighbourhoods');
  assert.ok(b.available);
  assert.deepEqual(b.indicators.map((i) => i.id), ['cash_buurt']);
  assert.ok(b.neighbourhoods.length > 100, 'Amsterdam has hundreds of (synthetic) buurten');
  const shown = b.neighbourhoods.find((n) => !n.figures[0].suppressed);
  const hidden = b.neighbourhoods.find((n) => n.figures[0].suppressed);
  assert.ok(shown && hidden, 'both a shown and a suppressed buurt');
  assert.equal(hidden.figures[0].count, null);
  assert.equal(hidden.figures[0].municipality_ratio, null);
  await open('#/municipality/GM0363');
  await page.waitForSelector('table.neighbourhoods');
  assert.equal(await page.$$eval('table.neighbourhoods tbody tr', (rows) => rows.length), b.neighbourhoods.length);
  const cell = (code, col) => page.$eval(`tr[data-buurt="${code}"] [data-col=${col}]`, (e) => e.textContent.trim());
  assert.equal((await cell(shown.code, 'count')).replace(/[^0-9]/g, ''), String(shown.figures[0].count));
  assert.equal(await cell(hidden.code, 'count'), `< ${b.disclosure_min_count}`);
  assert.equal(await cell(hidden.code, 'muni_ratio'), '–');
});

test('municipality page explains an alert: conditions with observed values and thresholds', async () => {
  const { alerts } = await api('/api/v1/alerts?limit=1000');
  assert.ok(alerts.length > 0, 'the feed raised alerts');
  const alert = alerts.find((a) => a.conditions.some((c) => c.held && c.observed !== null && !c.suppressed));
  assert.ok(alert, 'an alert with a shown, held condition');
  await open(`#/municipality/${alert.municipality}?alert=${alert.alert_id}`);
  const card = await page.waitForSelector(`[data-alert="${alert.alert_id}"]`);
  assert.ok(await card.isVisible());
  const rows = await card.$$eval('table.conditions tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent.trim())));
  assert.equal(rows.length, alert.conditions.length);
  alert.conditions.forEach((c, i) => {
    const [indicator, measure, threshold, observed, count, , window, held] = rows[i];
    assert.equal(indicator, c.indicator);
    assert.equal(measure, c.measure);
    assert.ok(threshold.startsWith(c.op), `threshold "${threshold}" starts with ${c.op}`);
    if (c.observed !== null) assert.notEqual(observed, '–');
    if (c.count !== null) assert.equal(count.replace(/\D/g, ''), String(c.count));
    assert.equal(window, c.window || '');
    assert.match(held, c.held ? /✓/ : /✗/);
  });
  // Every indicator of the pack is listed, with a trend line where shown.
  const muni = await api(`/api/v1/municipalities/${alert.municipality}`);
  assert.equal(await page.$$eval('table.indicators tbody tr', (trs) => trs.length), muni.indicators.length);
  assert.ok(await page.$$eval('table.indicators svg.spark polyline', (p) => p.length) > 0, 'sparklines drawn');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('municipality', true);
});

test('small counts are suppressed in the JSON and never shown in the page', async () => {
  const ranking = await api(`/api/v1/indicators/${DRUG.id}?pack=${DRUG.pack}`);
  const min = ranking.disclosure_min_count;
  assert.equal(min, 5);
  // JSON: no count below the minimum anywhere, and nothing derived from one.
  for (const m of ranking.municipalities) {
    if (m.count !== null) assert.ok(m.count >= min, `${m.code} count ${m.count}`);
  }
  const hidden = ranking.municipalities.find((m) => m.suppressed);
  assert.ok(hidden, 'some municipality has fewer than 5 events');
  for (const k of DERIVED) assert.equal(hidden[k], null, `${hidden.code}.${k} is null`);
  // Nor in the funnel plot: the point is there, without a figure.
  const funnel = await api(`/api/v1/indicators/${DRUG.id}/funnel?pack=${DRUG.pack}`);
  const point = funnel.points.find((p) => p.code === hidden.code);
  for (const k of ['observed', 'expected', 'ratio', 'funnel_z', 'shrunk_ratio', 'band']) assert.equal(point[k], null, `funnel ${hidden.code}.${k}`);
  const muni = await api(`/api/v1/municipalities/${hidden.code}`);
  const ind = muni.indicators.find((i) => i.id === DRUG.id && i.pack === DRUG.pack);
  assert.equal(ind.suppressed, true);
  assert.equal(ind.count, null);
  assert.deepEqual(ind.history, []);
  const { alerts } = await api('/api/v1/alerts?limit=1000');
  for (const a of alerts) {
    // (A reference indicator's condition counts no events: no window, count 0.)
    for (const c of a.conditions) if (typeof c.count === 'number' && c.window) assert.ok(c.count >= min, `alert condition count ${c.count}`);
  }

  // DOM, ranking: every count cell is "< 5" or a number of at least 5.
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  const cells = await page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => ({
    code: tr.dataset.code, count: tr.querySelector('[data-col=count]').textContent.trim(),
    main: tr.querySelector('[data-col=main]').textContent.trim(), index: tr.querySelector('[data-col=index]').textContent.trim(),
    pct: tr.querySelector('[data-col=pct]').textContent.trim(), shrunk: tr.querySelector('[data-col=shrunk]').textContent.trim() })));
  for (const c of cells) {
    if (c.count.startsWith('<')) {
      assert.equal(c.count.replace(/\s/g, ''), '<5');
      assert.deepEqual([c.main, c.index, c.pct, c.shrunk], ['–', '–', '–', '–'], `${c.code}: nothing derived from a hidden count`);
    } else {
      assert.ok(Number(c.count.replace(/\./g, '')) >= min, `${c.code} shows count ${c.count}`);
    }
  }
  const row = cells.find((c) => c.code === hidden.code);
  assert.equal(row.count.replace(/\s/g, ''), '<5');

  // DOM, municipality page: the same indicator row shows no figure and no trend.
  await open(`#/municipality/${hidden.code}`);
  const tr = await page.waitForSelector(`tr[data-indicator="${DRUG.pack}/${DRUG.id}"]`);
  assert.equal((await tr.$eval('[data-col=count]', (e) => e.textContent)).replace(/\s/g, ''), '<5');
  assert.equal((await tr.$eval('[data-col=main]', (e) => e.textContent)).trim(), '–');
  assert.equal((await tr.$eval('[data-col=index]', (e) => e.textContent)).trim(), '–');
  assert.equal(await tr.$$eval('polyline', (p) => p.length), 0, 'no history line');
  // No condition cell of a shown alert holds a count below the minimum.
  const counts = await page.$$eval('table.conditions [data-col=count]', (tds) => tds.map((td) => td.textContent.trim()));
  for (const c of counts) assert.ok(c.startsWith('<') || c === '–' || Number(c.replace(/\./g, '')) >= min, `condition count ${c}`);
});

test('CSV downloads hold the figures of the page and leave its suppressed cells empty', async () => {
  // Ranking: every municipality, in the page's order, the suppressed ones without figures.
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  const page_rows = await page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => ({
    code: tr.dataset.code, suppressed: tr.dataset.suppressed === 'true', count: tr.querySelector('[data-col=count]').textContent.trim() })));
  const hidden = page_rows.find((r) => r.suppressed);
  assert.ok(hidden, 'the page suppresses some municipality');
  assert.match(await page.getAttribute('#dl-ranking', 'href'), /format=csv/);
  const ranking = await download('#dl-ranking');
  assert.match(ranking.name, new RegExp(`^zicht-ranking-${DRUG.pack}-${DRUG.id}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  assert.deepEqual(ranking.header, ['rank', 'code', 'name', 'province', 'population', ...FIGURES]);
  assert.equal(ranking.rows.length, 342);
  assert.deepEqual(ranking.rows.map((r) => r.code), page_rows.map((r) => r.code), 'the order of the page');
  const row = ranking.rows.find((r) => r.code === hidden.code);
  assert.equal(hidden.count.replace(/\s/g, ''), '<5', `${hidden.code} shows "< 5" in the page`);
  assert.equal(row.suppressed, 'true');
  for (const k of ['rank', ...DERIVED]) assert.equal(row[k], '', `${hidden.code}.${k} is empty in the CSV`);
  for (const r of ranking.rows) {
    const p = page_rows.find((x) => x.code === r.code);
    assert.equal(r.suppressed === 'true', p.suppressed, `${r.code}: suppressed in the CSV as in the page`);
    if (r.count !== '') assert.ok(Number(r.count) >= 5, `${r.code} count ${r.count}`);
    if (!p.suppressed) assert.equal(p.count.replace(/\D/g, ''), r.count, `${r.code}: the page's count`);
  }

  // Municipality page of the suppressed municipality: that indicator without figures.
  await open(`#/municipality/${hidden.code}`);
  const figures = await download('#dl-figures');
  assert.equal(figures.name.startsWith(`zicht-municipality-${hidden.code}-`), true, figures.name);
  assert.deepEqual(figures.header, ['pack', 'theme', 'indicator', 'title', 'aggregate', 'window', 'per', ...FIGURES]);
  assert.equal(figures.rows.length, await page.$$eval('table.indicators tbody tr', (trs) => trs.length));
  const ind = figures.rows.find((r) => r.pack === DRUG.pack && r.indicator === DRUG.id);
  assert.equal(ind.suppressed, 'true');
  for (const k of DERIVED) assert.equal(ind[k], '', `${DRUG.id}.${k} is empty in the CSV`);

  // Alerts: one row per alert; a suppressed condition shows no count.
  const { alerts } = await api('/api/v1/alerts?limit=10000');
  await open('#/alerts');
  const list = await download('#dl-alerts');
  assert.match(list.name, /^zicht-alerts-\d{4}-\d{2}-\d{2}\.csv$/);
  assert.deepEqual(list.header, ['alert_id', 'rule', 'rule_version', 'pack', 'severity', 'municipality',
    'municipality_name', 'event_time', 'emitted_at', 'score', 'conditions']);
  assert.deepEqual(list.rows.map((r) => r.alert_id), alerts.map((a) => a.alert_id), 'the alerts of the API, newest first');
  alerts.forEach((a, i) => {
    const conditions = list.rows[i].conditions.split('; ');
    assert.equal(conditions.length, a.conditions.length);
    a.conditions.forEach((c, j) => {
      assert.ok(conditions[j].startsWith(`${c.indicator} ${c.measure} ${c.op} `), conditions[j]);
      if (c.suppressed) assert.match(conditions[j], /\(suppressed, (not )?held\)$/);
      const count = conditions[j].match(/count (\d+)/);
      if (count) assert.ok(Number(count[1]) >= 5, `condition count ${count[1]}`);
    });
  });
});

test('alerts list shows rule, severity, municipality and time and links to the municipality page', async () => {
  const { alerts } = await api('/api/v1/alerts?limit=1000');
  await open('#/alerts');
  await page.waitForSelector('#alerts tbody tr');
  const rows = await page.$$eval('#alerts tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.alert, text: tr.textContent })));
  assert.equal(rows.length, Math.min(alerts.length, 500));
  assert.equal(rows[0].id, alerts[0].alert_id, 'newest first, as the API');
  const a = alerts[0];
  assert.ok(rows[0].text.includes(a.municipality_name) && rows[0].text.includes(a.rule));
  assert.match(rows[0].text, /UTC/);
  await shot('alerts');
  await page.click(`#alerts tr[data-alert="${a.alert_id}"] a.rowlink`);
  await page.waitForFunction((code) => location.hash.startsWith('#/municipality/' + code), a.municipality);
  await page.waitForSelector(`article[data-alert="${a.alert_id}"]`);
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.dataset.alert), a.alert_id, 'linked alert focused');
});

test('keyboard: visible focus, arrow keys move through table rows; language switch', async () => {
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  // Locators, not element handles: a background refresh may re-render the
  // table (keeping focus) between two steps, which detaches old handles.
  const codes = await page.$$eval('#ranking a.rowlink', (as) => as.map((a) => a.closest('tr').dataset.code));
  assert.ok(codes.length >= 3, 'ranking has rows');
  await page.locator('#ranking a.rowlink').first().focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const focused = await page.evaluate(() => document.activeElement.closest('tr').dataset.code);
  assert.equal(focused, codes[2]);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focused row link has a visible outline');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.startsWith('#/municipality/'));
  // Every control has an accessible name (its label).
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  for (const id of ['f-theme', 'f-indicator', 'f-province', 'f-q']) {
    assert.ok((await page.$eval(`#${id}`, (e) => e.labels.length && e.labels[0].textContent.trim())), `#${id} labelled`);
  }
  assert.equal(await page.getAttribute('html', 'lang'), 'nl', 'Dutch by default');
  assert.equal((await page.textContent('nav a[data-view="ranking"]')).trim(), 'Ranglijst');
  await page.click('button[data-lang="en"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await page.textContent('nav a[data-view="ranking"]')).trim(), 'Ranking');
  assert.match(await page.textContent('h1'), /^Ranking:/);
  await page.click('button[data-lang="nl"]');
  assert.equal((await page.textContent('nav a[data-view="alerts"]')).trim(), 'Meldingen');
});

test('live update: new events show up without reloading the page', async () => {
  const ranking = await api(`/api/v1/indicators/${DRUG.id}?pack=${DRUG.pack}`);
  const target = ranking.municipalities.find((m) => m.suppressed);
  await open(`#/ranking/${DRUG.pack}/${DRUG.id}`);
  await page.evaluate(() => { window.__notReloaded = true; });
  const before = await page.textContent(`#ranking tr[data-code="${target.code}"] [data-col=count]`);
  assert.equal(before.replace(/\s/g, ''), '<5');
  // 12 more synthetic labs in that municipality at the current event time.
  const status = await api('/api/v1/status');
  const extra = [];
  for (let i = 0; i < 12; i++) {
    extra.push(JSON.stringify({ type: 'drug_finding', id: `dashboard-live-${i}`, time: status.event_time,
      municipality: target.code, kind: 'synthetic_lab', property: 'residential' }));
  }
  appendFileSync(eventsFile, extra.join('\n') + '\n');
  await page.waitForFunction((code) => {
    const td = document.querySelector(`#ranking tr[data-code="${code}"] [data-col=count]`);
    return td && !td.textContent.includes('<') && Number(td.textContent.replace(/\D/g, '')) >= 12;
  }, target.code, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'same page, not reloaded');
  assert.deepEqual(external, [], 'the page loads nothing from outside the engine');
  assert.deepEqual(pageErrors, [], 'no script errors');
});
