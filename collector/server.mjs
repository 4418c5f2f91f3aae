// @ts-check
// webq8 reference collector: receives OTLP/HTTP JSON metrics on POST /v1/metrics, merges the
// exponential histograms of every client, and serves /api/latency, /api/status and an HTML
// dashboard.
//
//   npm run collector -- [--port 4318] [--data .collector/metrics.jsonl] [--max-body 1048576]
//     [--allow-origin loopback,https://app.example] [--max-series 1000] [--dedup-ids 100000]
//     [--dedup-window-ms 604800000] [--compact-bytes 67108864]
//   env: WEBQ8_COLLECTOR_PORT, WEBQ8_COLLECTOR_DATA, WEBQ8_COLLECTOR_MAX_BODY, WEBQ8_COLLECTOR_ALLOW_ORIGIN
//
// Binds 127.0.0.1 only. Accepted requests are validated, journaled before they are acknowledged
// and replayed on start (see ingest.mjs, journal.mjs); the `x-webq8-batch` header (sent by
// webq8's exporter) makes a retried or re-sent batch count once.
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderDashboard } from './dashboard.mjs';
import { attachFleet, FLEET_FLAGS, fleetOptionsFromFlags } from './fleet.mjs';
import { createOriginPolicy, drainCap, json, originError, readBody, refuseNonJson } from './http.mjs';
import { openStore } from './ingest.mjs';
import { createReleases, releaseJournalPath } from './release.mjs';
import { embeddedVersions } from './release-decision.mjs';
import { createVerifyView } from './verify-view.mjs';

const BATCH_HEADER = 'x-webq8-batch';
const DEFAULT_METRIC = 'webq8.run.duration';
/** With Prometheus as the store, data arrives elsewhere: the release rules are evaluated this often. */
const RELEASE_EVALUATE_MS = 15_000;

/**
 * Options of {@link startCollector}; every limit has a default sized for a developer machine.
 * @typedef {object} CollectorOptions
 * @property {number} [port] TCP port on 127.0.0.1; 0 picks a free one. Default 4318.
 * @property {string} [dataFile] Journal path (the snapshot goes beside it as `<file>.snapshot`);
 *   none: nothing persists.
 * @property {number} [maxBodyBytes] Largest request body; larger ones get 413. Default 1 MiB.
 * @property {string[]} [allowedOrigins] Browser origins allowed to post: exact origins
 *   (`https://app.example`) and/or `loopback` (any page on localhost, 127.0.0.1, [::1]). Others get
 *   no CORS headers and 403. Default `['loopback']`.
 * @property {number} [maxSeries] Cap on histogram series and on error series (each); a request
 *   adding series past it gets 413 with the reason. Default 1000.
 * @property {number} [dedupMaxIds] Batch ids remembered for deduplication. Default 100 000.
 * @property {number} [dedupWindowMs] How long a batch id is remembered. Default 7 days.
 * @property {number} [compactBytes] Journal size that triggers compaction into the snapshot.
 *   Default 64 MiB.
 * @property {number} [maxInflightBytes] Request body bytes held at once across all requests;
 *   beyond it, 503 with Retry-After. Default 32 MiB (at least maxBodyBytes).
 * @property {number} [requestTimeoutMs] A request whose headers and body take longer gets 408.
 *   Default 30 s.
 * @property {number} [maxConnections] Open connections at once. Default 256.
 * @property {(msg: string) => void} [log] Diagnostics (replay, compaction, internal errors).
 * @property {import('./fleet.mjs').FleetOptions['remoteWrite']} [remoteWrite] Remote-write to Prometheus (fleet.mjs).
 * @property {import('./fleet.mjs').FleetOptions['query']} [query] Read from Prometheus instead of memory (fleet.mjs).
 */

/**
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 */

/**
 * Starts a collector. Resolves once it has replayed its journal and listens; `close()` stops it.
 * `replayed`/`skipped` count the snapshot and journal records restored and refused on start.
 * @param {CollectorOptions} [options]
 */
