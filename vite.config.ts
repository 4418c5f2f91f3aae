import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

// The ORT files the worker loads at run time (the `onnxruntime-web/webgpu` bundle inlines the
// .mjs glue but fetches the .wasm from env.wasm.wasmPaths). We ship them in dist/ort/ so the
// worker finds them relative to itself and consumers need no wasmPaths configuration.
const ORT_ASSETS = ['ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.asyncify.mjs'];

function copyOrtAssets(): Plugin {
  return {
    name: 'webq8-copy-ort-assets',
    apply: 'build',
    writeBundle() {
      const out = resolve(here, 'dist/ort');
      mkdirSync(out, { recursive: true });
      for (const f of ORT_ASSETS) copyFileSync(resolve(here, 'node_modules/onnxruntime-web/dist', f), resolve(out, f));
    },
  };
}

// The files that dist/ refers to with `new URL('./file', import.meta.url)`, relative to dist/. The
// source writes them as `new URL(/* @vite-ignore */ './file', import.meta.url)` so that this build
// leaves them alone (it would otherwise try to resolve and inline them); bundlerLiterals() turns
// them back into the plain literal, the one form the consumer's bundler (Vite build and dev
// server, webpack) finds, copies to its output and rewrites: bundlers see a Worker or an asset inside
// a package only through `new Worker(new URL('./worker.js', import.meta.url), …)` and
// `new URL('./file', import.meta.url)` with a literal path (a URL built from a variable is not
// emitted by `vite build`, and a folder URL is not copied). test/consumers checks it end to end.
const LITERAL_URLS = ['worker.js', ...ORT_ASSETS.map((f) => `ort/${f}`)];
const MARKED_URL = /new URL\(\s*\/\* @vite-ignore \*\/\s*(["'])\.\/([^"']+)\1\s*,\s*import\.meta\.url\s*\)/g;
// ORT's bundle names itself for webpack (which hard-codes import.meta.url as a file: URL at build
// time): `new URL("ort.webgpu.min.mjs", import.meta.url)`. That file is not in dist/, so webpack
// would fail to resolve it, and Vite warns. It only feeds ORT's proxy-worker and default-path
// logic, which webq8 does not use (wasmPaths is always set): use the worker's own URL instead.
const ORT_SELF_URL = 'new URL("ort.webgpu.min.mjs", import.meta.url).href';

function bundlerLiterals(): Plugin {
  const seen = new Map<string, number>();
  return {
    name: 'webq8-bundler-literals',
    apply: 'build',
    renderChunk(code, chunk) {
      let out = code.replace(MARKED_URL, (whole, _q: string, target: string) => {
        if (!LITERAL_URLS.includes(target)) return whole;
        seen.set(target, (seen.get(target) ?? 0) + 1);
        const rel = posix.relative(posix.dirname(chunk.fileName), target);
        return `new URL(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)}, import.meta.url)`;
      });
      if (out.includes(ORT_SELF_URL)) {
        seen.set(ORT_SELF_URL, (seen.get(ORT_SELF_URL) ?? 0) + 1);
        out = out.replace(ORT_SELF_URL, 'self.location.href');
      }
      return out === code ? null : { code: out, map: null };
    },
    generateBundle() {
      // Each literal exactly once: a refactor that hides one (or ORT renaming its bundle) must fail the build.
      const wrong = [...LITERAL_URLS, ORT_SELF_URL].filter((t) => seen.get(t) !== 1);
      if (wrong.length)
        this.error(`webq8-bundler-literals: expected each of these once in the output, found ${wrong.map((t) => `${t} ×${seen.get(t) ?? 0}`).join(', ')}`);
    },
  };
}

// Library build: ES entry points (the main-thread API, its advanced tools, the worker, the low-level kernels,
// quantize). The worker is a plain entry, not a Vite `?worker` import, because lib mode would inline
// it as a data URL and the worker must resolve ORT's .wasm relative to its own URL.
export default defineConfig({
  resolve: {
    // Use ORT's non-bundle build: the bundle references its .wasm with `new URL(..., import.meta.url)`,
    // which Vite's lib mode would inline as a 26 MB base64 string. This build loads the glue .mjs
    // and .wasm from env.wasm.wasmPaths (dist/ort/) at run time.
    conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'import', 'default'],
  },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps in the package: dist/ is not minified, so stack traces read as they are.
    sourcemap: false,
    minify: false,
    lib: {
      entry: {
        index: resolve(here, 'src/index.ts'),
        advanced: resolve(here, 'src/advanced.ts'),
        worker: resolve(here, 'src/worker/worker.ts'),
        kernels: resolve(here, 'src/kernels/index.ts'),
        quantize: resolve(here, 'src/graph/quantize.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      output: { chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
  plugins: [copyOrtAssets(), bundlerLiterals()],
});
