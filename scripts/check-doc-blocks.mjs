#!/usr/bin/env node
// Type-checks every ```ts block of README.md and docs/*.md against the public API, and checks that
// every relative link in them points at a file (and heading) that exists. `npm run typecheck` runs it.
//
// Each block becomes one module in .cache/doc-blocks/ (git-ignored), compiled by tsc with
// `import … from 'webq8'` (and the `webq8/kernels`, `webq8/quantize` subpaths) mapped to src/, so a
// block that uses a name the package does not export, or an option that does not exist, fails here.
// Blocks may use a few names without declaring them, as snippets do (`runtime`, `feeds`, …: the
// prelude below). A block that is deliberately a fragment is fenced as ```ts no-check and skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.cache/doc-blocks');

/** The Markdown files whose blocks and links are checked (paths relative to the repository). */
function markdownFiles() {
  const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')) : [];
  return ['README.md', 'ARCHITECTURE.md', ...docs.sort().map((f) => `docs/${f}`)].filter((f) => existsSync(join(root, f)));
}

/** Names a snippet may use without declaring them. */
const PRELUDE = `import type { Model, Runtime, TensorMap } from 'webq8';
declare global {
  const runtime: Runtime;
  const model: Model;
  const feeds: TensorMap;
  const url: string;
  const data: Float32Array;
  const promptIds: number[];
  const eosId: number;
  const controller: AbortController;
  const output: number[];
  const addBytes: Uint8Array;
  const mulBytes: Uint8Array;
}
export {};
`;

/** The ```ts blocks of one Markdown file: their first line (1-based, after the fence) and text. */
function tsBlocks(text) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)(\s+no-check)?\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (!open[3])
      blocks.push({
        line: start + 1,
        code: lines
          .slice(start, end)
          .map((l) => l.slice(indent))
          .join('\n'),
      });
    i = end;
  }
  return blocks;
}

/** GitHub's anchor of a heading. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');

/** Relative links whose file or heading does not exist, as `file:line: message`. */
function deadLinks(files) {
  const anchors = new Map(files.map((f) => [f, new Set([...readFileSync(join(root, f), 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1])))]));
  const problems = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    lines.forEach((text, i) => {
      for (const [, target, anchor] of text.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const path = target ? relative(root, resolve(root, dirname(file), target)) : file;
        if (!existsSync(join(root, path))) problems.push(`${file}:${i + 1}: link to a missing file: ${target}`);
        else if (anchor && anchors.has(path) && !anchors.get(path).has(anchor))
          problems.push(`${file}:${i + 1}: link to a missing heading: ${target}#${anchor}`);
      }
    });
  }
  return problems;
}

function writeProgram(files) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const origin = new Map();
  for (const file of files) {
    tsBlocks(readFileSync(join(root, file), 'utf8')).forEach((block, n) => {
      const name = `${file.replace(/[/.]/g, '_')}_${n + 1}.ts`;
      writeFileSync(join(out, name), `${block.code}\nexport {};\n`);
      origin.set(name, { file, line: block.line });
    });
  }
  writeFileSync(join(out, 'prelude.d.ts'), PRELUDE);
  const src = (p) => relative(out, join(root, p));
  const tsconfig = {
    extends: src('tsconfig.json'),
    compilerOptions: {
      noEmit: true,
      types: ['@webgpu/types', 'vite/client'],
      noUnusedLocals: false,
      paths: {
        webq8: [src('src/index.ts')],
        'webq8/advanced': [src('src/advanced.ts')],
        'webq8/kernels': [src('src/kernels/index.ts')],
        'webq8/quantize': [src('src/graph/quantize.ts')],
      },
    },
    include: ['*.ts'],
    exclude: [],
  };
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  return origin;
}

function main() {
  const files = markdownFiles();
  const problems = deadLinks(files);
  const origin = writeProgram(files);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(out, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8' });
  if (run.error) throw run.error;
  for (const line of `${run.stdout}${run.stderr}`.split('\n').filter(Boolean)) {
    // `.cache/doc-blocks/README_md_1.ts(3,7): error TS…` → the Markdown file and line of the block.
    const m = /([\w-]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
    const at = m && origin.get(m[1]);
    problems.push(at ? `${at.file}:${at.line + Number(m[2]) - 1}:${m[3]}: ${m[4]}` : line);
  }
  if (run.status !== 0 && problems.length === 0) problems.push(`tsc exited with ${run.status}`);
  if (problems.length > 0) {
    console.error(`Documentation check failed (${problems.length}):\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log(`Documentation: ${origin.size} TypeScript blocks type-check, links resolve (${files.length} files).`);
}

main();
