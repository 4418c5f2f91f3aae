// @ts-check
// Verification in service as the fleet sees it (issue 21: which devices give wrong GPU answers):
//
//   POST /api/verify/incidents   a client's incident (a divergence found in service; webq8 sends
//                                it to <telemetry endpoint>/api/verify/incidents)
//   GET  /api/verify/incidents   the latest incidents, newest last
//   GET  /api/verify             agreement per model, version, adapter and browser, and the incidents
//
// The table folds the `webq8.verify.*` counters of every accepted telemetry request (replayed from
// the metrics journal on start; a compacted journal keeps counters without the adapter, so rows
// count since the last compaction) by model, version, adapter vendor and architecture, and
// browser. An incident is hostile input: only known fields, typed and bounded; it is journaled
// (one JSON line, written before it is acknowledged) and replayed on start.
import { WIRE_KEYS } from '../src/isomorphic/otlp-point.js';
import { esc } from '../demo/plot.js';
import { json, readBody, refuseNonJson } from './http.mjs';
import { openJournal } from './journal.mjs';

/**
 * @typedef {import('../src/types.js').VerifyIncident} VerifyIncident
 * @typedef {import('./validate.mjs').Parsed} Parsed
 * @typedef {{ model: string, version: string, adapterVendor: string, adapterArchitecture: string, browser: string,
 *   checks: number, agreements: number, divergences: number, dropped: number }} VerifyRow
 */

const MAX_INCIDENTS = 500;
const MAX_ROWS = 1000;
const MAX_BODY = 8 * 1024;
const METRICS = /** @type {const} */ ({
  'webq8.verify.checks': 'checks',
  'webq8.verify.agreements': 'agreements',
  'webq8.verify.divergences': 'divergences',
  'webq8.verify.dropped': 'dropped',
});
const STRINGS = ['model', 'version', 'output', 'backend', 'adapterVendor', 'adapterArchitecture', 'browser', 'webq8Version'];
const REQUIRED_STRINGS = ['model', 'output', 'backend'];
const NUMBERS = ['value', 'tolerance', 'checked', 'diverged'];
const METRIC_NAMES = ['relL2', 'nonFinite', 'mismatch', 'shape', 'error'];

/**
 * A client's incident as the collector keeps it (the collector's time), or what is wrong with it.
 * @param {unknown} body @returns {VerifyIncident | string}
 */
export function readVerifyIncident(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'an incident must be a JSON object';
  const o = /** @type {Record<string, unknown>} */ (body);
  if (o.kind !== 'verify' || o.rule !== 'numerics') return 'incident.kind must be "verify" and incident.rule "numerics"';
  if (typeof o.metric !== 'string' || !METRIC_NAMES.includes(o.metric)) return `incident.metric must be one of ${METRIC_NAMES.join(', ')}`;
  /** @type {Record<string, string | number>} */
  const out = {};
  for (const k of STRINGS) {
    const v = o[k];
    if (v === undefined && !REQUIRED_STRINGS.includes(k)) continue;
    if (typeof v !== 'string' || v === '' || v.length > 256) return `incident.${k} must be a non-empty string of at most 256 characters`;
    out[k] = v;
  }
  for (const k of NUMBERS) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `incident.${k} must be a finite number ≥ 0`;
    out[k] = v;
  }
  const at = new Date().toISOString();
  return /** @type {VerifyIncident} */ ({ kind: 'verify', rule: 'numerics', scope: 'client', at, metric: o.metric, ...out });
}

/**
 * The collector's verification state and routes.
 * @param {{ file?: string, log?: (m: string) => void }} options `file`: the incident journal
 */
