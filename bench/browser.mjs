// Shared by the benchmarks: serve the repo on localhost and open a headless Chromium page on it
// (WebGPU enabled; SwiftShader where there is no GPU). The same flags as the browser tests.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { chromium } from '@playwright/test';
import { startServer } from '../scripts/server.mjs';

export { startServer };

const ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
// Extra Chromium flags, for diagnosis only (users cannot set flags), e.g.
// BENCH_CHROMIUM_ARGS='--js-flags=--no-liftoff' to compile all WebAssembly with TurboFan up front.
const EXTRA_ARGS = (process.env.BENCH_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean);

function chromiumPath() {
  for (const c of [process.env.CHROMIUM_PATH, '/usr/bin/chromium']) if (c && existsSync(c)) return c;
  return undefined; // Playwright's own Chromium, if installed
}

/**
 * Starts the server and a browser page at `path` (`args`: more Chromium flags). Returns `{ page, url, close }`.
 * `userDataDir` keeps the browser's profile (IndexedDB included) in that folder, so a second browser
 * on it is a returning visitor; `server` reuses a server from `startServer` (the same origin), left running.
 */
export async function openBenchPage(path = '/test/browser/blank.html', { args = [], userDataDir, server: given } = {}) {
  const server = given ?? (await startServer({ quiet: true }));
  const options = { executablePath: chromiumPath(), args: [...ARGS, ...EXTRA_ARGS, ...args] };
  const browser = userDataDir ? await chromium.launchPersistentContext(userDataDir, options) : await chromium.launch(options);
  const page = userDataDir ? (browser.pages()[0] ?? (await browser.newPage())) : await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[page] ${m.text()}`);
  });
  await page.goto(server.url + path);
  return {
    page,
    url: server.url,
    close: async () => {
      await browser.close();
      if (!given) await server.close();
    },
  };
}

/** Formats rows (arrays of cells) as an aligned text table with a header row. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

let builder;
/**
 * webq8's ONNX builder (src/graph/onnx-builder.ts) in plain Node: transpiled once per process into
 * .cache/bench/ (git-ignored) and imported. Benches use it to make one-node and synthetic models.
 */
export function importOnnxBuilder() {
  if (!builder) {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true };
    mkdirSync(`${root}.cache/bench`, { recursive: true });
    // The builder and the dtype table it imports, with the import rewritten to the transpiled file.
    for (const [from, to] of [
      ['src/dtypes.ts', 'dtypes.mjs'],
      ['src/graph/onnx-builder.ts', 'onnx-builder.mjs'],
    ]) {
      const js = ts.transpileModule(readFileSync(`${root}${from}`, 'utf8'), { compilerOptions: options }).outputText;
      writeFileSync(`${root}.cache/bench/${to}`, js.replace(/from '\.\.\/dtypes'/g, "from './dtypes.mjs'"));
    }
    builder = import(pathToFileURL(`${root}.cache/bench/onnx-builder.mjs`).href);
  }
  return builder;
}

/**
 * A q8 MLP made by webq8's quantizer (from dist/): x[n,256] → MatMul 256×256 → Tanh → MatMul
 * 256×256 → y, seeded weights. As a plain array (it crosses into a page as JSON).
 */
export async function q8Mlp256() {
  const { quantizeDynamic } = await import('../dist/quantize.js');
  const { buildModel } = await importOnnxBuilder();
  const seeded = (n, s) => Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.1);
  const fp32 = buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['n', 256] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', 256] }],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w0'], outputs: ['h'] },
      { op: 'Tanh', inputs: ['h'], outputs: ['t'] },
      { op: 'MatMul', inputs: ['t', 'w1'], outputs: ['y'] },
    ],
    initializers: { w0: { type: 'float32', dims: [256, 256], data: seeded(65536, 1) }, w1: { type: 'float32', dims: [256, 256], data: seeded(65536, 2) } },
  });
  return [...quantizeDynamic(fp32).bytes];
}
