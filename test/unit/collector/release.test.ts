// The collector's release routes as a separate process sees them over HTTP: the manifest with its
// ETag and digest, fleet rollback and promotion decided from the merged histograms, client
// incidents, the journal surviving a crash, and hostile bodies that never break it.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeMetrics } from '../../../src/telemetry/encode.js';
import { createRecorder } from '../../../src/telemetry/recorder.js';
import { prng, samples } from '../telemetry/helpers.js';
import { post, startCollectorProcess, type CollectorProcess } from './helpers.js';
import { act, incidents, putRelease, served } from './release-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'webq8-release-'));
const running = new Set<CollectorProcess>();
/** A collector journaling to `<name>.jsonl` (the same name again: a restart on the same data). */
const start = (name: string) => startCollectorProcess(join(dir, `${name}.jsonl`)).then((c) => (running.add(c), c));
afterEach(() => Promise.all([...running].map((c) => c.stop('SIGKILL'))).then(() => running.clear()));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const release = (rules = {}) => ({
  model: 'cls',
  stable: { version: '1', url: 'https://models.test/cls-1.onnx', sha256: '1'.repeat(64), size: 100 },
  candidate: { version: '2', url: 'https://models.test/cls-2.onnx', sha256: '2'.repeat(64), size: 100, mode: 'canary', fraction: 0.5 },
  rules: { minSamples: 200, p95Ratio: 1.5, ...rules },
});

/** Posts one client's telemetry per version: `n` lognormal run latencies each, the candidate's × `slower`. */
async function feed(url: string, n: number, seed: number, slower = 1): Promise<void> {
  expect((await post(url, telemetry('1', samples('lognormal', n, seed)))).status).toBe(200);
  expect(
    (
      await post(
        url,
        telemetry(
          '2',
          samples('lognormal', n, seed + 1).map((v) => v * slower),
        ),
      )
    ).status,
  ).toBe(200);
}

/** One client's telemetry: `values` run latencies of `version`, plus `errors` internal errors. */
function telemetry(version: string, values: number[], errors = 0): string {
  const rec = createRecorder();
  const attrs = { modelId: 'cls', modelVersion: version, backend: 'wasm' };
  for (const v of values) rec.record('run', v, attrs);
  for (let i = 0; i < errors; i++) rec.recordError('INTERNAL', attrs);
  return encodeMetrics(rec.collect(), { resource: {} })[0]!;
}

