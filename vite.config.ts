import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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

// Library build: three ES entry points (the main-thread API, the worker, and the low-level kernels
// subpath). The worker is a plain entry, not a Vite `?worker` import, because lib mode would inline
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
    sourcemap: true,
    minify: false,
    lib: {
      entry: {
        index: resolve(here, 'src/index.ts'),
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
  plugins: [copyOrtAssets()],
});
