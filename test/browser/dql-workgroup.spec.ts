// DynamicQuantizeLinear with the real-GPU workgroup (src/kernels/dynamic-quantize.ts): on a real
// GPU the one-workgroup passes (a decode row; one slice per sequence of a batched decode step) run
// 256 threads, on SwiftShader 64, so the CI adapter would never run the GPU shape. Here it is forced
// through the functions' workgroup argument: the whole tensor in one 256-thread workgroup (sizes 1
// to 100 003, edge cases, ties), and per-slice quantization with 256 threads per slice, each bit-exact
// against the CPU reference and onnxruntime-web's WASM DynamicQuantizeLinear. The page and its
// context belong to the worker (kernel-fixture.ts). Run `npm run build` first.
import { dqlInputs } from '../unit/kernels/int8-cases';
import { dqlOracle, dqlOracleCovers } from '../unit/kernels/ort-oracle';
import { expect, oracle, test } from './kernel-fixture';

const inputs = dqlInputs(16, 20261207);
/** Slices of equal length taken from the inputs (each slice is also an input ORT judged alone): 2 × 1000 and 2 × 17 elements. */
const sliceSets = [1000, 17].map((n) => inputs.flatMap(([, x], i) => (x.length === n ? [i] : [])).slice(0, 2));

test('the 256-thread one-workgroup passes are bit-exact with the reference and onnxruntime, whole and per slice', async ({ kernelPage: page }) => {
  test.setTimeout(240_000); // the oracle's first run in a worker, then 24 dispatches; minutes on a loaded machine
  const run = await oracle(page, 'dql-wg256', dqlOracle(inputs));
  const covered = inputs.filter(([, x]) => dqlOracleCovers(x)).length;
  expect(run.cases).toBe(covered);
  expect(sliceSets.map((s) => s.length)).toEqual([2, 2]);
  const r = await page.evaluate(
    async ({ inputs, sliceSets }) => {
      const { k, ctx } = window.__gpuBase;
      const ort = window.__ort.results['dql-wg256']!;
      const failures: string[] = [];
      const compared = { ref: 0, ort: 0 };
      const bytes = async (b: GPUBuffer, n: number) => {
        const got = [...new Uint8Array(await ctx.readback(b, Math.ceil(n / 4) * 4)).subarray(0, n)];
        ctx.buffers.release(b);
        return got;
      };
      const floats = async (b: GPUBuffer, n: number) => {
        const got = [...new Float32Array(await ctx.readback(b, n * 4))];
        ctx.buffers.release(b);
        return got;
      };
      /** One quantized tensor (y, scale, zero point) against the reference and, where it judged, ORT. */
      const check = (what: string, i: number, y: number[], scale: number, zp: number) => {
        const x = Float32Array.from(inputs[i]![1]);
        const want = k.dynamicQuantizeLinearRef(x);
        const same = (a: number[], b: ArrayLike<number>) => a.length === b.length && a.every((v, j) => Object.is(v, b[j]));
        if (!same([scale, zp, ...y], [want.scale, want.zeroPoint, ...want.y])) failures.push(`${what}: reference`);
        compared.ref += 2 + y.length;
        const o = ort[i];
        if (!o) return;
        if (!same([scale, zp, ...y], [...o.scale!, ...o.zp!, ...o.y!])) failures.push(`${what}: onnxruntime`);
        compared.ort += 2 + y.length;
      };
      for (const [i, [name, values]] of inputs.entries()) {
        const x = Float32Array.from(values);
        const out = k.dynamicQuantizeLinear(ctx, ctx.upload(x, 'test.x'), x.length, Infinity, 256);
        const [scale] = await floats(out.scale, 1);
        const [zp] = await bytes(out.zeroPoint, 1);
        check(`${name} n=${x.length}`, i, await bytes(out.y, x.length), scale!, zp!);
      }
      for (const set of sliceSets) {
        const n = inputs[set[0]!]![1].length;
        const x = Float32Array.from(set.flatMap((i) => inputs[i]![1]));
        const out = k.dynamicQuantizeSlices(ctx, ctx.upload(x, 'test.x'), set.length, n, 256);
        const scales = await floats(out.scale, set.length);
        const zps = await bytes(out.zeroPoint, set.length);
        const y = await bytes(out.y, x.length);
        set.forEach((i, s) => check(`slice ${s} of ${set.length}×${n}`, i, y.slice(s * n, (s + 1) * n), scales[s]!, zps[s]!));
      }
      return { failures, compared, pipelines: ctx.pipelines.keys().filter((key) => key.startsWith('dql-')) };
    },
    { inputs, sliceSets },
  );
  expect(r.failures).toEqual([]);
  // Every element, scale and zero point of every input, and again of each slice; ORT judges all but the NaN/Inf and all-zero inputs.
  const per = (idx: number[]) => idx.reduce((n, i) => n + 2 + inputs[i]![1].length, 0);
  const all = inputs.map((_, i) => i);
  const judged = all.filter((i) => dqlOracleCovers(inputs[i]![1]));
  const slices = sliceSets.flat();
  expect(r.compared).toEqual({ ref: per(all) + per(slices), ort: per(judged) + per(slices.filter((i) => judged.includes(i))) });
  // The 256-thread pipelines ran (the 64-thread ones are SwiftShader's and the other kernel tests').
  expect(r.pipelines.filter((key) => key.includes('WG=256')).sort()).toEqual([expect.stringMatching(/^dql-slices:/), expect.stringMatching(/^dql-small:/)]);
});
