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
//   GET  /__hang/<anything>         -> sends 200 headers and then nothing until the client gives up
//                                    (a stalled server, for the load-timeout tests)
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

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
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    counts.set(path, (counts.get(path) ?? 0) + 1);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (opts.isolate) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (path.startsWith('/__status/')) {
      res.writeHead(Number(path.slice('/__status/'.length)) || 500).end();
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
    if (path.startsWith('/__cut/')) {
      const key = url.pathname + url.search;
      const served = cutsServed.get(key) ?? 0;
      cutsServed.set(key, served + 1);
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
    if (path.startsWith('/__lie-length/')) {
      await serveLyingLength(root, path.slice('/__lie-length'.length), Number(url.searchParams.get('delta') ?? 1000), res);
      return;
    }
    await serveFile(root, path, req, res);
  });
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

/** Pipes `stream` to `res`; with `cutAfter`, destroys the socket after that many bytes instead of ending. */
function sendBody(stream, res, cutAfter) {
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
  let file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
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
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') res.end();
    else sendBody(createReadStream(file), res, cutAfter);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
  }
}

/**
 * Serves a file with a Content-Length off by `delta`. Node does not check the length unless
 * `res.strictContentLength` is set, so the body goes out as is; closing the socket after it ends
 * turns a longer declared length into a truncated body on the client instead of a hang.
 */
async function serveLyingLength(root, path, delta, res) {
  const file = normalize(join(root, path));
  const stat = file.startsWith(root + sep) ? await fs.stat(file).catch(() => undefined) : undefined;
  if (!stat?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
    return;
  }
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': stat.size + delta, Connection: 'close' });
  const stream = createReadStream(file);
  stream.pipe(res, { end: false });
  stream.on('end', () => res.socket?.end());
}
