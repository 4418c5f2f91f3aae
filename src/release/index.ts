/**
 * Safe model releases on the client (README "Releasing a new model version"): a versioned manifest
 * names a stable version and maybe a candidate; {@link loadRelease} serves stable, routes runs to
 * the candidate by a stable per-client hash (canary) or mirrors them to it (shadow), compares the
 * two, rolls back on the manifest's rules, and follows the manifest as it changes (blue-green
 * switches). It sits between `src/runtime` (which wraps the router in a `Model`) and `src/serving`
 * (one `Server` per loaded version).
 */
import type { ReleaseRef } from '../types';
import { CandidateMachine } from './candidate';
import { canaryBucket, clientIdOf, defaultReleaseStore, rolledBack } from './client-store';
import { fetchManifest } from './fetch-manifest';
import { applyCandidate, startPolling } from './follow';
import { releaseGauges } from './incidents';
import { ReleaseRouter } from './router';
import { ShadowRunner } from './shadow';
import { loadSlot } from './slot';
import type { ReleaseDeps, ReleaseState } from './state';

const DEFAULT_POLL_MS = 60_000;
const MIN_POLL_MS = 1_000;
const DEFAULT_SHADOW_RATE = 0.1;

/**
 * Loads the release at `url` (absolute): fetches and checks its manifest, loads the stable version
 * (the returned router serves it at once), starts the candidate in the background when this client
 * should run it, and polls the manifest every `ref.pollMs`.
 * @throws what fetching the manifest or loading stable throws (`ReleaseManifestError`,
 *   `IntegrityError`, `ModelLoadError`, …): without a stable version there is nothing to serve.
 */
export async function loadRelease(ref: ReleaseRef, url: string, deps: ReleaseDeps): Promise<ReleaseRouter> {
  const store = (deps = { ...deps, store: deps.store ?? defaultReleaseStore() }).store;
  const fetched = await fetchManifest(url, { requireIntegrity: deps.requireIntegrity, fetch: deps.fetch, store });
  if (fetched === 'unchanged') throw new Error('unreachable: the first fetch sends no ETag');
  const { manifest } = fetched;
  const clientId = typeof ref.clientId === 'string' && ref.clientId !== '' ? ref.clientId : await clientIdOf(store);
  const [bucket, blocked] = await Promise.all([canaryBucket(clientId, manifest.model), rolledBack(manifest.model, undefined, store)]);
  const stable = await loadSlot(deps.loadVersion, manifest.model, manifest.stable, false, store);
  const pollMs = ref.pollMs === 0 ? 0 : Math.max(MIN_POLL_MS, ref.pollMs ?? DEFAULT_POLL_MS);
  const state: ReleaseState = {
    url,
    manifest,
    etag: fetched.etag,
    stable,
    candidate: new CandidateMachine(),
    bucket,
    blocked: new Set(blocked),
    tallies: new Map(),
    incidents: [],
    lastError: null,
    lastRun: null,
    polls: 1,
    switches: 0,
    recent: null,
    shadow: new ShadowRunner(),
    deps,
    pollMs,
    shadowRate: Math.min(1, Math.max(0, ref.shadowRate ?? DEFAULT_SHADOW_RATE)),
    reportUrl: ref.reportUrl === false ? null : (ref.reportUrl ?? `${url.replace(/[?#].*$/, '').replace(/\/$/, '')}/incidents`),
    closed: false,
    applying: Promise.resolve(),
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopGauges = deps.telemetry.addGauges(() => releaseGauges(state));
  const router = new ReleaseRouter(state, () => (stopGauges(), clearTimeout(timer)));
  applyCandidate(state);
  startPolling(state, { set: (fn, ms) => (timer = setTimeout(fn, ms)) });
  return router;
}