export async function createVerifyView(options) {
  /** @type {VerifyIncident[]} */
  const incidents = [];
  /** @type {Map<string, VerifyRow>} */
  const rows = new Map();
  const budget = { used: 0, max: 64 * MAX_BODY };
  const keep = (/** @type {VerifyIncident} */ i) => {
    incidents.push(i);
    if (incidents.length > MAX_INCIDENTS) incidents.splice(0, incidents.length - MAX_INCIDENTS);
  };
  const journal = options.file ? openJournal(options.file, { maxLineBytes: 4 * MAX_BODY, log: options.log }) : undefined;
  await journal?.replay(
    () => false,
    (r) => {
      const i = readVerifyIncident(r.body);
      if (typeof i === 'string') return false;
      keep({ ...i, at: String(r.at) });
      return true;
    },
  );

  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  async function addIncident(req, res) {
    if (refuseNonJson(req, res)) return;
    const read = await readBody(req, MAX_BODY, budget);
    if (!('body' in read)) return json(res, read.status, { error: read.error });
    let body;
    try {
      body = JSON.parse(read.body.toString('utf8'));
    } catch (err) {
      return json(res, 400, { error: `malformed JSON: ${/** @type {Error} */ (err).message.slice(0, 200)}` });
    }
    const incident = readVerifyIncident(body);
    if (typeof incident === 'string') return json(res, 400, { error: incident });
    journal?.append({ at: incident.at, body: incident });
    keep(incident);
    return json(res, 202, {});
  }

  return {
    /**
     * Hook: folds the `webq8.verify.*` counters of an accepted (or replayed) telemetry request in.
     * @param {Parsed} parsed
     */
    add(parsed) {
      for (const c of parsed.counters) {
        const field = METRICS[/** @type {keyof typeof METRICS} */ (c.metric)];
        if (!field) continue;
        const a = c.attrs;
        const key = [WIRE_KEYS.modelId, WIRE_KEYS.modelVersion, WIRE_KEYS.adapterVendor, WIRE_KEYS.adapterArchitecture, WIRE_KEYS.browser].map((k) =>
          String(a[k] ?? 'unknown').slice(0, 256),
        );
        const id = JSON.stringify(key);
        let row = rows.get(id);
        if (!row && rows.size >= MAX_ROWS) continue;
        if (!row) {
          const [model = '', version = '', adapterVendor = '', adapterArchitecture = '', browser = ''] = key;
          rows.set(id, (row = { model, version, adapterVendor, adapterArchitecture, browser, checks: 0, agreements: 0, divergences: 0, dropped: 0 }));
        }
        row[field] += c.count;
      }
    },
    /** Rows sorted by model, version, adapter, browser. @returns {VerifyRow[]} */
    rows: () =>
      [...rows.values()].sort((a, b) =>
        [a.model, a.version, a.adapterVendor, a.adapterArchitecture, a.browser]
          .join('\0')
          .localeCompare([b.model, b.version, b.adapterVendor, b.adapterArchitecture, b.browser].join('\0')),
      ),
    /**
     * Answers `/api/verify…`; false when `url` is not one of its routes.
     * @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res @param {URL} url
     */
    async handle(req, res, url) {
      if (url.pathname === '/api/verify/incidents' && req.method === 'POST') return void (await addIncident(req, res));
      if (url.pathname === '/api/verify/incidents' && req.method === 'GET') return void json(res, 200, { incidents });
      if (url.pathname === '/api/verify' && req.method === 'GET') return void json(res, 200, { rows: this.rows(), incidents });
      req.resume();
      return void json(res, 405, { error: `${req.method} ${url.pathname.slice(0, 200)} is not a verification route; see collector/verify-view.mjs` });
    },
    /** The dashboard's section (HTML). */
    section() {
      return verifySection(this.rows(), incidents);
    },
  };
}

/** @param {number} n @param {number} of */
const share = (n, of) => (of > 0 ? `${((100 * n) / of).toFixed(1)} %` : '–');

/**
 * Agreement by device and version, and the latest incidents.
 * @param {VerifyRow[]} rows @param {VerifyIncident[]} incidents
 */
export function verifySection(rows, incidents) {
  if (rows.length === 0 && incidents.length === 0) return '';
  const cells = (/** @type {unknown[]} */ xs) => xs.map((x) => `<td>${esc(x)}</td>`).join('');
  const table = rows
    .map((r) => {
      const cls = r.divergences > 0 ? ' class="diverged"' : '';
      return `<tr${cls}>${cells([r.model, r.version, r.adapterVendor, r.adapterArchitecture, r.browser, r.checks, r.agreements, r.divergences, share(r.divergences, r.checks), r.dropped])}</tr>`;
    })
    .join('');
  const latest = incidents
    .slice(-20)
    .reverse()
    .map(
      (i) =>
        `<tr class="incident">${cells([i.at, i.model, i.version ?? '', i.output, `${i.metric} ${i.value.toPrecision(3)} (tolerance ${i.tolerance})`, `${i.adapterVendor ?? ''} ${i.adapterArchitecture ?? ''}`, i.browser ?? '', i.backend])}</tr>`,
    )
    .join('');
  return [
    '<section id="verify"><h2>Verification against ORT WASM, by device</h2>',
    '<table><tr><th>model</th><th>version</th><th>adapter vendor</th><th>architecture</th><th>browser</th><th>checks</th><th>agreed</th><th>diverged</th><th>divergence</th><th>dropped</th></tr>',
    `${table}</table>`,
    latest
      ? `<h3>Latest divergences</h3><table><tr><th>at</th><th>model</th><th>version</th><th>output</th><th>metric</th><th>adapter</th><th>browser</th><th>served from</th></tr>${latest}</table>`
      : '<p>No divergence reported.</p>',
    '</section>',
  ].join('');
}
