/**
 * Verification in service (`verify: { sampleRate }`): a fraction of a model's production runs is
 * run again on a WASM reference session of the same bytes, and the answer the caller already got
 * is compared with it (src/worker/compare.ts). It never delays an answer: a sampled run keeps a
 * copy of its outputs (its feeds are the Worker's own, transferred in and not sent back) and waits
 * in a queue of at most `maxPending`; the engine checks one sample at a time as idle work of the
 * model (src/worker/idle.ts: only while no request of it is queued or running, as a turn of its
 * chain, so ORT's gate and a dispose see it). Under load the queue fills and new
 * samples are dropped (counted): verification is the first thing given up. The reference session
 * is created at the first check and released with the model; a divergence under
 * `onDiverge: 'fallback'` makes it the model's executor (src/worker/verify-idle.ts).
 */
import { copyFeeds } from '../tensors';
import type { ServiceVerifyStats, TensorLike, TensorMap, VerifiedOutput } from '../types';
import { compareTensor, describeComparison, FLOAT_TOLERANCE, QUANTIZED_TOLERANCE, worstPerOutput, type Comparison } from './compare';
import type { DecoderIo } from '../decoder-io';
import type { Executor } from './executor';
import { compareGeneration, teacherFeeds } from './verify-generate';
import { quantizesAtRunTime, wasmReference, type ResolvedVerify } from './verify';

/** One sampled production run or greedy generation: the reference's feeds, and how its answer is compared with the one the caller got. */
interface Sample {
  feeds: TensorMap;
  compare(want: Record<string, TensorLike>): Comparison[];
}

/** What one check found: null when the sample could not be checked (the reference failed). */
export interface Verdict {
  ok: boolean;
  /** Every output compared, the failed ones named in `reason`. */
  outputs: VerifiedOutput[];
  reason: string;
}

/** Samples, checks and counts the production runs of one model (see the module comment). */
export class ServiceVerifier {
  private readonly queue: Sample[] = [];
  private reference: Promise<Executor> | null = null;
  private readonly tally: ServiceVerifyStats;
  private readonly tolerance: number;
  /** Set while the engine has a check scheduled or running (one at a time). */
  busy = false;
  /** Bumped by every change of the counts; `sent` is the revision the last answer carried. */
  private revision = 0;
  private sent = 0;

  constructor(
    readonly bytes: Uint8Array,
    private readonly options: Pick<ResolvedVerify, 'sampleRate' | 'maxPending' | 'tolerance'>,
    private readonly random: () => number = Math.random,
    private readonly makeReference: (bytes: Uint8Array) => Promise<Executor> = wasmReference,
  ) {
    this.tolerance = options.tolerance ?? (quantizesAtRunTime(bytes) ? QUANTIZED_TOLERANCE : FLOAT_TOLERANCE);
    this.tally = { sampleRate: options.sampleRate, checked: 0, agreed: 0, diverged: 0, dropped: 0, pending: 0, worst: null, divergedOutputs: {} };
  }

  /** Draws whether this run is verified; if so keeps its feeds and a copy of its outputs (or drops it when the queue is full). */
  offer(feeds: TensorMap, outputs: Readonly<Record<string, TensorLike>>): void {
    if (!this.admit()) return;
    const got = copyFeeds(outputs);
    const compare = (want: Record<string, TensorLike>) =>
      Object.entries(want).map(([name, w]): Comparison => {
        const g = got[name];
        return g ? compareTensor(name, g, w, this.tolerance) : { name, metric: 'shape', value: 1, tolerance: 0, step: 0, ok: false };
      });
    this.queue.push({ feeds, compare });
  }

  /** Draws whether a finished greedy generation is verified (src/worker/verify-generate.ts); if so keeps its prompt and tokens. */
  offerGeneration(io: DecoderIo, prompt: readonly number[], tokens: readonly number[]): void {
    if (tokens.length === 0 || !this.admit()) return;
    const feeds = teacherFeeds(io, prompt, tokens);
    this.queue.push({ feeds, compare: (want) => [compareGeneration(want.logits, prompt.length, tokens, this.tolerance)] });
  }