describe('collector releases', () => {
  it('serves the manifest with an ETag (304 when unchanged) and a Content-Digest of its body', async () => {
    const c = await start('etag');
    expect((await putRelease(c.url, release())).status).toBe(200);
    const res = await fetch(`${c.url}/api/release/cls`);
    const body = await res.text();
    const etag = res.headers.get('etag')!;
    expect(JSON.parse(body)).toEqual(release());
    expect(res.headers.get('content-digest')).toBe(`sha-256=:${createHash('sha256').update(body).digest('base64')}:`);
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag');
    expect((await fetch(`${c.url}/api/release/cls`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${c.url}/api/release/none`)).status).toBe(404);
  });

  it('refuses a bad manifest with the field, and a version label re-pointed at other bytes', async () => {
    const c = await start('invalid');
    const bad = await putRelease(c.url, { ...release(), candidate: { ...release().candidate, fraction: 2 } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'candidate.fraction' });
    await putRelease(c.url, release());
    const moved = await putRelease(c.url, { ...release(), stable: { ...release().stable, sha256: 'f'.repeat(64) } });
    expect(moved.status).toBe(409);
    const plain = await fetch(`${c.url}/api/release/cls`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(release()) });
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as { error: string }).error).toMatch(/content-type must be application\/json/);
  });

  it('rolls a slower candidate back from the fleet histograms, journals it, and keeps it across a crash', async () => {
    const file = 'rollback';
    let c = await start(file);
    await putRelease(c.url, release());
    await feed(c.url, 150, 1, 3);
    // 150 samples each: below minSamples, the candidate stays.
    expect((await served(c.url, 'cls')).candidate?.version).toBe('2');
    await feed(c.url, 150, 3, 3);
    const after = await served(c.url, 'cls');
    expect(after.candidate).toBeUndefined();
    expect(after.stable.version).toBe('1');
    const [incident] = await incidents(c.url, 'cls');
    expect(incident).toMatchObject({ scope: 'fleet', rule: 'p95Ratio', candidate: '2', evidence: { by: 'rule' } });
    expect(incident!.evidence.candidateLower as number).toBeGreaterThan(1.5 * (incident!.evidence.stableUpper as number));
    const dashboard = await (await fetch(`${c.url}/`)).text();
    expect(dashboard).toContain('Releases');
    expect(dashboard).toContain('p95Ratio');
    await c.stop('SIGKILL');
    c = await start(file);
    expect(await served(c.url, 'cls')).toEqual(after);
    expect(await incidents(c.url, 'cls')).toEqual([incident]);
  });

  it('a GET of the manifest or the decision never journals a rollback; the next data applies it', async () => {
    // A collector restarted on data that now decides a rollback: nothing was written since, so nothing is applied yet.
    const file = 'get-is-safe';
    let c = await start(file);
    await feed(c.url, 300, 11, 3);
    await c.stop('SIGKILL');
    const journal = join(dir, `${file}.release.jsonl`);
    const at = new Date().toISOString();
    writeFileSync(journal, `${JSON.stringify({ seq: 1, at, body: { type: 'set', model: 'cls', at, manifest: release() } })}\n`);
    c = await start(file);
    for (let i = 0; i < 3; i++) expect(await served(c.url, 'cls')).toEqual(release());
    const decision = (await (await fetch(`${c.url}/api/release/cls/decision`)).json()) as { decision: string; rule: string };
    expect([decision.decision, decision.rule]).toEqual(['rollback', 'p95Ratio']);
    expect(await served(c.url, 'cls')).toEqual(release());
    expect(await incidents(c.url, 'cls')).toEqual([]);
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(1);
    await feed(c.url, 1, 13, 3);
    expect((await served(c.url, 'cls')).candidate).toBeUndefined();
    expect((await incidents(c.url, 'cls')).map((i) => [i.scope, i.rule])).toEqual([['fleet', 'p95Ratio']]);
  });

  it('promotes an equal candidate by rule, and by API; a restart mid-rollout keeps the candidate and its data', async () => {
    const file = 'promote';
    let c = await start(file);
    await putRelease(c.url, release());
    await feed(c.url, 300, 5);
    expect((await served(c.url, 'cls')).candidate?.version).toBe('2'); // 300 samples: bounds still too wide
    await c.stop('SIGKILL');
    c = await start(file);
    expect((await served(c.url, 'cls')).candidate?.version).toBe('2');
    await feed(c.url, 3000, 7);
    const promoted = await served(c.url, 'cls');
    expect(promoted).toEqual({
      model: 'cls',
      stable: { version: '2', url: release().candidate.url, sha256: '2'.repeat(64), size: 100 },
      rules: release().rules,
    });
    expect((await act(c.url, 'cls', 'promote')).status).toBe(409); // nothing left to promote
    await putRelease(c.url, { ...release(), stable: promoted.stable, candidate: { ...release().candidate, version: '3', sha256: '3'.repeat(64) } });
    expect((await act(c.url, 'cls', 'promote')).status).toBe(200);
    await c.stop('SIGKILL');
    c = await start(file);
    expect((await served(c.url, 'cls')).stable.version).toBe('3');
  });

  it('a client disagreement incident with enough comparisons rolls the fleet back; a weak one does not', async () => {
    const c = await start('incidents');
    await putRelease(c.url, release({ minSamples: 20, disagreement: 0.1 }));
    const report = (evidence: object) =>
      fetch(`${c.url}/api/release/cls/incidents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'cls', stable: '1', candidate: '2', rule: 'disagreement', evidence }),
      });
    expect((await report({ compared: 10, disagreed: 9 })).status).toBe(202);
    expect((await served(c.url, 'cls')).candidate?.version).toBe('2'); // 10 < minSamples
    expect((await report({ compared: 12, disagreed: 10 })).status).toBe(202);
    expect((await served(c.url, 'cls')).candidate).toBeUndefined();
    expect((await incidents(c.url, 'cls')).map((i) => [i.scope, i.rule])).toEqual([
      ['client', 'disagreement'],
      ['client', 'disagreement'],
      ['fleet', 'disagreement'],
    ]);
  });

  it('never promotes by rule a candidate a client reported as diverging from ORT WASM (rule numerics); the API still can', async () => {
    const c = await start('numerics');
    await putRelease(c.url, release());
    const evidence = { phase: 'service', output: 'y', metric: 'relL2', value: 0.41, tolerance: 0.001, adapter: 'acme/gen7' };
    const res = await fetch(`${c.url}/api/release/cls/incidents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cls', stable: '1', candidate: '2', rule: 'numerics', evidence }),
    });
    expect(res.status).toBe(202);
    await feed(c.url, 3000, 7); // enough equal data to promote (see above)
    expect((await served(c.url, 'cls')).candidate?.version).toBe('2');
    const decision = (await (await fetch(`${c.url}/api/release/cls/decision`)).json()) as { decision: string; rule: string; evidence: Record<string, string> };
    expect(decision).toMatchObject({ decision: 'wait', rule: 'numerics', evidence: { adapters: 'acme/gen7' } });
    expect((await act(c.url, 'cls', 'promote')).status).toBe(200);
  });

  it('fuzz (seeded): hostile release requests get 4xx, never crash or corrupt the state', async () => {
    const c = await start('fuzz');
    await putRelease(c.url, release());
    const rand = prng(7);
    const bodies = [
      '',
      'null',
      '[]',
      '{"model":"cls"}',
      '{',
      'x'.repeat(70_000),
      JSON.stringify({ model: 'cls', rule: 'p95Ratio', stable: '1', candidate: '2', evidence: { a: { b: 1 } } }),
    ];
    const paths = ['/api/release/cls', '/api/release/cls/incidents', '/api/release/cls/promote/x', '/api/release/%E0%A4%A', '/api/release/cls/nope'];
    for (let i = 0; i < 60; i++) {
      const method = ['PUT', 'POST', 'DELETE'][Math.floor(rand() * 3)]!;
      const path = paths[Math.floor(rand() * paths.length)]!;
      const res = await fetch(`${c.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: bodies[Math.floor(rand() * bodies.length)] });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
    expect(await served(c.url, 'cls')).toEqual(release());
  });
});
