// Verification in service as the fleet sees it (collector/verify-view.mjs): the collector folds the
// webq8.verify.* counters of real telemetry bodies (webq8's own recorder and encoder) by model,
// version, adapter and browser, takes incidents over HTTP (validated field by field; seeded
// mutations of a valid one never crash it or get stored malformed), shows both on its dashboard,
// and restores both from its journals after a restart. The browser side is
// test/browser/verify-telemetry.spec.ts.
import { describe, expect, it } from 'vitest';
import { promLabels } from '../../../collector/fleet-state.mjs';
import { readVerifyIncident } from '../../../collector/verify-view.mjs';
import { encodeMetrics } from '../../../src/telemetry/encode.js';
import { createRecorder } from '../../../src/telemetry/recorder.js';
import type { VerifyIncident } from '../../../src/types';
import { prng } from '../telemetry/helpers.js';
import { collectorFixture, post } from './helpers.js';
import { mutate } from './mutate.js';

const fixture = collectorFixture('webq8-verify-view-');
const attrs = { modelId: 'mlp', modelVersion: '2', backend: 'webgpu', planStrategy: 'kernels' };
const device = { 'webq8.adapter.vendor': 'acme', 'webq8.adapter.architecture': 'gen7', 'webq8.browser': 'Chrome 156' };

/** One page's verification counters as webq8's recorder and encoder send them. */
function counters(checks: number, diverged: number, resource: Record<string, string>): string {
  const rec = createRecorder();
  rec.count('webq8.verify.checks', checks, attrs);
  rec.count('webq8.verify.agreements', checks - diverged, attrs);
  if (diverged) rec.count('webq8.verify.divergences', diverged, attrs, { 'webq8.output': 'y' });
  const [body] = encodeMetrics(rec.collect(), { resource: { 'webq8.version': '0.1.0', ...resource } });
  return body!;
}

const incident: VerifyIncident = {
  kind: 'verify',
  rule: 'numerics',
  scope: 'client',
  at: '2026-12-07T00:00:00.000Z',
  model: 'mlp',
  version: '2',
  output: 'y',
  metric: 'relL2',
  value: 0.41,
  tolerance: 0.03,
  backend: 'wasm',
  adapterVendor: 'acme',
  adapterArchitecture: 'gen7',
  browser: 'Chrome 156',
  checked: 3,
  diverged: 2,
};
const postIncident = (url: string, body: string) =>
  fetch(`${url}/api/verify/incidents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('collector: verification by device', () => {
  it('folds the counters by model, version, adapter and browser, keeps incidents, shows both, and restores both after a restart', async () => {
    const file = fixture.dataFile();
    let c = await fixture.start(file);
    expect((await post(c.url, counters(3, 2, device))).status).toBe(200);
    expect((await post(c.url, counters(5, 0, { ...device, 'webq8.adapter.vendor': 'other' }))).status).toBe(200);
    expect((await postIncident(c.url, JSON.stringify(incident))).status).toBe(202);
    const check = async () => {
      const doc = (await (await fetch(`${c.url}/api/verify`)).json()) as { rows: Record<string, unknown>[]; incidents: VerifyIncident[] };
      expect(doc.rows).toEqual([
        {
          model: 'mlp',
          version: '2',
          adapterVendor: 'acme',
          adapterArchitecture: 'gen7',
          browser: 'Chrome 156',
          checks: 3,
          agreements: 1,
          divergences: 2,
          dropped: 0,
        },
        {
          model: 'mlp',
          version: '2',
          adapterVendor: 'other',
          adapterArchitecture: 'gen7',
          browser: 'Chrome 156',
          checks: 5,
          agreements: 5,
          divergences: 0,
          dropped: 0,
        },
      ]);
      expect(doc.incidents).toHaveLength(1);
      expect(doc.incidents[0]).toMatchObject({ ...incident, at: expect.any(String) });
      const html = await (await fetch(`${c.url}/`)).text();
      expect(html).toContain('Verification against ORT WASM, by device');
      expect(html).toMatch(
        /<tr class="diverged"><td>mlp<\/td><td>2<\/td><td>acme<\/td><td>gen7<\/td><td>Chrome 156<\/td><td>3<\/td><td>1<\/td><td>2<\/td><td>66.7 %<\/td>/,
      );
      expect(html).toMatch(/<tr class="incident">.*<td>y<\/td><td>relL2 0.410 \(tolerance 0.03\)<\/td><td>acme gen7<\/td><td>Chrome 156<\/td><td>wasm<\/td>/);
    };
    await check();
    await c.stop('SIGKILL');
    c = await fixture.start(file);
    await check();
  });

  it('refuses malformed incidents with 400 and a reason; seeded mutations never crash it or store a malformed one', async () => {
    const c = await fixture.start();
    for (const bad of [
      { ...incident, value: 'x' },
      { ...incident, kind: 'release' },
      { ...incident, output: 'y'.repeat(300) },
      { ...incident, metric: 'cosine' },
      [],
    ]) {
      const res = await postIncident(c.url, JSON.stringify(bad));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/incident/);
    }
    const plain = await fetch(`${c.url}/api/verify/incidents`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(incident) });
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as { error: string }).error).toMatch(/content-type must be application\/json, got "text\/plain"/);
    const rand = prng(20261207);
    const text = JSON.stringify(incident);
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const body = mutate(text, rand);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
      const expected = parsed === undefined ? 400 : typeof readVerifyIncident(parsed) === 'string' ? 400 : 202;
      expect((await postIncident(c.url, body)).status).toBe(expected);
      if (expected === 202) accepted++;
    }
    const { incidents } = (await (await fetch(`${c.url}/api/verify/incidents`)).json()) as { incidents: Record<string, unknown>[] };
    expect(incidents).toHaveLength(accepted);
    for (const i of incidents) expect(readVerifyIncident(i)).toMatchObject({ kind: 'verify', rule: 'numerics' });
  });

  it('labels webq8.verify.* series for Prometheus by adapter and browser besides model and version; other series by neither', () => {
    const wire = { 'webq8.model.id': 'mlp', 'webq8.model.version': '2', 'webq8.backend': 'webgpu', 'webq8.output': 'y', ...device };
    const names = (n: string) => Object.fromEntries(promLabels(n, wire).map((l) => [l.name, l.value]));
    expect(names('webq8_verify_divergences_total')).toEqual({
      __name__: 'webq8_verify_divergences_total',
      model: 'mlp',
      version: '2',
      backend: 'webgpu',
      output: 'y',
      adapter_vendor: 'acme',
      adapter_architecture: 'gen7',
      browser: 'Chrome 156',
    });
    expect(Object.keys(names('webq8_errors_total'))).not.toContain('browser');
  });
});
