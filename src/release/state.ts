/**
 * The state of one followed release on this client, read by the router (routing each run), the
 * follower (applying manifests) and the incident log. What is fixed at load is `readonly`; the
 * candidate is one state machine of its own ({@link CandidateMachine}, changed only through its
 * transitions); the rest is what the follower and router record as they go.
 */
import type { SeriesAttributes, Telemetry } from '../telemetry';
import type { ModelInfo, ModelRef, ReleaseIncident, ReleaseManifest, ReleaseStatus, TensorMap } from '../types';
import { AgreementTally } from './agreement';
import type { CandidateMachine } from './candidate';
import type { ReleaseStore } from './client-store';
import type { ShadowRunner } from './shadow';
import type { LoadedVersion, Slot } from './slot';

/** What the release layer needs from the runtime. */
export interface ReleaseDeps {
  /** Loads one version (verified download, compile) behind a server of its own; `dedicated`: in a Worker of its own. */
  loadVersion(ref: ModelRef & { url: string }, dedicated: boolean): Promise<LoadedVersion>;
  telemetry: Telemetry;
  /** Telemetry attributes of a loaded version. */
  attrsOf(info: ModelInfo): SeriesAttributes;
  /** Refuse manifests without a `Content-Digest`. */
  requireIntegrity?: boolean;
  store?: ReleaseStore;
  fetch?: typeof fetch;
  /** Sampling of shadow runs; default `Math.random`. */
  random?: () => number;
}

/** Everything a followed release holds. */
export interface ReleaseState {
  /** The manifest URL (absolute). */
  readonly url: string;
  manifest: ReleaseManifest;
  etag: string | null;
  stable: Slot;
  /** The manifest's candidate on this client: one tagged state, changed only by its transitions. */
  readonly candidate: CandidateMachine;
  readonly bucket: number;
  /** Versions this client rolled back (persisted): never adopted again. */
  readonly blocked: Set<string>;
  readonly tallies: Map<string, AgreementTally>;
  readonly incidents: ReleaseIncident[];
  lastError: ReleaseStatus['lastError'];
  lastRun: ReleaseStatus['lastRun'];
  polls: number;
  switches: number;
  /** A copy of recent real inputs, to warm a new version with. */
  recent: TensorMap | null;
  readonly shadow: ShadowRunner;
  readonly deps: ReleaseDeps;
  readonly pollMs: number;
  readonly shadowRate: number;
  readonly reportUrl: string | null;
  closed: boolean;
  /** Manifests are applied one at a time, in order. */
  applying: Promise<void>;
}

/** The tally of the current stable/candidate pair (created on first use). */
export function tallyOf(state: ReleaseState, candidate: string): AgreementTally {
  const key = `${state.stable.version.version}\n${candidate}`;
  let t = state.tallies.get(key);
  if (!t) state.tallies.set(key, (t = new AgreementTally(state.stable.version.version, candidate)));
  return t;
}

/** Records a failure to fetch or apply something; the release keeps serving. */
export function noteError(state: ReleaseState, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown } | null;
  state.lastError = { code: typeof e?.code === 'string' ? e.code : 'INTERNAL', message: String(e?.message ?? err), at: new Date().toISOString() };
}
