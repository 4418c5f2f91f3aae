// Test-only model URLs whose bytes and caching headers a test sets, for the weight cache's HTTP
// revalidation tests (test/browser/cache-revalidate.spec.ts). Held in memory, never on disk.
//   PUT  /__model/<name>        body = the bytes to serve from now on; header `x-model` = JSON
//        { headers?: {name: value}   response headers (replace the default `Cache-Control: no-store`),
//          etag?: boolean            send a strong ETag (a hash of the bytes), default true,
//          lastModified?: boolean    send Last-Modified (the time of the PUT), default false,
//          conditional?: boolean     answer If-None-Match / If-Modified-Since with 304, default true,
//          expose?: string[]         Access-Control-Expose-Headers for cross-origin pages }
//   GET  /__model/<name>        serves it (HEAD too), counting the request and the body bytes sent
//   GET  /__model-stats/<name>  -> JSON {requests, conditional, notModified, bodyBytes}
import { createHash } from 'node:crypto';

/** Most models held at once, and the largest one: a test server must not grow without bound. */
const MAX_MODELS = 1000;
const MAX_MODEL_BYTES = 64 << 20;

/** The routes above, over one in-memory table. `handle` resolves to false for other paths. */
export function createModelRoutes() {
  const models = new Map();

  async function put(name, req, res) {
    const config = parseConfig(req.headers['x-model']);
    if (!config) {
      req.resume();
      res
        .writeHead(400, { 'Content-Type': 'text/plain' })
        .end('x-model must be JSON {headers?: {name: value}, etag?, lastModified?, conditional?, expose?: [name]}');
      return;
    }
    const body = await readBody(req);
    if (!body) {
      res.writeHead(413, { 'Content-Type': 'text/plain' }).end(`at most ${MAX_MODEL_BYTES} bytes`);
      return;
    }
    if (!models.has(name) && models.size >= MAX_MODELS) {
      res.writeHead(507, { 'Content-Type': 'text/plain' }).end('too many models');
      return;
    }
    const stats = models.get(name)?.stats ?? { requests: 0, conditional: 0, notModified: 0, bodyBytes: 0 };
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    // Whole seconds, as HTTP dates have; one second later than the last version so it always moves.
    const last = models.get(name)?.modified ?? 0;
    const modified = Math.max(Math.floor(Date.now() / 1000) * 1000, last + 1000);
    models.set(name, { body, config, etag, modified, stats });
    res.writeHead(204).end();
  }

  function get(name, req, res) {
    const m = models.get(name);
    if (!m) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no model ${name}`);
      return;
    }
    m.stats.requests++;
    const { config } = m;
    res.removeHeader('Cache-Control');
    const headers = { 'Content-Type': 'application/octet-stream', ...(config.headers ?? {}) };
    if (config.etag) headers.ETag = m.etag;
    if (config.lastModified) headers['Last-Modified'] = new Date(m.modified).toUTCString();
    if (config.expose) headers['Access-Control-Expose-Headers'] = config.expose.join(', ');
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    if (inm !== undefined || ims !== undefined) m.stats.conditional++;
    if (config.conditional && notModified(m, config, inm, ims)) {
      m.stats.notModified++;
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': m.body.length });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    m.stats.bodyBytes += m.body.length;
    res.end(m.body);
  }

  return async function handle(path, req, res) {
    if (path.startsWith('/__model-stats/')) {
      const m = models.get(path.slice('/__model-stats/'.length));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(m?.stats ?? null));
      return true;
    }
    if (!path.startsWith('/__model/')) return false;
    const name = path.slice('/__model/'.length);
    if (req.method === 'PUT') await put(name, req, res);
    else get(name, req, res);
    return true;
  };
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** The `x-model` header's config, or undefined when it is not the documented shape. */
function parseConfig(text) {
  let c;
  try {
    c = JSON.parse(text ?? '{}');
  } catch {
    return undefined;
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return undefined;
  const headers = c.headers ?? {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined;
  if (!Object.entries(headers).every(([k, v]) => TOKEN.test(k) && typeof v === 'string' && FIELD_VALUE.test(v))) return undefined;
  if (c.expose !== undefined && !(Array.isArray(c.expose) && c.expose.every((h) => typeof h === 'string' && TOKEN.test(h)))) return undefined;
  return { headers, etag: c.etag !== false, lastModified: c.lastModified === true, conditional: c.conditional !== false, expose: c.expose };
}

/** RFC 9110 §13.1: If-None-Match wins over If-Modified-Since; weak comparison for If-None-Match. */
function notModified(m, config, inm, ims) {
  if (inm !== undefined) {
    if (!config.etag) return false;
    const tags = inm.split(',').map((t) => t.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(m.etag);
  }
  if (ims === undefined || !config.lastModified) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && m.modified <= since;
}

/** The request body, or undefined when it is larger than MAX_MODEL_BYTES. */
async function readBody(req) {
  const parts = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_MODEL_BYTES) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
