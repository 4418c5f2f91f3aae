// @ts-check
// Releases in the reference collector: it serves each model's release manifest to clients
// (GET /api/release/<model>, with ETag and Content-Digest), evaluates the manifest's rules over the
// fleet's merged histograms when something is written (a manifest PUT, a telemetry or incident POST;
// with Prometheus as the store, also every `evaluateMs`), and rolls the candidate back or promotes it when a rule decides. A GET
// never changes anything: reading the manifest or the decision only reads. Every change — a manifest
// set, a promotion or rollback (by rule or by API), a client's incident — is journaled (one JSON
// line, written before it is acknowledged) and replayed on start, so a restart mid-rollout keeps
// the state.
//
//   PUT  /api/release/<model>            set the manifest (operator; body: the manifest JSON)
//   GET  /api/release/<model>            the manifest clients follow (304 on If-None-Match)
//   POST /api/release/<model>/promote    candidate → stable now
//   POST /api/release/<model>/rollback   drop the candidate now
//   POST /api/release/<model>/incidents  a client's incident report
//   GET  /api/release/<model>/incidents  incidents, newest last
//   GET  /api/release/<model>/decision   what the rules decide now and the stats behind it (applied at the next evaluation)
//   GET  /api/release                    every release
import { createHash } from 'node:crypto';
import { checkManifest, MAX_MANIFEST_BYTES } from '../src/isomorphic/manifest.js';
import { refuseNonJson } from './http.mjs';
import { openJournal } from './journal.mjs';
import { decide } from './release-decision.mjs';
import { readIncident, releaseSection } from './release-view.mjs';

/**
 * @typedef {import('../src/types.js').ReleaseManifest} ReleaseManifest
 * @typedef {import('../src/types.js').ReleaseIncident} ReleaseIncident
 * @typedef {import('../src/types.js').ReleaseDecision} ReleaseDecision
 * @typedef {import('./release-decision.mjs').VersionsQuery} VersionsQuery
 * @typedef {{ manifest: ReleaseManifest, incidents: ReleaseIncident[], hashes: Record<string, string> }} Release
 * @typedef {{ type: 'set', model: string, at: string, manifest: ReleaseManifest }
 *   | { type: 'promote', model: string, at: string, by: 'rule' | 'api', evidence: ReleaseDecision['evidence'] }
 *   | { type: 'rollback', model: string, at: string, by: 'rule' | 'api', rule: string, evidence: ReleaseDecision['evidence'] }
 *   | { type: 'incident', model: string, at: string, incident: ReleaseIncident }} ReleaseEvent
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 */

const MAX_INCIDENTS = 500;
/** Model ids as manifests allow them (so no percent-decoding is ever needed). */
const MODEL_PATH = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The release journal next to the metrics journal: `m.jsonl` → `m.release.jsonl`. @param {string} dataFile */
export function releaseJournalPath(dataFile) {
  return `${dataFile.replace(/\.jsonl$/, '')}.release.jsonl`;
}

/** @param {string} body */
const digest = (body) => createHash('sha256').update(body).digest();

/**
 * Applies one journaled event to the state (the same code on replay and live).
 * @param {Map<string, Release>} releases @param {ReleaseEvent} e
 */
function apply(releases, e) {
  if (e.type === 'set') {
    const hashes = releases.get(e.model)?.hashes ?? {};
    for (const v of [e.manifest.stable, e.manifest.candidate]) if (v && !hashes[v.version]) hashes[v.version] = v.sha256;
    releases.set(e.model, { manifest: e.manifest, incidents: releases.get(e.model)?.incidents ?? [], hashes });
    return;
  }
  const r = releases.get(e.model);
  if (!r) return;
  const c = r.manifest.candidate;
  if (e.type === 'incident') r.incidents.push(e.incident);
  else if (c && e.type === 'promote')
    r.manifest = { ...r.manifest, stable: { version: c.version, url: c.url, sha256: c.sha256, size: c.size }, candidate: undefined };
  else if (c && e.type === 'rollback') {
    r.incidents.push({
      model: e.model,
      at: e.at,
      scope: 'fleet',
      stable: r.manifest.stable.version,
      candidate: c.version,
      rule: /** @type {ReleaseIncident['rule']} */ (e.rule),
      evidence: { ...e.evidence, by: e.by },
    });
    r.manifest = { ...r.manifest, candidate: undefined };
  }
  if (r.incidents.length > MAX_INCIDENTS) r.incidents.splice(0, r.incidents.length - MAX_INCIDENTS);
  // JSON drops `candidate: undefined`; so does the served manifest.
  r.manifest = JSON.parse(JSON.stringify(r.manifest));
}

