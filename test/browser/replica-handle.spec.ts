// Every verb of a model reaches the replica that serves it. `generate` and `profile` used to go to
// the runtime's own Worker with a model id that is unique only inside one Worker, so after a release
// switch (the new version lives in a Worker of its own) they reached a disposed or different model;
// runs served by a WASM replica beside a WebGPU one were labelled with the first replica's backend.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDecoder } from '../../src/graph/decoder-builder';
import { latency, startCollectorProcess, type CollectorProcess } from '../unit/collector/helpers';
import { putRelease } from '../unit/collector/release-helpers';
import { TINY_DECODER } from './generate-models';
import { expect, test } from './fixtures';
import { classifier, published } from './release-models';

let collector: CollectorProcess;
test.beforeEach(async () => {
  collector = await startCollectorProcess(join(mkdtempSync(join(tmpdir(), 'webq8-replica-')), 'm.jsonl'));
});
test.afterEach(async () => {
  await collector.stop();
});

test('generate and profile of a release model reach the version serving now, after a switch too, and are labelled with it', async ({
  webq8Page: page,
  baseURL,
}) => {
  test.setTimeout(180_000);
  const model = 'decoder';
  const v1 = published(buildDecoder({ ...TINY_DECODER, seed: 1 }), '1', baseURL!);
  const v2 = published(buildDecoder({ ...TINY_DECODER, seed: 2 }), '2', baseURL!);
  await putRelease(collector.url, { model, stable: v1 });
  const release = `${collector.url}/api/release/${model}`;
  const open = (endpoint: string) =>
    page.evaluate(
      async ({ endpoint, release }) => {
        const { createRuntime } = await import('/dist/index.js');
        const rt = createRuntime({ telemetry: { endpoint, intervalMs: 3_600_000 } });
        const m = await rt.follow({ release, pollMs: 0 }, { backend: 'wasm' });
        const w = window as unknown as Record<string, unknown>;
        w.rt = rt;
        w.m = m;
      },
      { endpoint, release },
    );
  type M = import('../../src/index').ReleasedModel;
  const step = () =>
    page.evaluate(async () => {
      const { profile } = await import('/dist/advanced.js');
      const m = (window as unknown as { m: M }).m;
      const tokens = (await m.generate([5, 17, 99, 3], { maxNewTokens: 6 }).result).tokens;
      const p = await profile(m, {
        input_ids: { type: 'int64', dims: [1, 2], data: BigInt64Array.from([5n, 17n]) },
        attention_mask: { type: 'int64', dims: [1, 2], data: BigInt64Array.from([1n, 1n]) },
        position_ids: { type: 'int64', dims: [1, 2], data: BigInt64Array.from([0n, 1n]) },
        ...Object.fromEntries(
          m.info.inputs
            .filter((i) => i.name.startsWith('past_key_values'))
            .map((i) => [i.name, { type: 'float32', dims: [1, i.dims[1] as number, 0, i.dims[3] as number], data: new Float32Array(0) }]),
        ),
      });
      return { tokens, version: m.release().serving, profileSteps: p.steps.length };
    });
  const alone = (url: string) =>
    page.evaluate(async (url) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const m = await rt.load(url, { backend: 'wasm' });
      const tokens = (await m.generate([5, 17, 99, 3], { maxNewTokens: 6 }).result).tokens;
      await rt.dispose();
      return tokens;
    }, url);

  await open(collector.url);
  const before = await step();
  await putRelease(collector.url, { model, stable: v2 });
  await page.evaluate(() => (window as unknown as { m: M }).m.refresh());
  const after = await step();
  await page.evaluate(() => (window as unknown as { rt: import('../../src/index').Runtime }).rt.flushTelemetry());
  const [want1, want2] = [await alone(v1.url), await alone(v2.url)];

  expect(want1).not.toEqual(want2); // the two versions answer differently
  expect(before).toMatchObject({ version: '1', tokens: want1 });
  expect(after).toMatchObject({ version: '2', tokens: want2 });
  expect(before.profileSteps).toBeGreaterThan(0);
  expect(after.profileSteps).toBeGreaterThan(0);
  // One answer per version, each labelled with the version that generated it.
  const ttft = (await latency(collector.url, `?metric=webq8.generate.ttft.duration&model=${model}`)).series;
  expect(ttft.map((s) => [s.version, s.count]).sort()).toEqual([
    ['1', 1],
    ['2', 1],
  ]);
});

test('with a WebGPU and a WASM replica, each run is labelled with the backend of the replica that served it; profile reaches a live replica', async ({
  webq8Page: page,
  baseURL,
}) => {
  test.setTimeout(180_000);
  const url = published(classifier(3), '1', baseURL!).url;
  const r = await page.evaluate(
    async ({ url, endpoint }) => {
      const { createRuntime } = await import('/dist/index.js');
      const { profile: profileOf } = await import('/dist/advanced.js');
      const rt = createRuntime({ telemetry: { endpoint, intervalMs: 3_600_000 } });
      const m = await rt.load(url, { serving: { replicas: [{ backend: 'webgpu' }, { backend: 'wasm' }] } });
      const x = (i: number) => ({ x: { type: 'float32' as const, dims: [1, 64], data: Float32Array.from({ length: 64 }, (_, j) => Math.sin(i + j)) } });
      await Promise.all(Array.from({ length: 16 }, (_, i) => m.run(x(i))));
      const replicas = m.stats().serving.replicas.map((s) => ({ backend: s.backend, dispatches: s.dispatches }));
      const profile = await profileOf(m, x(0));
      const local = m.stats().latency.run.count;
      await rt.flushTelemetry();
      await rt.dispose();
      return { replicas, profileSteps: profile.steps.length, local };
    },
    { url, endpoint: collector.url },
  );
  const byBackend = Object.fromEntries(r.replicas.map((s) => [s.backend, s.dispatches]));
  expect(byBackend.wasm).toBeGreaterThan(0);
  expect(byBackend.webgpu).toBeGreaterThan(0);
  expect(r.local).toBe(16);
  expect(r.profileSteps).toBeGreaterThan(0);
  const series = (await latency(collector.url)).series.filter((s) => s.metric === 'webq8.run.duration');
  const counts = Object.fromEntries(series.map((s) => [s.backend, s.count]));
  expect(counts).toEqual(byBackend);
});