  /** Draws at the sample rate; false when not drawn, or drawn and dropped (the queue is full). */
  private admit(): boolean {
    if (!(this.random() < this.options.sampleRate)) return false;
    this.revision++;
    if (this.queue.length < this.options.maxPending) return true;
    this.tally.dropped++;
    return false;
  }

  /**
   * Whether the counts changed since the last call that returned true: an answer carries them only
   * then, so an unsampled run pays no copy, no message bytes and no main-thread bookkeeping.
   */
  takeChanged(): boolean {
    if (this.sent === this.revision) return false;
    this.sent = this.revision;
    return true;
  }

  /** Whether a sample waits for a check. */
  get waiting(): boolean {
    return this.queue.length > 0;
  }

  /** The counts now. */
  stats(): ServiceVerifyStats {
    const t = this.tally;
    return { ...t, pending: this.queue.length, divergedOutputs: { ...t.divergedOutputs }, ...(t.lastDiverged ? { lastDiverged: { ...t.lastDiverged } } : {}) };
  }

  /** Checks the oldest sample against the reference (created now if it is the first); null when none waits or the reference failed. */
  async checkOne(): Promise<Verdict | null> {
    const sample = this.queue.shift();
    if (!sample) return null;
    this.revision++;
    let want: Record<string, TensorLike>;
    try {
      this.reference ??= this.makeReference(this.bytes);
      want = (await (await this.reference).run(sample.feeds)).outputs;
    } catch {
      this.tally.dropped++; // the reference could not answer: nothing to compare with
      this.revision++;
      return null;
    }
    return this.count(worstPerOutput(sample.compare(want)));
  }

  /** Counts one check's comparisons. */
  private count(outputs: Comparison[]): Verdict {
    const t = this.tally;
    t.checked++;
    this.revision++;
    for (const c of outputs) if (!t.worst || badness(c) > badness(t.worst)) t.worst = strip(c);
    const bad = outputs.filter((c) => !c.ok);
    if (bad.length === 0) {
      t.agreed++;
      return { ok: true, outputs: outputs.map(strip), reason: 'agreed' };
    }
    t.diverged++;
    for (const c of bad) t.divergedOutputs[c.name] = (t.divergedOutputs[c.name] ?? 0) + 1;
    const reason = `A sampled production run diverged from ORT's WASM EP on this device: ${bad.map(describeComparison).join('; ')}.`;
    t.lastDivergence = reason;
    t.lastDiverged = strip(bad.reduce((a, b) => (badness(b) > badness(a) ? b : a)));
    return { ok: false, outputs: outputs.map(strip), reason };
  }

  /** Notes what was done about the last divergence (e.g. the switch to WASM). */
  noteAction(text: string): void {
    this.tally.lastDivergence = `${this.tally.lastDivergence ?? ''} ${text}`.trim();
    this.revision++;
  }

  /** Hands the reference session over (the model is served from it from now on); the verifier no longer owns it. */
  async takeReference(): Promise<Executor | null> {
    const ref = this.reference;
    this.reference = null;
    return ref ? ref.catch(() => null) : null;
  }

  /** Drops what still waits (counted) and releases the reference session. */
  async dispose(): Promise<void> {
    this.tally.dropped += this.queue.length;
    this.queue.length = 0;
    this.revision++;
    const ref = await this.takeReference();
    await ref?.dispose();
  }
}

function badness(c: VerifiedOutput): number {
  return c.tolerance > 0 ? c.value / c.tolerance : c.value > 0 ? 2 ** 40 + c.value : 0;
}

function strip({ ok: _ok, ...c }: Comparison | (VerifiedOutput & { ok?: boolean })): VerifiedOutput {
  return c;
}
