// Safe releases end to end: real Chromium clients following a release served by the real reference
// collector (a separate process on localhost), small models built here. Outcomes are decided by the
// collector's and the clients' own rules; the tests count answers, versions and incidents.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latency, startCollectorProcess, type CollectorProcess } from '../unit/collector/helpers';
import { incidents, putRelease, served } from '../unit/collector/release-helpers';
import { expect, test } from './fixtures';
import { classifier, published } from './release-models';
import { installReleaseHelpers, rel } from './release-page';

/** This client id's canary bucket, computed here from the documented formula. */
function bucketOf(clientId: string, model: string): number {
  return parseInt(createHash('sha256').update(`${clientId}\n${model}`).digest('hex').slice(0, 8), 16) / 2 ** 32;
}

/** The first client ids (`client-0`, …) in and out of a canary of `fraction`. */
function cohorts(model: string, fraction: number): { inside: string; outside: string } {
  const ids = Array.from({ length: 64 }, (_, i) => `client-${i}`);
  return { inside: ids.find((id) => bucketOf(id, model) < fraction)!, outside: ids.find((id) => bucketOf(id, model) >= fraction)! };
}

let collector: CollectorProcess;
let dataFile: string;
test.beforeEach(async () => {
  dataFile = join(mkdtempSync(join(tmpdir(), 'webq8-release-')), 'm.jsonl');
  collector = await startCollectorProcess(dataFile);
});
test.afterEach(async () => {
  await collector.stop();
});

const releaseUrl = (model: string) => `${collector.url}/api/release/${model}`;

test('the same client lands in the same bucket across reloads; another profile gets its own random id', async ({ webq8Page: page, baseURL, browser }) => {
  const model = 'bucket';
  const stable = published(classifier(1), '1', baseURL!);
  const candidate = published(classifier(1, { name: 'two' }), '2', baseURL!);
  await putRelease(collector.url, { model, stable, candidate: { ...candidate, mode: 'canary', fraction: 0.5 } });
  const open = async (p: typeof page) => {
    await installReleaseHelpers(p);
    await rel(p).open('c', collector.url, { release: releaseUrl(model), pollMs: 0 });
    const status = await rel(p).status('c');
    const id = await p.evaluate(async () => {
      const req = indexedDB.open('webq8-release');
      const db = await new Promise<IDBDatabase>((ok) => (req.onsuccess = () => ok(req.result)));
      const get = db.transaction('kv').objectStore('kv').get('client-id');
      return new Promise<string>((ok) => (get.onsuccess = () => ok(get.result as string)));
    });
    return { id, bucket: status!.bucket, inCanary: status!.candidate!.state !== 'not-in-cohort' };
  };
  const first = await open(page);
  expect(first.bucket).toBeCloseTo(bucketOf(first.id, model), 12);
  expect(first.inCanary).toBe(first.bucket < 0.5);
  await page.reload();
  expect(await open(page)).toEqual(first);
  const other = await browser.newContext();
  try {
    const page2 = await other.newPage();
    await page2.goto(`${baseURL}/test/browser/blank.html`);
    const second = await open(page2);
    expect(second.id).toMatch(/^[0-9a-f]{32}$/);
    expect(second.id).not.toBe(first.id);
    expect(second.bucket).toBeCloseTo(bucketOf(second.id, model), 12);
  } finally {
    await other.close();
  }
});

test('an identical candidate is promoted after the minimum samples, across a collector restart; both cohorts follow without a failed run', async ({
  webq8Page: page,
  baseURL,
}) => {
  const model = 'same';
  const stable = published(classifier(2), '1', baseURL!);
  const candidate = published(classifier(2, { name: 'rebuilt' }), '2', baseURL!);
  const { inside, outside } = cohorts(model, 0.5);
  await putRelease(collector.url, {
    model,
    stable,
    candidate: { ...candidate, mode: 'canary', fraction: 0.5 },
    rules: { minSamples: 150, p95Ratio: 3, errorRateDelta: 0.05 },
  });
  await installReleaseHelpers(page);
  const r = rel(page);
  // pollMs 0: the test says when each client looks at the manifest (refreshRelease).
  await r.open('a', collector.url, { release: releaseUrl(model), clientId: outside, pollMs: 0 });
  await r.open('b', collector.url, { release: releaseUrl(model), clientId: inside, pollMs: 0 });
  await expect.poll(async () => (await r.status('b'))!.candidate!.state).toBe('ready');
  // Both cohorts run side by side, so both see the same machine.
  const round = async (seed: number) => {
    await Promise.all([r.run('a', 100, seed), r.run('b', 100, seed)]);
    await Promise.all([r.flush('a'), r.flush('b')]);
  };
  await round(1);
  // 100 runs each, below minSamples: nothing is decided yet; a crash and restart keep the rollout.
  const before = await fetch(releaseUrl(model));
  expect((await before.json()).candidate.version).toBe('2');
  await collector.stop('SIGKILL');
  collector = await startCollectorProcess(dataFile, ['--port', String(collector.port)]);
  const after = await fetch(releaseUrl(model));
  expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
  let rounds = 1;
  while ((await served(collector.url, model)).candidate && rounds < 12) await round(1000 * ++rounds);
  const decided = await served(collector.url, model);
  expect(decided.stable.version, JSON.stringify(await incidents(collector.url, model))).toBe('2');
  // Clients follow: b already runs 2 (promoted in place); a switches blue-green while it keeps running.
  await r.start('a');
  await expect.poll(async () => (await r.tally('a')).ok).toBeGreaterThan(0);
  expect((await r.refresh('a'))!).toMatchObject({ stable: '2', serving: '2', switches: 1 });
  await expect.poll(async () => (await r.tally('a')).versions['2'] ?? 0).toBeGreaterThan(0);
  const a = await r.stop('a');
  expect(a.failed).toEqual([]);
  expect((await r.refresh('b'))!).toMatchObject({ stable: '2', serving: '2', switches: 1, incidents: [] });
  expect((await r.tally('b')).failed).toEqual([]);
  test.info().annotations.push({ type: 'rounds', description: `promoted after ${rounds} rounds of 100 runs per cohort` });
});

