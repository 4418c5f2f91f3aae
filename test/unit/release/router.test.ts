// The release router and follower over real Servers with scripted replicas: blue-green switches
// with runs in flight, shadow copies that stay whole for a later warm-up, and local rollback with
// its incident. Replicas detach their inputs like a Worker transfer does, and finish when told.
import { describe, expect, it, vi } from 'vitest';
import { loadRelease } from '../../../src/release';
import { memoryReleaseStore } from '../../../src/release/client-store';
import type { ReleaseDeps } from '../../../src/release/state';
import { fakeReplica, type FakeReplica } from '../fake-replica';
import { Server } from '../../../src/serving/server';
import type { GaugeSample, Telemetry } from '../../../src/telemetry';
import type { ModelInfo, ReleaseManifest, ReleaseVersion, TensorMap, ValueInfo, VerifyInfo } from '../../../src/types';

const INPUTS: ValueInfo[] = [{ name: 'x', type: 'float32', dims: [1, 2] }];
const OUTPUTS: ValueInfo[] = [{ name: 'y', type: 'float32', dims: [1, 2] }];
const URL_ = 'https://release.test/api/release/m';
/** Waits until `check` passes: the router's background work (shadow runs, loads, disposal) has no promise to await. */
const until = (check: () => void) => vi.waitFor(check, { timeout: 5_000, interval: 1 });

/** A replica computing `fn`, detaching its inputs like a transfer; `state.hold` keeps runs until `release()`. */
const replica = (fn: (x: number[]) => number[]) => fakeReplica({ compute: fn, hold: false, detach: true });

type Fake = FakeReplica;

/** A release world: versions by label, a manifest the fake server serves, what the client POSTed. */
function world(fns: Record<string, (x: number[]) => number[]>, verified: Record<string, VerifyInfo> = {}) {
  const replicas: Record<string, Fake> = {};
  const posts: unknown[] = [];
  const gauges: (() => GaugeSample[])[] = [];
  let manifest: ReleaseManifest | null = null;
  let etag = 0;
  const v = (version: string): ReleaseVersion => ({ version, url: `https://models.test/${version}.onnx`, sha256: version.padStart(64, '0'), size: 10 });
  const doFetch = (async (url: string, init?: RequestInit) => {
    if (init?.method === 'POST') return (posts.push(JSON.parse(String(init.body))), new Response(null, { status: 202 }));
    const tag = `"${etag}"`;
    if ((init?.headers as Record<string, string>)['if-none-match'] === tag) return new Response(null, { status: 304 });
    return new Response(JSON.stringify(manifest), { status: 200, headers: { etag: tag } });
  }) as typeof fetch;
  const loadVersion: ReleaseDeps['loadVersion'] = async (ref) => {
    const fake = (replicas[ref.version!] = replica(fns[ref.version!]!));
    const info = {
      id: ref.version,
      inputs: INPUTS,
      outputs: OUTPUTS,
      sha256: ref.sha256,
      modelId: ref.id,
      version: ref.version,
      verify: verified[ref.version!],
    } as ModelInfo;
    let n = 0;
    return { info, server: new Server({}, [fake], INPUTS, { nextRequestId: () => `${ref.version}-${n++}` }) };
  };
  const telemetry = { addGauges: (g: () => GaugeSample[]) => (gauges.push(g), () => undefined) } as unknown as Telemetry;
  const deps: ReleaseDeps = { loadVersion, telemetry, attrsOf: () => ({}), store: memoryReleaseStore(), fetch: doFetch, random: () => 0 };
  return {
    replicas,
    posts,
    gauges,
    v,
    publish(m: Omit<ReleaseManifest, 'model'>) {
      manifest = { model: 'm', ...m };
      etag++;
    },
    open: (clientId = 'c') => loadRelease({ release: URL_, pollMs: 0, clientId }, URL_, deps),
  };
}

const x = (a: number, b: number): TensorMap => ({ x: { type: 'float32', dims: [1, 2], data: Float32Array.of(a, b) } });
const y = (t: TensorMap) => [...(t.y!.data as Float32Array)];

