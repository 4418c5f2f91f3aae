// The quantizer CLI (bin/cli.mjs, the logic behind bin/webq8.mjs) run against the TypeScript
// sources: bad input is refused with one line and a non-zero exit, and the output file appears
// whole or not at all.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { main, USAGE } from '../../bin/cli.mjs';
import { quantizeDynamic, quantizeWeightsOnly } from '../../src/graph/quantize';
import { decodeModel } from '../../src/graph/onnx-model';
import { ModelFormatError } from '../../src/errors';
import { mlp } from './graph/models';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'webq8-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = (name: string) => join(dir, `${n++}-${name}`);

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { load: async () => ({ quantizeDynamic, quantizeWeightsOnly }), out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A ModelProto with an opset and a graph that has inputs but no nodes. */
function nodeless(): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: onnx.GraphProto.create({ name: 'empty', input: [onnx.ValueInfoProto.create({ name: 'x' })] }),
  });
  return onnx.ModelProto.encode(model).finish();
}

describe('webq8 quantize (CLI)', () => {
  it('quantizes a model into the output file and reports what it did', async () => {
    const input = path('in.onnx');
    const output = path('out.onnx');
    writeFileSync(input, mlp(8, 4));
    const r = await run('quantize', input, output);
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out[0]).toMatch(/^quantized 1 MatMul\(s\); opset 13 → 13/);
    const ops = decodeModel(readFileSync(output)).graph!.node!.map((x) => x.opType);
    expect(ops).toContain('MatMulInteger');
  });

  it('--weights-only writes weight-only QDQ (DequantizeLinear before each MatMul, no MatMulInteger)', async () => {
    const input = path('in-w.onnx');
    const output = path('out-w.onnx');
    writeFileSync(input, mlp(8, 4));
    const r = await run('quantize', input, output, '--weights-only');
    expect(r).toMatchObject({ code: 0, err: [] });
    const ops = decodeModel(readFileSync(output)).graph!.node!.map((x) => x.opType);
    expect(ops).toEqual(['Relu', 'DequantizeLinear', 'MatMul', 'Tanh']);
  });

  for (const [what, bytes, reason] of [
    ['an empty file', new Uint8Array(0), /only 0 bytes/],
    ['a JSON file', new TextEncoder().encode('{"not": "onnx"}'), /like HTML or JSON/],
    ['a truncated model', mlp(8, 4).subarray(0, 40), /runs past the end/],
    ['a model whose graph has no nodes', nodeless(), /no nodes, so there is nothing to quantize/],
  ] as const) {
    it(`refuses ${what}: one line, exit 1, no output file`, async () => {
      const input = path('in.onnx');
      const output = path('out.onnx');
      writeFileSync(input, bytes);
      const r = await run('quantize', input, output);
      expect(r.code).toBe(1);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^webq8: ModelFormatError: /);
      expect(r.err[0]).toMatch(reason);
      expect(r.err[0]).toContain(input);
      expect(r.err[0]).not.toMatch(/\n|\bat .*:\d+:\d+/); // no stack frames
      expect(existsSync(output)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('prints the stack with --debug', async () => {
    const input = path('in.onnx');
    writeFileSync(input, new Uint8Array(0));
    const r = await run('quantize', input, path('out.onnx'), '--debug');
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^ModelFormatError: .*only 0 bytes[^]*\n\s+at /);
  });

  it('leaves an existing output untouched when the input is bad, and no temporary file behind', async () => {
    const input = path('in.onnx');
    const output = path('out.onnx');
    writeFileSync(input, nodeless());
    writeFileSync(output, 'previous model');
    expect((await run('quantize', input, output)).code).toBe(1);
    expect(readFileSync(output, 'utf8')).toBe('previous model');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('fails in one line when the output cannot be written, removing its temporary file', async () => {
    const input = path('in.onnx');
    writeFileSync(input, mlp(8, 4));
    const output = path('taken');
    mkdirSync(output); // rename onto a directory fails after the temporary file was written
    const r = await run('quantize', input, output);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([expect.stringMatching(/^webq8: Error: E(ISDIR|EXIST|NOTEMPTY|PERM)/)]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const missing = await run('quantize', path('nope.onnx'), path('out.onnx'));
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([expect.stringMatching(/^webq8: Error: ENOENT: no such file or directory/)]);
  });

  it('answers usage errors with exit 2 and --help with exit 0', async () => {
    expect(await run('quantize', 'only-one.onnx')).toMatchObject({ code: 2, err: [USAGE] });
    expect(await run('frobnicate', 'a', 'b')).toMatchObject({ code: 2 });
    const bad = await run('quantize', 'a', 'b', '--nope');
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^webq8: unknown option --nope/);
    expect(await run('--help')).toMatchObject({ code: 0, out: [USAGE] });
  });
});

describe('quantizeDynamic input checks', () => {
  it('throws ModelFormatError with code MODEL_FORMAT for a graph without nodes', () => {
    const thrown = (() => {
      try {
        quantizeDynamic(nodeless());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ModelFormatError);
    expect((thrown as ModelFormatError).code).toBe('MODEL_FORMAT');
    expect((thrown as Error).message).toMatch(/^model has a graph with no nodes/);
    expect(() => quantizeDynamic(nodeless(), { source: 'x.onnx' })).toThrow(/^x\.onnx has a graph with no nodes/);
  });
});