export async function startCollector(options = {}) {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const log = options.log ?? (() => {});
  const origins = createOriginPolicy(options.allowedOrigins ?? ['loopback']);
  const budget = { used: 0, max: Math.max(maxBody, options.maxInflightBytes ?? 32 * 1024 * 1024) };
  const fleet = attachFleet(options, () => store.agg, log);
  // Verification in service by device, and its incidents (verify-view.mjs); the journal beside the metrics one.
  const verify = await createVerifyView({ file: options.dataFile && `${options.dataFile.replace(/\.jsonl$/, '')}.verify.jsonl`, log });
  const store = await openStore({
    dataFile: options.dataFile,
    maxBodyBytes: maxBody,
    maxSeries: options.maxSeries ?? 1000,
    dedupMaxIds: options.dedupMaxIds ?? 100_000,
    dedupWindowMs: options.dedupWindowMs ?? 7 * 24 * 3600 * 1000,
    compactBytes: options.compactBytes ?? 64 * 1024 * 1024,
    log,
    onMerged: (parsed, body, replayed) => {
      fleet.add(parsed, body, replayed);
      verify.add(parsed);
    },
  });
  // Release analysis reads the same store as the dashboard: the merged histograms, or Prometheus.
  const fromQuery = async (/** @type {string} */ model) =>
    (await fleet.query.versions(model)).map((r) => ({ ...r, p50: r.p50 ?? NaN, p95: r.p95 ?? NaN, p99: r.p99 ?? NaN }));
  const versions = options.query ? fromQuery : embeddedVersions(store.agg);
  const releases = await createReleases({
    file: options.dataFile && releaseJournalPath(options.dataFile),
    versions,
    evaluateMs: options.query ? RELEASE_EVALUATE_MS : undefined,
  });

  /** @param {Req} req @param {Res} res */
  async function ingest(req, res) {
    if (!origins.allows(req.headers.origin)) {
      req.resume();
      return json(res, 403, { error: originError(req.headers.origin) });
    }
    if (refuseNonJson(req, res, 'application/json (OTLP/HTTP JSON)')) return;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > drainCap(maxBody)) {
      // Not worth reading: answer and close (the client may see its write fail instead).
      json(res, 413, { error: `body of ${declared} bytes exceeds the ${maxBody}-byte limit; split the batch` }, { connection: 'close' });
      return void req.destroy();
    }
    const read = await readBody(req, maxBody, budget);
    if (!('body' in read)) return json(res, read.status, { error: read.error }, read.status === 503 ? { 'retry-after': '1' } : {});
    let parsed;
    try {
      parsed = JSON.parse(read.body.toString('utf8'));
    } catch (err) {
      return json(res, 400, { error: `malformed JSON: ${/** @type {Error} */ (err).message.slice(0, 200)}` });
    }
    const batch = req.headers[BATCH_HEADER];
    const out = store.accept(parsed, typeof batch === 'string' && batch !== '' ? batch : undefined);
    // New data in the embedded store: the release rules see it before the sender gets its answer.
    if (out.status === 200 && !options.query) await releases.evaluate();
    return json(res, out.status, out.body, out.headers);
  }

  /** @param {Req} req @param {Res} res */
  async function handle(req, res) {
    origins.decorate(req, res);
    let url;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return json(res, 400, { error: 'malformed request target' });
    }
    if (req.method === 'OPTIONS') return origins.preflight(req, res);
    if (url.pathname === '/api/release' || url.pathname.startsWith('/api/release/')) return releases.handle(req, res, url);
    if (url.pathname === '/api/verify' || url.pathname.startsWith('/api/verify/')) {
      if (req.method !== 'POST' || origins.allows(req.headers.origin)) return verify.handle(req, res, url);
      req.resume();
      return json(res, 403, { error: originError(req.headers.origin) });
    }
    if (url.pathname === '/v1/metrics') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' }, { allow: 'POST, OPTIONS' });
      return ingest(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD, OPTIONS' });
    if (url.pathname === '/api/latency') {
      return json(res, 200, store.agg.latency({ metric: url.searchParams.get('metric'), model: url.searchParams.get('model') }));
    }
    if (url.pathname === '/api/status') return json(res, 200, store.status());
    if (await fleet.route(url, res)) return;
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(
        renderDashboard(store.agg, url.searchParams.get('metric') ?? DEFAULT_METRIC, await fleet.servingHtml()).replace(
          '</body>',
          `${verify.section()}${await releases.section()}</body>`,
        ),
      );
    }
    return json(res, 404, { error: `no route ${url.pathname.slice(0, 200)}; try POST /v1/metrics, GET /api/latency, GET /api/status or GET /` });
  }

  const server = createServer({ requestTimeout: options.requestTimeoutMs ?? 30_000, connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((err) => {
      log(`error: ${err?.stack ?? err}`);
      json(res, 500, { error: 'internal error' });
    });
  });
  server.maxConnections = options.maxConnections ?? 256;
  await new Promise((ready, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 4318, '127.0.0.1', () => ready(undefined));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    replayed: store.replayed,
    skipped: store.skipped,
    fleet,
    close: () =>
      new Promise((done) => {
        releases.close();
        server.close(() => void fleet.close().finally(() => done(undefined)));
        server.closeAllConnections();
      }),
  };
}

const FLAGS = `--port N --data FILE --max-body BYTES --allow-origin LIST --max-series N --dedup-ids N --dedup-window-ms MS --compact-bytes BYTES --request-timeout-ms MS ${FLEET_FLAGS} `;

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, string>} */
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i] ?? '');
    if (!m || !m[1] || !FLAGS.includes(`--${m[1]} `)) throw new Error(`unexpected argument ${argv[i]}; flags: ${FLAGS}`);
    flags[m[1]] = m[2] ?? argv[++i] ?? '';
  }
  return flags;
}

/** A numeric flag, or undefined to take the default. @param {string | undefined} v @param {string} name */
function num(v, name) {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${v}"`);
  return n;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = parseArgs(process.argv.slice(2));
  const env = process.env;
  const origins = flags['allow-origin'] ?? env.WEBQ8_COLLECTOR_ALLOW_ORIGIN;
  const collector = await startCollector({
    port: num(flags.port ?? env.WEBQ8_COLLECTOR_PORT, 'port') ?? 4318,
    dataFile: resolve(flags.data ?? env.WEBQ8_COLLECTOR_DATA ?? '.collector/metrics.jsonl'),
    maxBodyBytes: num(flags['max-body'] ?? env.WEBQ8_COLLECTOR_MAX_BODY, 'max-body'),
    allowedOrigins:
      origins === undefined
        ? undefined
        : origins
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean),
    maxSeries: num(flags['max-series'], 'max-series'),
    dedupMaxIds: num(flags['dedup-ids'], 'dedup-ids'),
    dedupWindowMs: num(flags['dedup-window-ms'], 'dedup-window-ms'),
    compactBytes: num(flags['compact-bytes'], 'compact-bytes'),
    requestTimeoutMs: num(flags['request-timeout-ms'], 'request-timeout-ms'),
    ...fleetOptionsFromFlags(flags, env),
    log: (m) => console.error(m),
  });
  console.log(`webq8 collector listening on ${collector.url} (replayed ${collector.replayed} records, skipped ${collector.skipped})`);
  const stop = () => void collector.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
