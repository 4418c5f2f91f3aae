// @ts-check
// HTTP plumbing of the collector: JSON replies, the CORS policy, and body reading with a
// per-request limit and a shared in-flight byte budget (so many concurrent large bodies cannot
// exhaust memory).

/**
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 * @typedef {{ used: number, max: number }} ByteBudget
 * @typedef {{ body: Buffer } | { status: 413 | 503, error: string }} BodyResult
 */

/** Allowed headers when a preflight asks for none. */
const DEFAULT_ALLOW_HEADERS = 'content-type, x-webq8-batch';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** @param {Res} res @param {number} status @param {unknown} body @param {Record<string, string>} [headers] */
export function json(res, status, body, headers = {}) {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Answers 415 (and drains the body) unless the request says `content-type: application/json`;
 * returns whether it answered. `what` names the expected format in the error.
 * @param {Req} req @param {Res} res @param {string} [what]
 */
export function refuseNonJson(req, res, what = 'application/json') {
  const type = String(req.headers['content-type'] ?? '');
  if (type.toLowerCase().startsWith('application/json')) return false;
  req.resume();
  json(res, 415, { error: `content-type must be ${what}, got "${type.slice(0, 100)}"` });
  return true;
}

/**
 * Whether an `Origin` header value names a page served from this machine (http(s) on localhost,
 * *.localhost, 127.0.0.1 or [::1]). `null` (sandboxed frames, file://) never is.
 * @param {string} origin
 */
export function isLoopbackOrigin(origin) {
  let url;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin || (url.protocol !== 'http:' && url.protocol !== 'https:')) return false;
  return LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost');
}

/**
 * The CORS policy: `allowed` holds exact origins and/or the word `loopback`. Anything else —
 * including `null` and every public site the user happens to visit — gets no CORS headers, and
 * its POSTs are refused, so a web page cannot feed the local collector.
 * @param {string[]} allowed
 */
export function createOriginPolicy(allowed) {
  const exact = new Set(allowed.filter((o) => o !== 'loopback'));
  const loopback = allowed.includes('loopback');
  return {
    /** @param {string | undefined} origin */
    allows(origin) {
      if (origin === undefined) return true; // not a browser's cross-origin request
      return exact.has(origin) || (loopback && isLoopbackOrigin(origin));
    },
    /** Sets the CORS response headers for an allowed origin. @param {Req} req @param {Res} res */
    decorate(req, res) {
      res.setHeader('vary', 'Origin');
      const origin = req.headers.origin;
      if (origin === undefined || !this.allows(origin)) return;
      res.setHeader('access-control-allow-origin', origin);
      // Without this a cross-origin page cannot read Retry-After on 429/503.
      res.setHeader('access-control-expose-headers', 'Retry-After');
    },
    /** Answers an OPTIONS preflight. @param {Req} req @param {Res} res */
    preflight(req, res) {
      if (!this.allows(req.headers.origin)) return json(res, 403, { error: originError(req.headers.origin) });
      /** @type {Record<string, string>} */
      const headers = {
        'access-control-allow-methods': 'POST, GET, OPTIONS',
        'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? DEFAULT_ALLOW_HEADERS).slice(0, 1024),
        'access-control-max-age': '600',
      };
      // Chrome's Private Network Access: a page on another address asks before posting to 127.0.0.1.
      if (req.headers['access-control-request-private-network'] === 'true') headers['access-control-allow-private-network'] = 'true';
      res.writeHead(204, headers);
      res.end();
    },
  };
}

/** @param {string | undefined} origin */
export function originError(origin) {
  return `origin ${JSON.stringify(origin)} is not allowed to post; start the collector with --allow-origin ${origin} (default: loopback pages only)`;
}

/**
 * Bytes of an oversize body read (and thrown away) before answering 413 — answering earlier makes
 * the client's write fail (EPIPE) before it reads the answer. Past this the connection is cut.
 * @param {number} limit
 */
export const drainCap = (limit) => Math.max(8 * limit, 64 * 1024 * 1024);

/**
 * Reads a body of at most `limit` bytes. Over the limit, or when all requests together hold more
 * than `budget.max` bytes, the rest is drained without being kept and a status says why; a client
 * that keeps sending past {@link drainCap} is cut off.
 * @param {Req} req @param {number} limit @param {ByteBudget} budget
 * @returns {Promise<BodyResult>}
 */
export function readBody(req, limit, budget) {
  return new Promise((done) => {
    /** @type {Buffer[]} */
    let chunks = [];
    let size = 0;
    let held = 0;
    /** @type {BodyResult | undefined} */
    let failed;
    const release = () => {
      budget.used -= held;
      held = 0;
      chunks = [];
    };
    req.on('data', (/** @type {Buffer} */ c) => {
      size += c.length;
      if (failed) {
        if (size > drainCap(limit)) req.destroy();
        return;
      }
      if (size > limit) failed = { status: 413, error: `body exceeds the ${limit}-byte limit; split the batch` };
      else if (budget.used + c.length > budget.max) failed = { status: 503, error: 'too many request bytes in flight; retry shortly' };
      if (failed) return release();
      chunks.push(c);
      held += c.length;
      budget.used += c.length;
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      release();
      done(failed ?? { body });
    });
    // An aborted upload emits 'error' (ECONNRESET) then 'close'; without a listener it would throw.
    req.on('error', () => {});
    req.on('close', () => {
      release();
      done(failed ?? { status: 413, error: 'request closed before its body ended' });
    });
  });
}
