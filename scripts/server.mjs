// A small static file server for the demo, the browser tests and the benchmarks.
// It serves the repository root from http://localhost (a secure context, so navigator.gpu exists),
// with correct MIME types for .mjs/.wasm/.onnx, HTTP Range, and a few test-only routes:
//   GET  /__status/<code>         -> an empty response with that status (e.g. a 404 model URL)
//   GET  /__requests              -> JSON {path: count} of the requests served so far
//   POST /__requests/reset        -> clears the counts
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

async function serveFile(root, path, req, res) {
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
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
  }
}
