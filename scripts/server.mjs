// A small static file server for the demo, the browser tests and the benchmarks.
// It serves the repository root from http://localhost (a secure context, so navigator.gpu exists),
// with correct MIME types for .mjs/.wasm/.onnx, HTTP Range, and a few test-only routes:
//   GET  /__status/<code>         -> an empty response with that status (e.g. a 404 model URL)
//   GET  /__requests              -> JSON {path: count} of the requests served so far
//   POST /__requests/reset        -> clears the counts
//   GET  /__cut/<path>?after=N&times=K -> serves <path> (Range honoured) but destroys the connection
//                                    after N body bytes, for the first K requests of that URL (default 1);
//                                    later requests are served whole (a flaky network, for resume tests)
//   GET  /__lie-length/<path>?delta=N -> serves <path> whole with 200 (Range ignored) but declares
//                                    Content-Length = size + N (default 1000), then closes the connection
// It never serves dotfiles or dot-directories (.git/, .env, .collector/; `.cache/` is the one
// exception, see SERVED_DOT_DIR) nor collector journals
// (*.jsonl, *.jsonl.snapshot), and sends CORS headers only to pages on this machine: any site the
// developer visits could otherwise read the checkout through http://localhost.
//   GET  /__hang/<anything>         -> sends 200 headers and then nothing until the client gives up
//                                    (a stalled server, for the load-timeout tests)
//   GET  /__hold/<name>/<path>      -> serves <path> (and, by relative URLs, the files beside it) as usual,
//                                    but a file named <name> gets its headers and the first half of its
//                                    body, then nothing more until the client closes the connection (a
//                                    download held mid-body, so a test can cancel it without a race)
//   PUT/GET /__model/<name>, GET /__model-stats/<name> -> models whose bytes and caching headers a
//                                    test sets, counted per name (scripts/mock-models.mjs)
// Model files of the checkout (.onnx and external data: .onnx_data, .data, .bin) are served as a
// typical server does, with an ETag and `Cache-Control: no-cache` (revalidated with a 304 each
// load); everything else with `no-store`.
// CORS preflights from pages on this machine are answered (conditional requests need one).
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { isLoopbackOrigin } from '../collector/http.mjs';
import { createModelRoutes } from './mock-models.mjs';