/**
 * The collector's release state and routes.
 * @param {{ file?: string, versions: VersionsQuery, log?: (m: string) => void, evaluateMs?: number }} options
 *   `evaluateMs`: also evaluate every release this often (for a store that gets data elsewhere: Prometheus)
 */
export async function createReleases(options) {
  /** @type {Map<string, Release>} */
  const releases = new Map();
  // Release events are few and small: the journal is never compacted, so it has no snapshot.
  const journal = options.file ? openJournal(options.file, { maxLineBytes: 4 * MAX_MANIFEST_BYTES, log: options.log }) : undefined;
  await journal?.replay(
    () => false,
    (r) => {
      apply(releases, /** @type {ReleaseEvent} */ (r.body));
      return true;
    },
  );

  /** Journals, then applies (a crash between the two replays the event). @param {ReleaseEvent} e */
  const record = (e) => {
    journal?.append({ at: e.at, body: e });
    apply(releases, e);
  };

  /** What the rules decide on the fleet's data now; changes nothing. @param {string} model */
  async function evaluate(model) {
    const r = releases.get(model);
    const candidate = r?.manifest.candidate;
    if (!r || !candidate)
      return { decision: /** @type {ReleaseDecision} */ ({ decision: 'wait', rule: null, evidence: { reason: 'no candidate' } }), versions: [], current: true };
    const versions = await options.versions(model);
    // The manifest may have changed while the store answered: a decision about the old one is not applied.
    const current = releases.get(model) === r && r.manifest.candidate === candidate;
    if (!current)
      return { decision: /** @type {ReleaseDecision} */ ({ decision: 'wait', rule: null, evidence: { reason: 'changed meanwhile' } }), versions, current };
    return { decision: decide(r.manifest, versions, r.incidents), versions, current };
  }

  /** Evaluates the rules of `model` and journals a promotion or rollback they decide. @param {string} model */
  async function enforce(model) {
    const { decision, current } = await evaluate(model);
    if (!current) return;
    const at = new Date().toISOString();
    if (decision.decision === 'rollback') record({ type: 'rollback', model, at, by: 'rule', rule: String(decision.rule), evidence: decision.evidence });
    if (decision.decision === 'promote') record({ type: 'promote', model, at, by: 'rule', evidence: decision.evidence });
  }

  /** Evaluates every release with a candidate, one at a time (never rejects: a store that fails is logged). */
  let running = Promise.resolve();
  const enforceAll = () =>
    (running = running.then(async () => {
      for (const [model, r] of releases) if (r.manifest.candidate) await enforce(model).catch((err) => options.log?.(`release ${model}: ${err}`));
    }));
  // Data that reaches the store some other way (Prometheus) is evaluated on a timer.
  const timer = options.evaluateMs ? setInterval(() => void enforceAll(), options.evaluateMs) : undefined;
  timer?.unref();

  /** @param {Req} req @param {Res} res @param {string} model */
  function serveManifest(req, res, model) {
    req.resume();
    const r = releases.get(model);
    if (!r) return send(res, 404, { error: `no release for model "${model}"; PUT /api/release/${model} sets one` });
    const body = JSON.stringify(r.manifest);
    const hash = digest(body);
    const etag = `"${hash.toString('hex').slice(0, 32)}"`;
    const headers = { etag, 'cache-control': 'no-cache', 'access-control-expose-headers': 'Retry-After, ETag, Content-Digest' };
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();
    res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-digest': `sha-256=:${hash.toString('base64')}:` });
    res.end(body);
  }

  /** @param {Req} req @param {Res} res @param {string} model */
  async function setManifest(req, res, model) {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const checked = checkManifest(body);
    if ('error' in checked) return send(res, 400, { error: checked.error.reason, field: checked.error.field });
    if (checked.manifest.model !== model)
      return send(res, 400, { error: `manifest.model "${checked.manifest.model}" differs from the URL's "${model}"`, field: 'model' });
    const hashes = releases.get(model)?.hashes ?? {};
    for (const v of [checked.manifest.stable, checked.manifest.candidate]) {
      if (v && hashes[v.version] && hashes[v.version] !== v.sha256)
        return send(res, 409, {
          error: `version ${v.version} was published with SHA-256 ${hashes[v.version]}; a version label names one set of bytes: publish a new version`,
          field: 'sha256',
        });
    }
    record({ type: 'set', model, at: new Date().toISOString(), manifest: checked.manifest });
    await enforceAll(); // the fleet's data and incidents so far may already decide about the candidate
    return send(res, 200, releases.get(model)?.manifest);
  }

  /** @param {Req} req @param {Res} res @param {string} model @param {'promote' | 'rollback'} action */
  function act(req, res, model, action) {
    req.resume();
    const r = releases.get(model);
    if (!r?.manifest.candidate) return send(res, 409, { error: `model "${model}" has no candidate to ${action}` });
    const at = new Date().toISOString();
    const evidence = { requested: 'api' };
    record(action === 'promote' ? { type: 'promote', model, at, by: 'api', evidence } : { type: 'rollback', model, at, by: 'api', rule: 'manual', evidence });
    return send(res, 200, releases.get(model)?.manifest);
  }

  /** @param {Req} req @param {Res} res @param {string} model */
  async function addIncident(req, res, model) {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const incident = readIncident(body, model);
    if (typeof incident === 'string') return send(res, 400, { error: incident });
    if (!releases.has(model)) return send(res, 404, { error: `no release for model "${model}"` });
    record({ type: 'incident', model, at: incident.at, incident });
    await enforceAll();
    return send(res, 202, {});
  }

  /**
   * Handles `/api/release…`; resolves once answered.
   * @param {Req} req @param {Res} res @param {URL} url
   */
  async function handle(req, res, url) {
    const parts = url.pathname.split('/').slice(3);
    const [model, action, ...rest] = parts;
    const m = req.method;
    if (model && !MODEL_PATH.test(model)) {
      req.resume();
      return send(res, 400, { error: 'the model id in the URL must be letters, digits and "._-", at most 128' });
    }
    if (!model)
      return m === 'GET'
        ? send(res, 200, { releases: [...releases].map(([id, r]) => ({ model: id, manifest: r.manifest, incidents: r.incidents.length })) })
        : send(res, 405, { error: 'use GET' });
    if (rest.length > 0) return send(res, 404, { error: `no route ${url.pathname}` });
    if (!action && m === 'GET') return serveManifest(req, res, model);
    if (!action && m === 'PUT') return setManifest(req, res, model);
    if ((action === 'promote' || action === 'rollback') && m === 'POST') return act(req, res, model, action);
    if (action === 'incidents' && m === 'POST') return addIncident(req, res, model);
    if (action === 'incidents' && m === 'GET') return send(res, 200, { incidents: releases.get(model)?.incidents ?? [] });
    if (action === 'decision' && m === 'GET') {
      const { decision, versions } = await evaluate(model);
      return send(res, 200, { manifest: releases.get(model)?.manifest ?? null, ...decision, versions: versions.map(({ histogram: _, ...v }) => v) });
    }
    req.resume();
    return send(res, 405, { error: `${m} ${url.pathname} is not a release route; see collector/release.mjs` });
  }

  return {
    handle,
    /** Evaluates every release now (after new data) and applies what the rules decide; resolves when done. */
    evaluate: enforceAll,
    /** Stops the periodic evaluation. */
    close: () => clearInterval(timer),
    /** The dashboard's release section (HTML). */
    section: async () =>
      releaseSection(
        await Promise.all(
          [...releases].map(async ([model, r]) => ({ model, manifest: r.manifest, incidents: r.incidents, versions: await options.versions(model) })),
        ),
      ),
  };
}

/** @param {Res} res @param {number} status @param {unknown} body */
function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * A JSON body of at most MAX_MANIFEST_BYTES, or undefined after answering 400/413/415.
 * @param {Req} req @param {Res} res @returns {Promise<unknown>}
 */
async function readJson(req, res) {
  if (refuseNonJson(req, res)) return undefined;
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= MAX_MANIFEST_BYTES) chunks.push(chunk);
    else if (size > MAX_MANIFEST_BYTES * 8) break; // a client that ignores limits gets cut off
  }
  if (size > MAX_MANIFEST_BYTES) {
    send(res, 413, { error: `body exceeds ${MAX_MANIFEST_BYTES} bytes` });
    if (!req.complete) res.once('finish', () => req.destroy());
    return undefined;
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    return void send(res, 400, { error: `malformed JSON: ${/** @type {Error} */ (err).message}` });
  }
}
