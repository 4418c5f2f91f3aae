// The dev/test static server (scripts/serve.mjs → scripts/server.mjs) as a real process: seeded
// random paths, methods and headers never kill it or go unanswered, and it never serves dotfiles,
// .git/, or collector journals, nor hands CORS headers to pages that are not on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prng } from './telemetry/helpers.js';

const SERVE = fileURLToPath(new URL('../../scripts/serve.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'webq8-serve-'));
let proc: ChildProcess;
let url = '';

beforeAll(async () => {
  const files: Record<string, string> = {
    '.git/HEAD': 'ref: refs/heads/main\n',
    '.git/config': '[core]\n',
    '.env': 'SECRET=1\n',
    '.collector/metrics.jsonl': '{}\n',
    'pub/metrics.jsonl': '{}\n',
    'pub/metrics.jsonl.snapshot': '{}\n',
    'pub/.hidden/x.txt': 'x',
    'pub/a.txt': 'hello world',
    'package.json': '{}',
    '.cache/bundle/cache.js': 'export {};',
    '.cache/bundle/.git/HEAD': 'ref: x',
    '.cache/.env': 'SECRET=2',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  proc = spawn(process.execPath, [SERVE, '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /at (http:\/\/localhost:\d+)\//.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.stderr!.on('data', (c: Buffer) => (out += c));
    proc.once('exit', (code) => reject(new Error(`serve.mjs exited with ${code}: ${out}`)));
  });
});
afterAll(() => {
  proc?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const SECRET_PATHS = [
  '/.git/HEAD',
  '/.git/config',
  '/.env',
  '/.collector/metrics.jsonl',
  '/pub/metrics.jsonl',
  '/pub/metrics.jsonl.snapshot',
  '/pub/.hidden/x.txt',
  '/pub/%2e%2e/.env',
  '/%2egit/HEAD',
  '/pub/../.git/HEAD',
  '/__cut/.git/HEAD',
  '/__lie-length/.env',
  '/__hold/.env/.env',
  '/__hold/HEAD/.git/HEAD',
  '/.cache/.env',
  '/.cache/bundle/.git/HEAD',
  '/pub/.cache/x',
];

it('never serves dotfiles, .git/ or collector journals, and gives CORS headers only to local pages', async () => {
  for (const path of SECRET_PATHS) {
    const res = await fetch(`${url}${path}`, { headers: { origin: 'https://evil.example' } });
    expect(res.status, path).toBe(404);
    expect(res.headers.get('access-control-allow-origin'), path).toBeNull();
    expect(await res.text()).not.toMatch(/ref:|SECRET|core/);
  }
  const local = await fetch(`${url}/pub/a.txt`, { headers: { origin: 'http://localhost:5173' } });
  expect(local.status).toBe(200);
  expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  const foreign = await fetch(`${url}/pub/a.txt`, { headers: { origin: 'https://evil.example' } });
  expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  expect((await fetch(`${url}/pub/a.txt`, { headers: { range: 'bytes=6-' } })).status).toBe(206);
  // The one dot-directory served: bundles that browser specs build into the git-ignored .cache/.
  expect((await fetch(`${url}/.cache/bundle/cache.js`)).status).toBe(200);
});

it('answers 2000 seeded random requests without dying: malformed escapes, bad status codes, odd ranges', async () => {
  const rand = prng(77);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const randomPath = () => {
    const parts = Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
      pick([
        '%',
        '%zz',
        '%c3%28',
        '%00',
        '..',
        '.',
        '%2e%2e',
        'pub',
        'a.txt',
        '.git',
        '__status',
        '__cut',
        '__lie-length',
        '__requests',
        '__model',
        '__model-stats',
        String(Math.floor(rand() * 1e6) - 1000),
        'x'.repeat(Math.floor(rand() * 300)),
      ]),
    );
    const query = pick(['', '?after=abc', '?after=-5&times=1e9', '?delta=NaN', '?delta=-999999', '?delta=1e300', '?x=%ff']);
    return `/${parts.join('/')}${query}`;
  };
  const statuses = new Map<number, number>();
  for (let i = 0; i < 2000; i++) {
    const path =
      i % 10 === 0 ? pick(['/%', '/__status/99', '/__status/abc', '/__status/1000', '/__status/-1', '/__lie-length/pub/a.txt?delta=abc']) : randomPath();
    const method = pick(['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']);
    const headers: Record<string, string> = {
      range: pick(['', 'bytes=0-', 'bytes=-0', 'bytes=5-2', 'bytes=99999999999999999999-', 'bytes=abc', 'bytes=0-0,1-1']),
    };
    if (!headers.range) delete headers.range;
    if (rand() < 0.3)
      headers['x-model'] = pick(['{', '[]', 'null', '{"headers":5}', '{"headers":{"a b":"c"}}', '{"expose":"ETag"}', '{"headers":{"X":"\\u0000"}}', '{}']);
    if (rand() < 0.3) headers['if-none-match'] = pick(['*', '"x"', 'W/"x", "y"', '']);
    let status: number;
    try {
      const res = await fetch(`${url}${path}`, { method, headers, signal: AbortSignal.timeout(10_000) });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined); // /__cut/ and /__lie-length/ break bodies on purpose
    } catch (err) {
      throw new Error(`${method} ${path} got no answer: ${(err as Error).message} (${String((err as Error).cause)})`, { cause: err });
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (path === '/%' || path.startsWith('/__status/') || path.includes('delta=abc')) expect(status, path).toBeLessThan(500);
  }
  expect(proc.exitCode).toBeNull();
  expect([...statuses.keys()].every((s) => s >= 200 && s < 600)).toBe(true);
  expect((await fetch(`${url}/package.json`)).status).toBe(200);
});

it('/__model/: a test sets the bytes and headers at a URL; conditionals get 304; requests and body bytes are counted', async () => {
  const path = `${url}/__model/m.onnx`;
  const put = (body: string, config: object | string) =>
    fetch(path, { method: 'PUT', body, headers: { 'x-model': typeof config === 'string' ? config : JSON.stringify(config) } });
  expect((await put('v1', { headers: { 'Cache-Control': 'no-cache' } })).status).toBe(204);
  const first = await fetch(path);
  expect([first.status, first.headers.get('cache-control'), await first.text()]).toEqual([200, 'no-cache', 'v1']);
  const etag = first.headers.get('etag')!;
  expect((await fetch(path, { headers: { 'if-none-match': etag } })).status).toBe(304);
  expect((await put('v2', {})).status).toBe(204);
  const second = await fetch(path, { headers: { 'if-none-match': etag } });
  expect([second.status, await second.text(), second.headers.get('etag') === etag]).toEqual([200, 'v2', false]);
  expect(await (await fetch(`${url}/__model-stats/m.onnx`)).json()).toEqual({ requests: 3, conditional: 2, notModified: 1, bodyBytes: 4 });
  for (const bad of ['{', '[]', '{"headers":{"X":"\\u0001"}}', '{"expose":"ETag"}', '{"headers":{"bad name":"x"}}'])
    expect((await put('x', bad)).status, bad).toBe(400);
  expect((await fetch(`${url}/__model/none.onnx`)).status).toBe(404);
});

it('/__hold/<name>/: other files are served whole; <name> gets its headers and half its body, then is held until the client aborts', async () => {
  const whole = await fetch(`${url}/__hold/a.txt/package.json`);
  expect([whole.status, await whole.text()]).toEqual([200, '{}']);
  const abort = new AbortController();
  const held = await fetch(`${url}/__hold/a.txt/pub/a.txt`, { signal: abort.signal });
  expect([held.status, held.headers.get('content-length')]).toEqual([200, '11']);
  const reader = held.body!.getReader();
  let got = '';
  while (got.length < 5) got += new TextDecoder().decode((await reader.read()).value);
  expect(got).toBe('hello');
  const rest = reader.read();
  abort.abort();
  await expect(rest).rejects.toThrow();
  expect((await fetch(`${url}/__hold/a.txt/pub/none.txt`)).status).toBe(404);
  expect(proc.exitCode).toBeNull();
});
