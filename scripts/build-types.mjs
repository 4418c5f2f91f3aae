#!/usr/bin/env node
// Builds the package's declarations: one self-contained .d.ts per public entry point (dist/index.d.ts,
// dist/advanced.d.ts, dist/kernels.d.ts, dist/quantize.d.ts), holding only what those entries reach, with `@internal`
// members stripped (tsconfig.build.json). Per-file tsc output would ship every internal module's
// declarations, some of which import devDependencies (onnx-proto, comlink) that consumers do not
// have: with `skipLibCheck: false` their compile failed. Files that use WebGPU's types (GPUDevice,
// GPUBuffer) reference @webgpu/types, a dependency of the package, so they resolve for consumers.
import { readFileSync, writeFileSync } from 'node:fs';
import dtsBundleGenerator from 'dts-bundle-generator';
import ts from 'typescript';

const ENTRIES = [
  ['src/index.ts', 'dist/index.d.ts'],
  ['src/kernels/index.ts', 'dist/kernels.d.ts'],
  ['src/graph/quantize.ts', 'dist/quantize.d.ts'],
];

const texts = dtsBundleGenerator.generateDtsBundle(
  // The consumer-side check is the strict type-check of test/consumers (skipLibCheck: false).
  ENTRIES.map(([filePath]) => ({ filePath, noCheck: true, output: { noBanner: true, exportReferencedTypes: false } })),
  { preferredConfigPath: 'tsconfig.build.json' },
);

ENTRIES.forEach(([, outFile], i) => {
  let text = texts[i];
  const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  if (/\bGPU[A-Z]\w*/.test(code)) text = `/// <reference types="@webgpu/types" />\n${text}`;
  writeFileSync(outFile, text);
  console.log(`${outFile}  ${(text.length / 1024).toFixed(1)} kB`);
});

// `webq8/advanced` takes the main entry's classes (Model, Runtime): a bundle of its own would declare
// copies of them, and TypeScript tells two declarations of a class with private members apart, so a
// model from 'webq8' would not type-check as one of 'webq8/advanced'. Its source imports every type
// from src/index.ts; its declarations import them from the package itself ('webq8').
const advanced = ts
  .transpileDeclaration(readFileSync('src/advanced.ts', 'utf8'), {
    fileName: 'advanced.ts',
    compilerOptions: { stripInternal: true, removeComments: false },
  })
  .outputText.replaceAll("from './index'", "from 'webq8'");
if (/from '\.\.?\//.test(advanced)) throw new Error('src/advanced.ts may import types only from ./index (see scripts/build-types.mjs)');
writeFileSync('dist/advanced.d.ts', advanced);
console.log(`dist/advanced.d.ts  ${(advanced.length / 1024).toFixed(1)} kB`);

// `webq8/worker` is the Worker script itself (for `createRuntime({ workerUrl })` setups): it exports nothing.
writeFileSync('dist/worker.d.ts', "/** webq8's Worker script: start it with `new Worker(url, { type: 'module' })`; it exports nothing. */\nexport {};\n");
