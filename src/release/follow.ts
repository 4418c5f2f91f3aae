/**
 * Following a release: the manifest is polled (interval + ETag) and each change applied in order.
 * A new stable version is downloaded, verified, compiled and warmed in a Worker of its own before
 * one assignment switches new runs to it (blue-green); the old one is disposed when its last run has
 * left. A promotion whose candidate this client already runs needs no load at all. A candidate is
 * loaded the same way, in the background, and takes traffic only once warm and checked against the
 * stable version's inputs and outputs. Whatever fails, the version serving now keeps serving.
 */
import { ContentLengthError, IntegrityError, ReleaseManifestError } from '../errors';
import type { ReleaseCandidate, ReleaseManifest, ReleaseRule } from '../types';
import { fetchManifest } from './fetch-manifest';
import { refuse } from './incidents';
import type { Loading } from './candidate';
import { incompatibility, loadSlot, retire, warm, type Slot } from './slot';
import { noteError, type ReleaseState } from './state';
import { assertVerified } from './verify-gate';

/** Fetches the manifest now and applies it if it changed. Never rejects; failures land in `lastError`. */
export function poll(state: ReleaseState): Promise<void> {
  state.applying = state.applying.then(async () => {
    if (state.closed) return;
    state.polls++;
    try {
      const { deps } = state;
      const got = await fetchManifest(state.url, { etag: state.etag, requireIntegrity: deps.requireIntegrity, fetch: deps.fetch, store: deps.store });
      if (got === 'unchanged') return applyCandidate(state);
      await applyManifest(state, got.manifest);
      state.etag = got.etag;
    } catch (err) {
      noteError(state, err);
    }
  });
  return state.applying;
}

/** Polls every `pollMs` until the release is disposed (a poll never overlaps the next). */
export function startPolling(state: ReleaseState, timers: { set: (fn: () => void, ms: number) => unknown }): void {
  if (state.pollMs <= 0) return;
  const tick = () => timers.set(() => void poll(state).then(() => !state.closed && tick()), state.pollMs);
  tick();
}

/** Applies a manifest: stable first (a failure keeps everything as it was), then the candidate. */
export async function applyManifest(state: ReleaseState, next: ReleaseManifest): Promise<void> {
  if (next.model !== state.manifest.model) {
    throw new ReleaseManifestError(
      `The release manifest at ${state.url} now names model "${next.model}", not "${state.manifest.model}". A release URL follows one model; load the other one separately.`,
      {
        url: state.url,
        field: 'model',
      },
    );
  }
  await applyStable(state, next);
  state.manifest = next;
  applyCandidate(state);
}

async function applyStable(state: ReleaseState, next: ReleaseManifest): Promise<void> {
  const current = state.stable;
  if (next.stable.version === current.version.version) return;
  // Promotion of the candidate this client already runs: it is loaded and warm. The same object,
  // relabelled: runs in flight hold it.
  let slot = state.candidate.promote(next.stable);
  if (slot) slot.version = next.stable;
  else {
    slot = await loadSlot(state.deps.loadVersion, next.model, next.stable, true, state.deps.store);
    try {
      const why = incompatibility(current.info, slot.info);
      if (why)
        throw new ReleaseManifestError(`Stable version ${next.stable.version} cannot replace ${current.version.version}: ${why}.`, {
          url: state.url,
          field: 'stable',
        });
      await warm(slot, state.recent);
    } catch (err) {
      retire(slot);
      throw err;
    }
  }
  // The switch: runs submitted from here on go to the new version; those in flight finish on the old.
  state.stable = slot;
  state.switches++;
  retire(current);
}

/**
 * Brings the candidate in line with the manifest: drops one the manifest no longer names (or whose
 * cohort this client left), and starts loading one it names that this client should run and has
 * not loaded, refused or rolled back.
 */
export function applyCandidate(state: ReleaseState): void {
  const next = state.manifest.candidate;
  const eligible = next !== undefined && (next.mode === 'shadow' ? next.fraction > 0 : state.bucket < next.fraction);
  const { load } = state.candidate.follow(next, eligible, state.blocked);
  if (next && load) void loadCandidate(state, next, load);
}

async function loadCandidate(state: ReleaseState, next: ReleaseCandidate, from: Loading): Promise<void> {
  let slot: Slot | undefined;
  let rule: ReleaseRule = 'integrity';
  try {
    slot = await loadSlot(state.deps.loadVersion, state.manifest.model, next, true, state.deps.store);
    const why = incompatibility(state.stable.info, slot.info);
    rule = 'incompatible';
    if (why)
      throw new ReleaseManifestError(`Candidate ${next.version} cannot serve ${state.manifest.model}'s callers: ${why}.`, {
        url: state.url,
        field: 'candidate',
      });
    rule = 'numerics';
    assertVerified(next.version, slot.info); // a candidate that diverged from WASM at load is never promoted (verify-gate.ts)
    rule = 'warmup';
    await warm(slot, state.recent);
  } catch (err) {
    if (slot) retire(slot);
    noteError(state, err);
    if (state.closed) return;
    // Bytes that fail their hash, or a version that cannot serve, are refused; a network failure is retried at the next poll.
    const refused = slot !== undefined || err instanceof IntegrityError || err instanceof ContentLengthError;
    if (state.candidate.failed(from, refused) && refused) refuse(state, next.version, rule, err);
    return;
  }
  if (state.closed || !state.candidate.loaded(from, slot)) retire(slot);
}
