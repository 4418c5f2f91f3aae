// The demo's model preparation (scripts/demo-models.mjs, run by `npm run demo`), in Node: the first
// start makes the q8 OCR model and the decoders, a second start finds them current and writes
// nothing, and a model whose inputs changed is made again alone. Here (not in vitest) because it
// quantizes with the built dist/quantize.js, as the demo does.
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { MODELS, expect, repoFile, test } from './fixtures';
import { prepareDemoModels } from '../../scripts/demo-models.mjs';
import { SMALL_DECODER } from '../../src/graph/decoder-builder';
import { quantizeDynamic } from '../../src/graph/quantize';

const DIR = `.cache/demo-models-test-${process.pid}/`;
const file = (name: string) => new URL(`../../${DIR}${name}`, import.meta.url);
const FILES = ['rec-q8.onnx', 'decoder-fp32.onnx', 'decoder-q8.onnx', 'models.json'];
const mtimes = () => Object.fromEntries(FILES.map((f) => [f, statSync(file(f)).mtimeMs]));

test.afterAll(() => rmSync(new URL(`../../${DIR}`, import.meta.url), { recursive: true, force: true }));

test('the demo prepares its models once: webq8 quantize output, a second start writes nothing, a stale model is made again alone', async () => {
  test.setTimeout(120_000);
  const lines: string[] = [];
  const first = await prepareDemoModels({ dir: DIR, log: (l) => lines.push(l) });
  // rec-q8 is what `webq8 quantize` (the library's quantizeDynamic, defaults) makes of the fp32 model.
  expect(new Uint8Array(readFileSync(file('rec-q8.onnx')))).toEqual(quantizeDynamic(repoFile(MODELS.rec)).bytes);
  expect(first.rec.url).toBe(`/${DIR}rec-q8.onnx`);
  // PP-OCRv4 rec: 9 MatMuls with constant weights become int8, the 4 activation × activation ones stay float.
  expect(first.rec.report.quantized).toHaveLength(9);
  expect(first.rec.report.skipped.map((s) => s.reason)).toEqual(Array(4).fill('the weight is not a constant'));
  expect(first.decoder.config).toEqual(SMALL_DECODER);
  expect(first.decoder.q8.report.quantized.length).toBeGreaterThan(0);
  expect(lines.filter((l) => l.startsWith('webq8 quantize '))).toHaveLength(2);
  expect(JSON.parse(readFileSync(file('models.json'), 'utf8'))).toEqual(first);

  const before = mtimes();
  const again: string[] = [];
  expect(await prepareDemoModels({ dir: DIR, log: (l) => again.push(l) })).toEqual(first);
  expect(again).toEqual([]);
  expect(mtimes()).toEqual(before);

  // The decoder's q8 made from other inputs (its key no longer matches): only it is made again.
  writeFileSync(file('models.json'), JSON.stringify({ ...first, decoder: { ...first.decoder, q8: { ...first.decoder.q8, key: 'stale' } } }));
  const stale: string[] = [];
  expect(await prepareDemoModels({ dir: DIR, log: (l) => stale.push(l) })).toEqual(first);
  expect(stale.filter((l) => !l.startsWith('  '))).toEqual([`webq8 quantize ${DIR}decoder-fp32.onnx → ${DIR}decoder-q8.onnx`]);
  const after = mtimes();
  expect(after['decoder-q8.onnx']).toBeGreaterThan(before['decoder-q8.onnx']!);
  expect([after['rec-q8.onnx'], after['decoder-fp32.onnx']]).toEqual([before['rec-q8.onnx'], before['decoder-fp32.onnx']]);
});