describe('release router', () => {
  it('blue-green: a run in flight finishes on its version, new runs go to the new one, the old one is freed after its last run', async () => {
    const w = world({ '1': ([a, b]) => [a!, b!], '2': ([a, b]) => [b!, a!] });
    w.publish({ stable: w.v('1') });
    const router = await w.open();
    w.replicas['1']!.state.hold = true;
    const inFlight = router.submit(x(1, 2));
    w.publish({ stable: w.v('2') });
    await router.refresh();
    expect(router.release()).toMatchObject({ stable: '2', serving: '2', switches: 1 });
    expect(y((await router.submit(x(3, 4))).outputs)).toEqual([4, 3]);
    expect(w.replicas['1']!.state.disposed).toBe(false);
    w.replicas['1']!.release();
    expect(y((await inFlight).outputs)).toEqual([1, 2]);
    await until(() => expect(w.replicas['1']!.state.disposed).toBe(true));
  });

  it('shadow runs transfer copies: a later candidate warms on whole recent inputs', async () => {
    const same = ([a, b]: number[]) => [a!, b!];
    const w = world({ '1': same, '2': same, '3': same });
    w.publish({ stable: w.v('1'), candidate: { ...w.v('2'), mode: 'shadow', fraction: 1 } });
    const router = await w.open();
    await until(() => expect(router.release().candidate).toMatchObject({ version: '2', state: 'ready' }));
    for (let i = 0; i < 3; i++) {
      await router.submit(x(i, 10));
      await until(() => expect(router.release().agreement[0]?.compared).toBe(i + 1));
    }
    expect(router.release().agreement[0]).toMatchObject({ compared: 3, disagreed: 0 });
    w.publish({ stable: w.v('1'), candidate: { ...w.v('3'), mode: 'shadow', fraction: 1 } });
    await router.refresh();
    await until(() => expect(router.release().candidate).toMatchObject({ version: '3', state: 'ready' }));
    expect(w.replicas['3']!.calls[0]!.x).toEqual([2, 10]);
  });

  it('refuses a candidate whose load-time verification diverged on this device: never served, never promoted, an incident with rule numerics', async () => {
    const same = ([a, b]: number[]) => [a!, b!];
    const diverged: VerifyInfo = {
      status: 'diverged',
      reason: 'The GPU plan diverged from ORT\'s WASM EP on this device: output "y" relL2 0.5 vs ORT WASM (tolerance 0.001).',
      outputs: [{ name: 'y', metric: 'relL2', value: 0.5, tolerance: 1e-3, step: 0 }],
      ms: 1,
      action: 'fallback',
    };
    const w = world({ '1': same, '2': same }, { '2': diverged });
    w.publish({ stable: w.v('1'), candidate: { ...w.v('2'), mode: 'canary', fraction: 1 } });
    const router = await w.open();
    await until(() => expect(router.release().candidate!.state).toBe('refused'));
    expect(router.release()).toMatchObject({ serving: '1', incidents: [{ rule: 'numerics', candidate: '2', evidence: { code: 'NUMERICS' } }] });
    expect(router.release().incidents[0]!.evidence.message).toMatch(/Candidate 2 was refused on this device.*output "y" relL2/);
    await router.submit(x(1, 2));
    expect(w.replicas['2']!.calls).toEqual([]);
    await until(() => expect(w.replicas['2']!.state.disposed).toBe(true));
  });

  it('rolls a canary back once a run sampled in service diverged on this device (rule numerics), though its load-time check agreed', async () => {
    const same = ([a, b]: number[]) => [a!, b!];
    const agreed: VerifyInfo = { status: 'agreed', reason: 'agreed', outputs: [{ name: 'y', metric: 'relL2', value: 0, tolerance: 1e-3, step: 0 }], ms: 1 };
    const w = world({ '1': same, '2': same }, { '2': agreed });
    w.publish({ stable: w.v('1'), candidate: { ...w.v('2'), mode: 'canary', fraction: 1 } });
    const router = await w.open();
    await until(() => expect(router.release().candidate!.state).toBe('ready'));
    await router.submit(x(1, 2));
    expect(router.release()).toMatchObject({ serving: '2', candidate: { state: 'ready' } });
    // The candidate's Worker found a divergence in idle time; its next answer carries the counts (src/runtime/verify-follow.ts).
    const lastDiverged = { name: 'y', metric: 'relL2' as const, value: 0.41, tolerance: 1e-3, step: 0 };
    const service = {
      sampleRate: 0.01,
      checked: 3,
      agreed: 2,
      diverged: 1,
      dropped: 0,
      pending: 0,
      worst: lastDiverged,
      divergedOutputs: { y: 1 },
      lastDiverged,
    };
    const fake = w.replicas['2']!;
    Object.assign(fake, { info: { ...fake.info, adapter: { vendor: 'acme', architecture: 'gen7' }, verify: { ...agreed, service } } as unknown as ModelInfo });
    await router.submit(x(3, 4));
    const status = router.release();
    expect(status).toMatchObject({ serving: '1', candidate: { state: 'rolled-back' } });
    expect(status.incidents).toMatchObject([
      {
        rule: 'numerics',
        candidate: '2',
        evidence: { phase: 'service', output: 'y', metric: 'relL2', value: 0.41, tolerance: 1e-3, adapter: 'acme/gen7', diverged: 1 },
      },
    ]);
    await until(() => expect(w.posts).toMatchObject([{ rule: 'numerics', candidate: '2' }]));
    const calls = fake.calls.length;
    expect(y((await router.submit(x(5, 6))).outputs)).toEqual([5, 6]);
    expect(fake.calls).toHaveLength(calls); // served by stable from then on
  });

  it('rolls a disagreeing candidate back at once, reports the incident, and never adopts it again', async () => {
    const w = world({ '1': ([a, b]) => [a!, b!], '2': ([a, b]) => [b!, a!] });
    const rules = { minSamples: 5, disagreement: 0.2 };
    w.publish({ stable: w.v('1'), candidate: { ...w.v('2'), mode: 'shadow', fraction: 1 }, rules });
    const router = await w.open();
    await until(() => expect(router.release().candidate).toMatchObject({ version: '2', state: 'ready' }));
    for (let i = 0; i < 12 && router.release().candidate!.state === 'ready'; i++) {
      await router.submit(x(i, 5 + i * 0.5)); // argmax flips between the two versions until i = 10
      await until(() => expect(router.release().agreement[0]?.compared).toBe(i + 1));
    }
    await until(() => expect(w.posts).toHaveLength(1));
    const status = router.release();
    expect(status.candidate!.state).toBe('rolled-back');
    expect(status.incidents).toMatchObject([{ scope: 'client', rule: 'disagreement', stable: '1', candidate: '2', evidence: { compared: 5, disagreed: 5 } }]);
    expect(w.posts).toMatchObject([{ rule: 'disagreement', candidate: '2' }]);
    const samples = w.gauges.flatMap((g) => g());
    expect(samples).toContainEqual(expect.objectContaining({ name: 'release_shadow_disagreed', value: 5, extra: { stable: '1' } }));
    expect(samples).toContainEqual(expect.objectContaining({ name: 'release_incidents', value: 1, extra: { rule: 'disagreement' } }));
    await until(() => expect(w.replicas['2']!.state.disposed).toBe(true));
    // Re-published as a canary for everyone: this client stays on stable.
    w.publish({ stable: w.v('1'), candidate: { ...w.v('2'), mode: 'canary', fraction: 1 }, rules });
    await router.refresh();
    expect(router.release()).toMatchObject({ serving: '1', candidate: { state: 'rolled-back' } });
    expect(y((await router.submit(x(9, 1))).outputs)).toEqual([9, 1]);
    // So does a fresh load on this device (the rollback is remembered).
    const again = await w.open();
    expect(again.release().candidate!.state).toBe('rolled-back');
  });
});