test('a slower candidate is rolled back by the fleet within a few flushes; its canary client switches back without a failed run', async ({
  webq8Page: page,
  baseURL,
}) => {
  const model = 'slow';
  const stable = published(classifier(3), '1', baseURL!);
  const candidate = published(classifier(3, { slow: 8 }), '2', baseURL!);
  const { inside, outside } = cohorts(model, 0.5);
  await putRelease(collector.url, { model, stable, candidate: { ...candidate, mode: 'canary', fraction: 0.5 }, rules: { minSamples: 30, p95Ratio: 2 } });
  await installReleaseHelpers(page);
  const r = rel(page);
  await r.open('a', collector.url, { release: releaseUrl(model), clientId: outside, pollMs: 0 });
  await r.open('b', collector.url, { release: releaseUrl(model), clientId: inside, pollMs: 0, shadowRate: 0 });
  await expect.poll(async () => (await r.status('b'))!.candidate!.state).toBe('ready');
  // b runs all along: candidate samples, and runs in flight when it switches back.
  await r.start('b');
  let flushes = 0;
  while ((await served(collector.url, model)).candidate && flushes < 10) {
    flushes++;
    // A flush per ten more candidate runs (each takes ~10× a stable run), with stable runs between.
    const seen = (await r.tally('b')).ok;
    await r.run('a', 100, 100 * flushes);
    await expect.poll(async () => (await r.tally('b')).ok, { timeout: 60_000 }).toBeGreaterThanOrEqual(seen + 10);
    await Promise.all([r.flush('a'), r.flush('b')]);
  }
  expect((await served(collector.url, model)).candidate).toBeUndefined();
  // 30 candidate runs are needed (minSamples); one flush per 10 runs.
  expect(flushes).toBeLessThanOrEqual(6);
  const [incident] = await incidents(collector.url, model);
  expect(incident).toMatchObject({ scope: 'fleet', rule: 'p95Ratio', candidate: '2' });
  expect((await r.refresh('b'))!).toMatchObject({ serving: '1', candidate: null });
  await expect.poll(async () => (await r.tally('b')).versions['1'] ?? 0).toBeGreaterThan(0);
  const b = await r.stop('b');
  expect(b.failed).toEqual([]);
  expect(b.versions['2']).toBeGreaterThan(0);
  expect((await r.status('b'))!.lastRun).toMatchObject({ version: '1', role: 'stable', reason: 'the manifest names no candidate' });
  const dashboard = await (await fetch(`${collector.url}/`)).text();
  expect(dashboard).toMatch(/<tr class="incident">.*fleet.*p95Ratio.*>2</);
  test.info().annotations.push({ type: 'flushes', description: `rolled back after ${flushes} flushes` });
});

