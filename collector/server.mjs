// @ts-check
// webq8 reference collector: receives OTLP/HTTP JSON metrics on POST /v1/metrics, merges the
// exponential histograms of every client, and serves /api/latency plus an HTML dashboard.
//
//   npm run collector -- [--port 4318] [--data .collector/metrics.jsonl] [--max-body 1048576]
//   env: WEBQ8_COLLECTOR_PORT, WEBQ8_COLLECTOR_DATA, WEBQ8_COLLECTOR_MAX_BODY
//
// Binds 127.0.0.1 only. Accepted requests are journaled before they are acknowledged and
// replayed on start; the `x-webq8-batch` header (sent by webq8's exporter) makes a retried or
// re-sent batch count once.
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAggregator } from './aggregate.mjs';
import { renderDashboard } from './dashboard.mjs';
import { openJournal } from './journal.mjs';
import { parseExport } from './validate.mjs';
import { createReleases, releaseJournalPath } from './release.mjs';
import { embeddedVersions } from './release-decision.mjs';

const BATCH_HEADER = 'x-webq8-batch';
const DEFAULT_METRIC = 'webq8.run.duration';

/**
 * @typedef {{ port?: number, dataFile?: string, maxBodyBytes?: number, log?: (msg: string) => void }} CollectorOptions
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 */

/** @param {Res} res @param {number} status @param {unknown} body @param {Record<string, string>} [headers] */
function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** CORS for browser pages on any origin (the collector is local and holds no secrets). @param {Req} req @param {Res} res */
function cors(req, res) {
  const origin = req.headers.origin;
  res.setHeader('access-control-allow-origin', origin ?? '*');
  res.setHeader('vary', 'Origin');
  // Without this a cross-origin page cannot read Retry-After on 429/503.
  res.setHeader('access-control-expose-headers', 'Retry-After');
}

/** @param {Req} req @param {Res} res */
function preflight(req, res) {
  /** @type {Record<string, string>} */
  const headers = {
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? `content-type, ${BATCH_HEADER}`),
    'access-control-max-age': '600',
  };
  // Chrome's Private Network Access: a public page posting to 127.0.0.1 asks first.
  if (req.headers['access-control-request-private-network'] === 'true') headers['access-control-allow-private-network'] = 'true';
  res.writeHead(204, headers);
  res.end();
}

/**
 * Reads the body up to `limit` bytes; resolves undefined when it is larger (the rest is drained).
 * @param {Req} req @param {number} limit @returns {Promise<Buffer | undefined>}
 */
function readBody(req, limit) {
  return new Promise((done, fail) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (/** @type {Buffer} */ c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else if (size > limit * 8) req.destroy(); // a client that ignores limits gets cut off
    });
    req.on('end', () => done(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on('error', fail);
  });
}

/**
 * Starts a collector. Resolves once it listens; `close()` stops it.
 * @param {CollectorOptions} [options]
 */
export async function startCollector(options = {}) {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const log = options.log ?? (() => {});
  const agg = createAggregator();
  /** @type {Set<string>} */
  const batches = new Set();
  const journal = options.dataFile ? openJournal(options.dataFile) : undefined;
  const replayed =
    journal?.replay((r) => {
      const parsed = parseExport(r.body);
      if (typeof parsed === 'string') return;
      if (r.batch) batches.add(r.batch);
      agg.add(parsed);
    }) ?? 0;
  const releases = createReleases({ file: options.dataFile && releaseJournalPath(options.dataFile), versions: embeddedVersions(agg) });

  /** @param {Req} req @param {Res} res */
  async function ingest(req, res) {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.toLowerCase().startsWith('application/json')) {
      req.resume();
      return json(res, 415, { error: `content-type must be application/json (OTLP/HTTP JSON), got "${type}"` });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody * 8) {
      json(res, 413, { error: `body of ${declared} bytes exceeds the ${maxBody}-byte limit` }, { connection: 'close' });
      return req.destroy();
    }
    const body = await readBody(req, maxBody);
    if (!body) return json(res, 413, { error: `body exceeds the ${maxBody}-byte limit; split the batch` });
    let parsedJson;
    try {
      parsedJson = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return json(res, 400, { error: `malformed JSON: ${/** @type {Error} */ (err).message}` });
    }
    const parsed = parseExport(parsedJson);
    if (typeof parsed === 'string') return json(res, 400, { error: parsed });
    const batch = typeof req.headers[BATCH_HEADER] === 'string' ? String(req.headers[BATCH_HEADER]).slice(0, 128) : undefined;
    if (batch && batches.has(batch)) return json(res, 200, {}); // a re-send of what we already have
    journal?.append({ batch, at: new Date().toISOString(), body: parsedJson });
    if (batch) batches.add(batch);
    agg.add(parsed);
    return json(res, 200, {});
  }

  /** @param {Req} req @param {Res} res */
  async function handle(req, res) {
    cors(req, res);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'OPTIONS') return preflight(req, res);
    if (url.pathname === '/api/release' || url.pathname.startsWith('/api/release/')) return releases.handle(req, res, url);
    if (url.pathname === '/v1/metrics') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' }, { allow: 'POST, OPTIONS' });
      return ingest(req, res);
    }
    if (req.method !== 'GET') return json(res, 405, { error: 'use GET' });
    if (url.pathname === '/api/latency') {
      return json(res, 200, agg.latency({ metric: url.searchParams.get('metric'), model: url.searchParams.get('model') }));
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(renderDashboard(agg, url.searchParams.get('metric') ?? DEFAULT_METRIC).replace('</body>', `${releases.section()}</body>`));
    }
    return json(res, 404, { error: `no route ${url.pathname}; try POST /v1/metrics, GET /api/latency or GET /` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`error: ${err?.stack ?? err}`);
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  await new Promise((ready) => server.listen(options.port ?? 4318, '127.0.0.1', () => ready(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    replayed,
    close: () =>
      new Promise((done) => {
        server.close(() => done(undefined));
        server.closeAllConnections();
      }),
  };
}

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, string>} */
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i] ?? '');
    if (!m || !m[1]) throw new Error(`unexpected argument ${argv[i]}; flags: --port N --data FILE --max-body BYTES`);
    flags[m[1]] = m[2] ?? argv[++i] ?? '';
  }
  return flags;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = parseArgs(process.argv.slice(2));
  const env = process.env;
  const collector = await startCollector({
    port: Number(flags.port ?? env.WEBQ8_COLLECTOR_PORT ?? 4318),
    dataFile: resolve(flags.data ?? env.WEBQ8_COLLECTOR_DATA ?? '.collector/metrics.jsonl'),
    maxBodyBytes: Number(flags['max-body'] ?? env.WEBQ8_COLLECTOR_MAX_BODY ?? 1024 * 1024),
    log: (m) => console.error(m),
  });
  console.log(`webq8 collector listening on ${collector.url} (replayed ${collector.replayed} requests)`);
  const stop = () => void collector.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