/** Extensions of model files: served with validators, as the weight cache expects of a real server. */
const MODEL_FILES = new Set(['.onnx', '.onnx_data', '.data', '.bin']);

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Starts the server. Resolves to `{ url, port, close() }`.
 * @param {{ root?: string, port?: number, host?: string, isolate?: boolean, quiet?: boolean }} [opts]
 *   `isolate` adds COOP/COEP headers (cross-origin isolation, which ORT's WASM threads need).
 */
export async function startServer(opts = {}) {
  const root = resolve(opts.root ?? process.cwd());
  const counts = new Map();
  const cutsServed = new Map();
  const modelRoutes = createModelRoutes();
  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      console.error(`webq8 server: ${req.method} ${req.url}: ${err?.stack ?? err}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error');
      else res.destroy();
    });
  });

  async function route(req, res) {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin && isLoopbackOrigin(origin)) res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method === 'OPTIONS' && origin && isLoopbackOrigin(origin)) {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '',
        'Access-Control-Max-Age': '0',
      });
      res.end();
      return;
    }
    if (opts.isolate) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    let url;
    let path;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      path = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('malformed URL');
      return;
    }
    // Bounded: a client requesting endless distinct paths must not grow memory.
    if (counts.size < MAX_COUNTED || counts.has(path)) counts.set(path, (counts.get(path) ?? 0) + 1);
    if (path.startsWith('/__status/')) {
      const code = Number(path.slice('/__status/'.length));
      if (Number.isInteger(code) && code >= 200 && code <= 599) res.writeHead(code).end();
      else res.writeHead(400, { 'Content-Type': 'text/plain' }).end('use /__status/<200…599>');
      return;
    }
    if (path === '/__requests') {
      if (req.method === 'POST') counts.clear();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(Object.fromEntries(counts)));
      return;
    }
    if (path === '/__requests/reset') {
      counts.clear();
      res.writeHead(204).end();
      return;
    }
    if (await modelRoutes(path, req, res)) return;
    if (path.startsWith('/__cut/')) {
      const key = url.pathname + url.search;
      const served = cutsServed.get(key) ?? 0;
      if (cutsServed.size < MAX_COUNTED || cutsServed.has(key)) cutsServed.set(key, served + 1);
      const cut = served < Number(url.searchParams.get('times') ?? 1) ? Number(url.searchParams.get('after') ?? 0) : undefined;
      await serveFile(root, path.slice('/__cut'.length), req, res, cut);
      return;
    }
    if (path.startsWith('/__hang/')) {
      res.writeHead(200, { 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream', 'Content-Length': 1 << 20 });
      res.flushHeaders();
      req.on('close', () => res.destroy());
      return;
    }
    if (path.startsWith('/__hold/')) {
      const [, , name = '', ...rest] = path.split('/');
      if (basename(path) === name) await serveHeld(root, `/${rest.join('/')}`, res);
      else await serveFile(root, `/${rest.join('/')}`, req, res);
      return;
    }
    if (path.startsWith('/__lie-length/')) {
      const delta = Math.trunc(Number(url.searchParams.get('delta') ?? 1000));
      if (!Number.isSafeInteger(delta)) {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end('delta must be an integer');
        return;
      }
      await serveLyingLength(root, path.slice('/__lie-length'.length), delta, res);
      return;
    }
    await serveFile(root, path, req, res);
  }
  const host = opts.host ?? '127.0.0.1';
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, ok);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://localhost:${port}`;
  if (!opts.quiet) console.log(`webq8 server: ${url}/ (root ${root})`);
  return { url, port, close: () => new Promise((ok) => server.close(() => ok(undefined))) };
}

/** Distinct paths remembered by /__requests and /__cut. */
const MAX_COUNTED = 10_000;

/**
 * The one dot-directory served, at the top of the root: browser specs build the bundles their pages
 * import into the git-ignored `.cache/` (test/browser/cache.spec.ts).
 */
const SERVED_DOT_DIR = '.cache';

/**
 * The file under `root` that `path` names, or undefined when it must not be served: outside the
 * root, inside a dot-directory (but SERVED_DOT_DIR), a dotfile, or a collector journal/snapshot.
 */
function fileFor(root, path) {
  const file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  const parts = file.slice(root.length).split(sep).filter(Boolean);
  if (parts.some((p, i) => p.startsWith('.') && !(i === 0 && p === SERVED_DOT_DIR && parts.length > 1))) return undefined;
  if (/\.jsonl(\.|$)/.test(basename(file))) return undefined;
  return file;
}

/** Pipes `stream` to `res`; with `cutAfter`, destroys the socket after that many bytes instead of ending. */
function sendBody(stream, res, cutAfter) {
  // The file can vanish or fail between stat and read: end the response instead of crashing.
  stream.on('error', () => res.destroy());
  if (cutAfter === undefined) {
    stream.pipe(res);
    return;
  }
  let sent = 0;
  stream.on('data', (buf) => {
    const room = cutAfter - sent;
    if (room > 0) res.write(room >= buf.length ? buf : buf.subarray(0, room));
    sent += buf.length;
    if (sent >= cutAfter) {
      stream.destroy();
      // Let the written bytes leave before the reset, so the client sees a partial body.
      res.once('drain', () => res.socket?.destroy());
      setTimeout(() => res.socket?.destroy(), 50);
    }
  });
  stream.on('end', () => res.end());
}

async function serveFile(root, path, req, res, cutAfter) {
  let file = fileFor(root, path);
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not served');
    return;
  }
  try {
    let stat = await fs.stat(file);
    if (stat.isDirectory()) {
      file = join(file, 'index.html');
      stat = await fs.stat(file);
    }
    const type = MIME[extname(file)] ?? 'application/octet-stream';
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : Math.max(0, stat.size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), stat.size - 1) : stat.size - 1;
      if (start > end || start >= stat.size) {
        res.writeHead(416, { 'Content-Range': `bytes */${stat.size}` }).end();
        return;
      }
      res.writeHead(206, {
        'Content-Type': type,
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${stat.size}`,
        'Accept-Ranges': 'bytes',
      });
      sendBody(createReadStream(file, { start, end }), res, cutAfter);
      return;
    }
    if (MODEL_FILES.has(extname(file)) && cutAfter === undefined && revalidated(stat, req, res)) return;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') res.end();
    else sendBody(createReadStream(file), res, cutAfter);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
  }
}

/**
 * Sets a model file's validators (an ETag from size and mtime, like nginx's, and Last-Modified) and
 * `Cache-Control: no-cache`; answers 304 and resolves true when the request's validator matches.
 */
function revalidated(stat, req, res) {
  const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', stat.mtime.toUTCString());
  const inm = req.headers['if-none-match'];
  const ims = Date.parse(req.headers['if-modified-since'] ?? '');
  const same = inm !== undefined ? inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag) : Math.floor(stat.mtimeMs / 1000) * 1000 <= ims;
  if (!same) return false;
  res.writeHead(304).end();
  return true;
}

/** Sends a file's headers and the first half of its body, then holds until the client closes. */
async function serveHeld(root, path, res) {
  const file = fileFor(root, path);
  const bytes = file ? await fs.readFile(file).catch(() => undefined) : undefined;
  if (!bytes) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
  res.write(bytes.subarray(0, bytes.length >> 1));
  res.on('close', () => res.destroy());
}

/**
 * Serves a file with a Content-Length off by `delta`. Node does not check the length unless
 * `res.strictContentLength` is set, so the body goes out as is; closing the socket after it ends
 * turns a longer declared length into a truncated body on the client instead of a hang.
 */
async function serveLyingLength(root, path, delta, res) {
  const file = fileFor(root, path);
  const stat = file ? await fs.stat(file).catch(() => undefined) : undefined;
  if (!stat?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
    return;
  }
  res.writeHead(200, {
    'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
    'Content-Length': Math.max(0, stat.size + delta),
    Connection: 'close',
  });
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res, { end: false });
  stream.on('end', () => res.socket?.end());
}