test('a candidate with perturbed weights trips the shadow disagreement rule before it serves anyone; the fleet drops it', async ({
  webq8Page: page,
  baseURL,
}) => {
  const model = 'perturbed';
  const stable = published(classifier(4), '1', baseURL!);
  const candidate = published(classifier(4, { perturb: 1 }), '2', baseURL!);
  await putRelease(collector.url, { model, stable, candidate: { ...candidate, mode: 'shadow', fraction: 1 }, rules: { minSamples: 10, disagreement: 0.2 } });
  await installReleaseHelpers(page);
  const r = rel(page);
  await r.open('c', collector.url, { release: releaseUrl(model), pollMs: 0 });
  await expect.poll(async () => (await r.status('c'))!.candidate!.state).toBe('ready');
  for (let i = 0; i < 40 && (await r.status('c'))!.candidate!.state === 'ready'; i++) await r.run('c', 5, 10 * i);
  const status = (await r.status('c'))!;
  expect(status.candidate!.state).toBe('rolled-back');
  expect(status.incidents).toHaveLength(1);
  expect(status.incidents[0]).toMatchObject({ scope: 'client', rule: 'disagreement', candidate: '2' });
  expect(status.incidents[0]!.evidence.compared as number).toBeGreaterThanOrEqual(10);
  expect(status.agreement[0]!.disagreed / status.agreement[0]!.compared).toBeGreaterThan(0.2);
  // The client's report reaches the collector, which drops the candidate for everyone.
  await expect.poll(async () => (await served(collector.url, model)).candidate).toBeUndefined();
  // Re-publishing it as a canary: the collector drops it again (the incidents stand) ...
  const canary = { model, stable, candidate: { ...candidate, mode: 'canary', fraction: 1 }, rules: { minSamples: 10, disagreement: 0.2 } };
  await putRelease(collector.url, canary);
  expect((await served(collector.url, model)).candidate).toBeUndefined();
  // ... and a manifest from elsewhere that still names it does not bring it back to this client.
  await page.route(releaseUrl(model), (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': '*' }, body: JSON.stringify(canary) }),
  );
  expect((await r.refresh('c'))!.candidate).toMatchObject({ version: '2', mode: 'canary', state: 'rolled-back' });
  await r.run('c', 10, 5000);
  await r.flush('c');
  const tally = await r.tally('c');
  expect(tally.failed).toEqual([]);
  expect(Object.keys(tally.versions)).toEqual(['1']);
  const doc = await latency(collector.url, `?model=${model}`);
  expect(doc.series.filter((s) => s.metric === 'webq8.run.duration').map((s) => s.version)).toEqual(['1']);
});

test('a tampered manifest or a candidate with a wrong hash is refused with IntegrityError; stable keeps serving', async ({ webq8Page: page, baseURL }) => {
  const model = 'tamper';
  const stable = published(classifier(5), '1', baseURL!);
  const other = published(classifier(6), '2', baseURL!);
  // A hash no bytes on the server have (and so no cache entry either).
  const unknown = createHash('sha256').update('not the model').digest('hex');
  await putRelease(collector.url, { model, stable });
  await installReleaseHelpers(page);
  const r = rel(page);
  // A manifest altered on the way (its Content-Digest no longer matches): nothing loads.
  const genuine = await fetch(releaseUrl(model));
  const digest = genuine.headers.get('content-digest')!;
  const altered = (await genuine.text()).replace(stable.sha256, other.sha256).replace(stable.url, other.url);
  const tamper = () =>
    page.route(`${releaseUrl(model)}`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        headers: { 'content-digest': digest, 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Content-Digest' },
        body: altered,
      }),
    );
  await tamper();
  const refused = await page.evaluate(async (url) => {
    const { createRuntime } = await import('/dist/index.js');
    return createRuntime()
      .follow({ release: url, pollMs: 0 })
      .then(
        () => 'loaded',
        (e: { name: string; code: string }) => `${e.name} ${e.code}`,
      );
  }, releaseUrl(model));
  expect(refused).toBe('IntegrityError INTEGRITY');
  await page.unroute(`${releaseUrl(model)}`);
  // The genuine manifest loads; then a candidate whose bytes do not match its hash is refused.
  await r.open('c', collector.url, { release: releaseUrl(model), pollMs: 0 });
  await putRelease(collector.url, { model, stable, candidate: { ...other, version: '3', sha256: unknown, mode: 'canary', fraction: 1 } });
  await r.start('c');
  await r.refresh('c');
  await expect.poll(async () => (await r.status('c'))!.candidate?.state, { timeout: 30_000 }).toBe('refused');
  const status = (await r.status('c'))!;
  expect(status.lastError?.code).toBe('INTEGRITY');
  expect(status.incidents[0]).toMatchObject({ rule: 'integrity', candidate: '3', evidence: { code: 'INTEGRITY', expected: unknown, actual: other.sha256 } });
  await expect.poll(async () => (await incidents(collector.url, model)).map((i) => i.rule)).toEqual(['integrity']);
  // Later polls meet a tampered manifest: refused again, and stable keeps serving throughout.
  await tamper();
  const refreshed = (await r.refresh('c'))!;
  expect(refreshed.polls).toBe(status.polls + 1);
  expect(refreshed.lastError).toMatchObject({ code: 'INTEGRITY', message: expect.stringContaining('Content-Digest') });
  const tally = await r.stop('c');
  expect((await r.status('c'))!).toMatchObject({ stable: '1', serving: '1', lastError: { code: 'INTEGRITY' } });
  expect(tally.failed).toEqual([]);
  expect(Object.keys(tally.versions)).toEqual(['1']);
  expect(tally.ok).toBeGreaterThan(0);
});
