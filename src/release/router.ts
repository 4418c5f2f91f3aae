/**
 * The release router: what a release `Model` runs through instead of a single `Server`. Each run is
 * routed by the manifest when it is submitted (a canary client to the candidate, everyone else to
 * stable), holds its version until it is answered, may be mirrored to the other version in the
 * shadow, and feeds the local rollback rules, which are checked as samples arrive.
 */
import type { ModelReplica } from '../serving/replica';
import type { Served, SubmitOptions } from '../serving/server';
import type { ModelInfo, ReleaseStatus, TensorMap } from '../types';
import { evaluateRelease } from '../isomorphic/evaluate.js';
import { poll } from './follow';
import { rollBack } from './incidents';
import { copyFeeds } from '../tensors';
import { enter, leave, type Slot } from './slot';
import { tallyOf, type ReleaseState } from './state';
import { divergedInService } from './verify-gate';

/** Where a run goes, and why (shown as `model.release().lastRun`). */
interface Route {
  slot: Slot;
  role: 'stable' | 'candidate';
  reason: string;
}

/** Routes one run by the manifest and this client's bucket. */
export function route(s: ReleaseState): Route {
  const stable = (reason: string): Route => ({ slot: s.stable, role: 'stable', reason });
  const m = s.manifest.candidate;
  if (!m) return stable('the manifest names no candidate');
  const v = m.version;
  const { state } = s.candidate.now;
  if (state === 'rolled-back' || state === 'refused') return stable(`candidate ${v} was ${state} on this client`);
  if (m.mode === 'shadow') return stable(`candidate ${v} is in shadow mode: it only mirrors runs`);
  const bucket = s.bucket.toFixed(4);
  if (s.bucket >= m.fraction) return stable(`this client's bucket ${bucket} ≥ canary fraction ${m.fraction}`);
  const ready = s.candidate.ready;
  if (!ready) return stable(`candidate ${v} is still loading`);
  return { slot: ready, role: 'candidate', reason: `this client's bucket ${bucket} < canary fraction ${m.fraction}` };
}

/** A release served as one model (see the module comment). */
export class ReleaseRouter {
  /** Samples (both versions and comparisons) at which the rules are evaluated next. */
  private nextCheck = 0;

  /** @internal Built by `loadRelease`. */
  constructor(
    private readonly state: ReleaseState,
    private readonly onDispose: () => void,
  ) {}

  /** Runs `feeds` on the version the manifest routes this client to; `onRoute` learns which, synchronously. */
  async submit(feeds: TensorMap, options: SubmitOptions & { onRoute?: (info: ModelInfo) => void } = {}): Promise<Served<ModelReplica>> {
    const s = this.state;
    const { slot, role, reason } = route(s);
    options.onRoute?.(slot.info);
    const mirror = this.mirrorTarget(role);
    // The user's buffers are transferred to the Worker: keep a copy to mirror and to warm new versions with
    // (the shadow run and the warm-up each transfer a copy of it, so it stays whole).
    const copy = mirror || s.recent === null ? copyFeeds(feeds) : null;
    if (copy) s.recent = copy;
    enter(slot);
    try {
      const served = await slot.server.submit(feeds, options);
      slot.stats.ok(served.reply.timings.runMs);
      s.lastRun = { version: slot.version.version, role, reason };
      if (mirror && copy) this.mirror(mirror, copy, served.outputs, role === 'candidate', slot);
      return served;
    } catch (err) {
      slot.stats.failed(err);
      throw err;
    } finally {
      leave(slot);
      this.check();
    }
  }

  /** The version a run of `role` is mirrored to, sampled: canary clients mirror back to stable. */
  private mirrorTarget(role: Route['role']): Slot | null {
    const s = this.state;
    const m = s.manifest.candidate;
    const ready = s.candidate.ready;
    if (!ready || !m) return null;
    const random = s.deps.random ?? Math.random;
    if (role === 'stable' && m.mode === 'shadow') return random() < m.fraction ? ready : null;
    if (role === 'candidate') return random() < s.shadowRate ? s.stable : null;
    return null;
  }

