// dispose() releases everything: load → run → dispose, 30 times per plan kind, with the live GPU
// objects counted on ORT's device (the runtime's `'gpu-counts'` test hook: buffers and textures
// created minus destroyed, ORT's own included; webq8's pooled and constant buffers; live ORT
// sessions). After every dispose webq8's counts must be back at their baseline, and the device's
// total must level off. The baseline is taken after one warm-up cycle per plan kind: compiled
// pipelines and the int8 kernels' 16-byte zero buffer are per-device caches, kept on purpose.
import { quantizeDynamic } from '../../src/graph/quantize';
import { mlp } from '../unit/graph/models';
import { expect, test } from './fixtures';

const CYCLES = 30;
const K = 256;
const N = 256;

test('30 load/run/dispose cycles per plan kind leave no webq8 GPU object and no ORT session behind', async ({ webq8Page: page }) => {
  test.setTimeout(300_000);
  // Two [256, 256] int8 weight matrices: 128 KiB of constants per load on the kernel plan.
  const model = [...quantizeDynamic(mlp(K, N, { second: true }), { perChannel: true }).bytes];
  const r = await page.evaluate(
    async ({ model, cycles, k }) => {
      const { createRuntime } = await import('/dist/index.js');
      type Counts = {
        device: { buffers: number; bufferBytes: number; textures: number };
        pooledInUse: number;
        pooledIdle: number;
        constants: number;
        constantBytes: number;
        pipelines: number;
        sessions: number;
      };
      const rt = createRuntime();
      const counts = () => (rt as unknown as Record<symbol, (c: string) => Promise<Counts>>)[Symbol.for('webq8.debug')]!('gpu-counts');
      const x = { type: 'float32' as const, dims: [8, k], data: Float32Array.from({ length: 8 * k }, (_, i) => Math.sin(i)) };
      const out: Record<string, { strategy: string; loaded: Counts; after: Counts; sum: number }[]> = {};
      for (const strategy of ['kernels', 'ort'] as const) {
        const rows = (out[strategy] = [] as (typeof out)[string]);
        for (let i = 0; i <= cycles; i++) {
          const m = await rt.load(new Uint8Array(model), { backend: 'webgpu', strategy, cache: 'bypass' });
          const y = Object.values(await m.run({ x: { ...x, data: x.data.slice() } }))[0]!.data as Float32Array;
          const loaded = await counts();
          await m.dispose();
          rows.push({ strategy: m.info.strategy!.strategy, loaded, after: await counts(), sum: y.reduce((a, b) => a + b, 0) });
        }
      }
      // 'auto' builds both executors and measures them (the first load of a model; later ones
      // reuse the decision): the one it drops must go too.
      const auto = await rt.load(new Uint8Array(model), { backend: 'webgpu', strategy: 'auto', cache: 'bypass' });
      await auto.run({ x: { ...x, data: x.data.slice() } });
      await auto.dispose();
      const probe = { measured: auto.info.strategy!.measured !== undefined, after: await counts() };
      await rt.dispose();
      return { rounds: out, probe };
    },
    { model, cycles: CYCLES, k: K },
  );
  const weightBytes = 2 * K * N;
  type Row = (typeof r.rounds)[string][number];
  const ours = ({ pooledInUse, pooledIdle, constants, constantBytes, pipelines, sessions }: Row['after']) => ({
    pooledInUse,
    pooledIdle,
    constants,
    constantBytes,
    pipelines,
    sessions,
  });
  for (const [strategy, rows] of Object.entries(r.rounds)) {
    const [warm, ...cycles] = rows;
    const base = warm!.after;
    console.log(strategy, JSON.stringify({ base, loaded: warm!.loaded, last: cycles.at(-1)!.after }));
    expect(cycles).toHaveLength(CYCLES);
    for (const [i, c] of cycles.entries()) {
      expect(c.strategy, `cycle ${i}`).toBe(strategy);
      expect(c.sum, `cycle ${i}: same answer every time`).toBe(warm!.sum);
      // While loaded the counters do see the model (so "back to baseline" means something).
      // (ORT runs this model's int8 ops on the CPU: on the ORT plan the session is what the GPU holds.)
      expect(c.loaded.sessions, `cycle ${i}`).toBeGreaterThan(base.sessions);
      if (strategy === 'kernels') {
        expect(c.loaded.device.buffers, `cycle ${i}`).toBeGreaterThan(base.device.buffers);
        expect(c.loaded.constantBytes, `cycle ${i}`).toBeGreaterThanOrEqual(base.constantBytes + weightBytes);
      }
      // After dispose: every webq8 object and ORT session is gone.
      expect(ours(c.after), `cycle ${i}`).toEqual(ours(base));
      expect(c.after.device.textures, `cycle ${i}`).toBe(base.device.textures);
    }
    // The device as a whole (ORT's buffer caches included) levels off: the second half of the
    // cycles together grew it by less than one model's weights. A per-load leak of anything the
    // size of the model fails this.
    const mid = cycles[CYCLES / 2 - 1]!.after.device.bufferBytes;
    const last = cycles.at(-1)!.after.device.bufferBytes;
    expect(last - mid).toBeLessThan(weightBytes);
  }
  expect(r.probe.measured).toBe(true);
  // The probe runs a one-row input, which compiles another kernel variant: pipelines are a
  // per-device cache, everything else must be back.
  expect({ ...ours(r.probe.after), pipelines: 0 }).toEqual({ ...ours(r.rounds.kernels![0]!.after), pipelines: 0 });
});