  private mirror(target: Slot, feeds: TensorMap, served: TensorMap, targetIsStable: boolean, servedBy: Slot): void {
    const s = this.state;
    const candidate = targetIsStable ? servedBy.version.version : target.version.version;
    const job = { target, feeds, served, targetIsStable, tally: tallyOf(s, candidate), done: () => this.check() };
    s.shadow.offer(job, servedBy.server.snapshot().queueLength > 0);
  }

  /** Evaluates the local rules as samples arrive (at 1 % growth steps, so the cost stays flat). */
  private check(): void {
    const s = this.state;
    const c = s.candidate.ready;
    const m = s.manifest.candidate;
    if (!c || !m || c.version.version !== m.version) return;
    const diverged = divergedInService(c); // verify.sampleRate found it wrong on this device (verify-gate.ts)
    if (diverged) return rollBack(s, 'numerics', diverged);
    const tally = tallyOf(s, m.version);
    const samples = s.stable.stats.samples + c.stats.samples + tally.counts().compared;
    if (samples < this.nextCheck) return;
    this.nextCheck = samples + Math.max(1, Math.floor(samples / 100));
    const candidate = { ...c.stats.of(m.version), agreement: tally.counts() };
    const d = evaluateRelease(s.manifest.rules, { stable: s.stable.stats.of(s.stable.version.version), candidate });
    if (d.decision === 'rollback' && d.rule) rollBack(s, d.rule, d.evidence);
  }

  /** The serving layer new runs go to now (its gauges stand for the model's). */
  private get serving(): Slot['server'] {
    return route(this.state).slot.server;
  }

  /** Queueing gauges of the version new runs go to. */
  snapshot(): ReturnType<Slot['server']['snapshot']> {
    return this.serving.snapshot();
  }

  /** Replicas of the version new runs go to. */
  replicaStats(): ReturnType<Slot['server']['replicaStats']> {
    return this.serving.replicaStats();
  }

  /** Whether the version new runs go to batches requests. */
  get batching(): boolean {
    return this.serving.batching;
  }

  /** SLO state of the version new runs go to. */
  health(): ReturnType<Slot['server']['health']> {
    return this.serving.health();
  }

  /** SLO tracker of the version new runs go to. */
  get slo(): Slot['server']['slo'] {
    return this.serving.slo;
  }

  /** Live replicas of the version new runs go to. */
  get replicas(): Slot['server']['replicas'] {
    return this.serving.replicas;
  }

  /** The stable version's model info. */
  info(): ModelInfo {
    return this.state.stable.info;
  }

  /** What the release is doing (see {@link ReleaseStatus}). */
  release(): ReleaseStatus {
    const s = this.state;
    const m = s.manifest.candidate;
    return {
      model: s.manifest.model,
      stable: s.stable.version.version,
      serving: route(s).slot.version.version,
      candidate: m ? { version: m.version, mode: m.mode, fraction: m.fraction, state: s.candidate.publicState } : null,
      lastRun: s.lastRun && { ...s.lastRun },
      bucket: s.bucket,
      agreement: [...s.tallies.values()].map((t) => t.stats()),
      incidents: s.incidents.map((i) => ({ ...i, evidence: { ...i.evidence } })),
      lastError: s.lastError && { ...s.lastError },
      polls: s.polls,
      switches: s.switches,
      etag: s.etag,
    };
  }

  /** Fetches the manifest now and applies it (never rejects; see `lastError`). */
  refresh(): Promise<void> {
    return poll(this.state);
  }

  /** Stops polling and disposes every version; queued runs reject with `DisposedError`. */
  async dispose(): Promise<void> {
    const s = this.state;
    if (s.closed) return;
    s.closed = true;
    this.onDispose();
    const ready = s.candidate.ready;
    const slots = [s.stable, ...(ready ? [ready] : [])];
    await Promise.all(slots.map((slot) => ((slot.retired = true), slot.server.dispose().catch(() => undefined))));
  }
}
