/**
 * A loaded model, as the main thread sees it: `run`, `info`, `stats`, `serving`, `health`,
 * `dispose`. Requests go through the model's serving layer (src/serving/: queue, deadlines,
 * batching, replicas); all inference happens in Workers.
 */
import { AbortError, DisposedError, InputError } from '../errors';
import type { RunProfile, RunReply } from '../protocol';
import type { ModelReplica } from '../serving/replica';
import type { Server } from '../serving/server';
import { servingGauges } from '../serving/export';
import type { GaugeSnapshot } from '../serving/gauges';
import type { Health } from '../serving/slo';
import { toPlainTensor } from '../tensors';
import type { Backend, GenerateOptions, ModelInfo, ReleaseStatus, RunOptions, ServiceVerifyStats, TensorLike, TensorMap } from '../types';
import { countServiceVerify, sumServiceVerify } from './verify-follow';
import { recordGeneration } from './generate-telemetry';
import { startGeneration } from './generate';
import type { GenerateStats } from './generate-types';
import type { TokenStream } from './token-stream';
import type { LatencyMetric, SeriesAttributes, Telemetry, TelemetryStats } from '../telemetry';

/** Counters and timings of the most recent run (see {@link Model.lastRun}). */
export type RunStats = Pick<RunReply, 'counters' | 'timings' | 'strategy'> & {
  /** Milliseconds from `run()` to its result, as the caller saw it. */
  totalMs: number;
  /** Which replica served it (`'0'` for the first). */
  replica: string;
  /** How many requests shared its dispatch (1 without batching). */
  batchSize: number;
  /** The model version that served it, when known (always for releases). */
  version?: string;
};

/** Queueing gauges of a model plus its replicas (see {@link Model.serving}). */
export interface ServingStats extends GaugeSnapshot {
  /** Live replicas: dispatches each completed and its smoothed service time (ms; null before its first). */
  replicas: { id: string; backend: Backend; dispatches: number; serviceMs: number | null }[];
  /** Whether requests are merged into batches. */
  batching: boolean;
}

/**
 * @internal What a model runs through: one `Server`, or a release router in front of one per
 * version (src/release/), which also says which version each run went to (`onRoute`) and reports
 * its state (`release()`).
 */
export type ModelServer = Pick<Server<ModelReplica>, 'snapshot' | 'replicaStats' | 'batching' | 'health' | 'slo' | 'replicas' | 'dispose'> & {
  submit(feeds: TensorMap, options: Parameters<Server['submit']>[1] & { onRoute?: (info: ModelInfo) => void }): ReturnType<Server<ModelReplica>['submit']>;
  /** The current (stable) version's info, for servers whose version changes. */
  info?(): ModelInfo;
  release?(): ReleaseStatus;
  /** Fetches the release manifest now and applies it. */
  refresh?(): Promise<void>;
};

/** @internal What a model needs from its runtime. */
export interface ModelHost {
  telemetry: Telemetry;
  onDispose(m: Model): void;
  nextRequestId(): string;
}

/** A model loaded by `runtime.load`. */
export class Model {
  /** Stats of the last successful run, or `null` before the first. */
  lastRun: RunStats | null = null;
  /** Figures of the last finished `generate` answer (counters prove the bytes read back per token), or `null`. */
  lastGeneration: GenerateStats | null = null;
  private disposed = false;
  private readonly firstInfo: ModelInfo;
  private readonly attrs: SeriesAttributes;
  private readonly stopGauges: () => void;

  /** @internal Created by the runtime. */
  constructor(
    info: ModelInfo,
    private readonly host: ModelHost,
    private readonly server: ModelServer,
  ) {
    this.firstInfo = info;
    this.attrs = seriesAttributes(info);
    const t = host.telemetry;
    t.record('load.download', info.loadTimings.fetchMs, this.attrs);
    t.record('load.compile', info.loadTimings.compileMs, this.attrs);
    this.stopGauges = t.addGauges(() => servingGauges(server, seriesAttributes(this.info)));
  }

  /**
   * Inputs, outputs, chosen backend and why, adapter, load timings (of the first replica). For a
   * release, those of the stable version now (see {@link Model.release}).
   */
  get info(): ModelInfo {
    return this.server.info?.() ?? this.server.replicas[0]?.info ?? this.firstInfo; // a replica's info follows its answers (verify in service)
  }

  /**
   * For a model loaded with `runtime.load({ release })`: the stable and candidate versions, which
   * version served the last run and why, this client's canary bucket, shadow agreement per version
   * pair, incidents (rollbacks, refusals) and the last manifest error. `null` for other models.
   */
  release(): ReleaseStatus | null {
    return this.server.release?.() ?? null;
  }

  /**
   * For a release: fetches its manifest now (besides the `pollMs` interval, e.g. when your page learns
   * of a new release) and applies it — a new stable version is loaded and warmed before it takes over,
   * a new candidate starts loading. Resolves to the status afterwards; never rejects (failures are in
   * `lastError`). `null` for other models.
   */
  async refreshRelease(): Promise<ReleaseStatus | null> {
    await this.server.refresh?.();
    return this.release();
  }

  /**
   * Local latency percentiles (ms) of this model since it loaded: `metric` `'run'` (default; the
   * whole call as you see it) or a phase (`'run.queue'`, `'run.transfer'`, `'run.ort'`,
   * `'run.kernels'`, `'run.readback'`, `'load.*'`), plus error counts by code. A release's stats
   * cover all its versions (filter by version through `runtime.stats()` for one).
   */
  stats(metric: LatencyMetric = 'run'): TelemetryStats & { verify?: ServiceVerifyStats } {
    const verify = sumServiceVerify(this.server.replicas.map((r) => r.info)); // verify.sampleRate: sampled runs checked in service
    if (verify) return { ...this.latencyStats(metric), verify };
    return this.latencyStats(metric);
  }

  private latencyStats(metric: LatencyMetric): TelemetryStats {
    if (this.server.release) return this.host.telemetry.stats({ metric, modelId: this.attrs.modelId });
    // Runs are labelled by the backend of the replica that served them: with replicas on several backends, all of them count.
    const backends = new Set(this.server.replicas.map((r) => r.backend));
    const backend = backends.size === 1 ? { backend: [...backends][0]! } : {};
    return this.host.telemetry.stats({ metric, modelSha256: this.attrs.modelSha256, ...backend });
  }

  /**
   * Queueing gauges over the last seconds: arrival rate λ, mean time in system W, mean number in
   * system L (Little's law: L ≈ λ·W), queue length, service time, utilization ρ, requests shed by
   * reason, dispatches by batch size, and the replicas.
   */
  serving(): ServingStats {
    return { ...this.server.snapshot(), replicas: this.server.replicaStats(), batching: this.server.batching };
  }

  /** The SLO state (`serving.slo` at load), or `null` without an SLO. See README "Serving under load". */
  health(): Health | null {
    return this.server.health();
  }

  /** Calls `listener` when the SLO state changes (`ok` ↔ `warning` ↔ `breached`); returns the unsubscribe function. */
  onHealthChange(listener: (health: Health) => void): () => void {
    return this.server.slo?.onChange(listener) ?? (() => undefined);
  }

  /**
   * Runs the model. Feeds are `{type, dims, data}` objects or `ort.Tensor`s keyed by input name.
   * Their buffers are **transferred** to the worker (your arrays are detached afterwards) unless the
   * request is batched with others; pass copies if you reuse them. Requests queue in the model's
   * serving layer: interactive before background, each within its deadline, at most
   * `serving.maxQueue` waiting.
   * @throws {@link InputError} for missing/unknown inputs or wrong dtype/shape; the model keeps serving.
   * @throws `OverloadedError` when the queue is full, `DeadlineExceededError` when the deadline cannot
   *   be or was not met, {@link AbortError} when `signal` aborts.
   */
  async run(feeds: Record<string, TensorLike | object>, options: RunOptions = {}): Promise<TensorMap> {
    if (this.disposed) throw new DisposedError(`Model ${this.info.id} is disposed; load it again with runtime.load().`, { modelId: this.info.id });
    const { signal } = options;
    if (signal?.aborted) throw new AbortError();
    const plain = plainFeeds(feeds);
    const t0 = performance.now();
    // A release routes each run to one version: its latency and errors are that version's.
    let routed: ModelInfo | undefined;
    try {
      const onRoute = (info: ModelInfo) => void (routed = info);
      const submitted = this.server.submit(plain, { priority: options.priority, deadlineAt: deadlineOf(options, t0), signal, onRoute });
      const served = await withAbort(submitted, signal, () => undefined);
      const totalMs = performance.now() - t0;
      // Labelled by the replica that ran it: its version and backend (a WASM replica beside a WebGPU one is 'wasm').
      const attrs = seriesAttributes(served.by.info);
      this.record(totalMs, served.reply.timings, attrs);
      countServiceVerify(this.host.telemetry, served.by, attrs);
      const version = served.by.info.version;
      this.lastRun = {
        counters: served.reply.counters,
        timings: served.reply.timings,
        totalMs,
        replica: served.replica,
        batchSize: served.batchSize,
        ...(version !== undefined ? { version } : {}),
        ...(served.reply.strategy ? { strategy: served.reply.strategy } : {}),
      };
      return served.outputs;
    } catch (err) {
      this.host.telemetry.recordError((err as { code?: string }).code ?? 'INTERNAL', routed ? seriesAttributes(routed) : this.attrs);
      throw err;
    }
  }

  /**
   * Generates tokens from a decoder model (inputs `input_ids`, `attention_mask`, optional
   * `position_ids`, `past_key_values.{i}.key|value`; outputs `logits`, `present.{i}.key|value`, as
   * ONNX decoder exports name them). Ids in, ids out: no tokenizer. The KV cache stays where the model
   * runs (GPU buffers on WebGPU, the Worker on WASM) and the next token is picked there, so each
   * step sends one id back. Generation runs in the Worker of the first replica, outside the serving
   * queue; its steps take turns with that Worker's runs of this model. See README "Generating tokens".
   * @param inputIds - the prompt's token ids (an array, a typed array or a BigInt64Array).
   * @returns a {@link TokenStream}: `for await` the ids, `await stream.result` for the whole answer.
   * @throws `NotADecoderError` (not a decoder), {@link InputError} (bad ids or options),
   *   `ContextOverflowError` (prompt + maxNewTokens > maxContext), at once. The stream then fails with
   *   {@link AbortError} (`signal`), `DeadlineExceededError` (no first token within `deadlineMs`) or a
   *   run error.
   */
  generate(inputIds: ArrayLike<number> | BigInt64Array, options: GenerateOptions = {}): TokenStream {
    const replica = this.replica();
    const attrs = seriesAttributes(replica.info);
    return startGeneration(replica, this.host.nextRequestId, inputIds, options, (outcome) => {
      recordGeneration(this.host.telemetry, attrs, outcome);
      if ('result' in outcome) this.lastGeneration = outcome.result.stats;
    });
  }

  /**
   * Runs `feeds` once with every plan step timed to the end of its GPU work: ms per ORT segment and
   * per webq8 kernel step, the time between them (`boundaryMs`) and the readback. Each step waits
   * for the GPU, so a profiled run is slower than a plain one; use it to see where a run goes, not
   * to measure latency. It runs in the Worker of the model's first replica, in turn with its runs,
   * outside the serving queue; the feeds are copied, not transferred, and the outputs dropped.
   * @throws {@link InputError} for feeds the model does not take; the model keeps serving.
   */
  async profile(feeds: Record<string, TensorLike | object>): Promise<RunProfile> {
    return this.replica().profile(plainFeeds(feeds));
  }

  /**
   * The replica `generate` and `profile` go to: the first live one of the version new runs go to
   * (for a release, the version the manifest routes this client to, as `run` does).
   */
  private replica(): ModelReplica {
    if (this.disposed) throw new DisposedError(`Model ${this.info.id} is disposed; load it again with runtime.load().`, { modelId: this.info.id });
    const replica = this.server.replicas[0];
    if (!replica) throw new DisposedError(`Model ${this.info.id} has no live replica left; load it again with runtime.load().`, { modelId: this.info.id });
    return replica;
  }

  private record(totalMs: number, t: RunReply['timings'], attrs: SeriesAttributes): void {
    const rec = this.host.telemetry.record;
    if (this.lastRun === null) rec('load.first_run', totalMs, attrs);
    rec('run', totalMs, attrs);
    rec('run.queue', t.queueMs, attrs);
    rec('run.transfer', Math.max(0, totalMs - t.queueMs - t.runMs), attrs);
    rec('run.ort', t.ortMs, attrs);
    if (t.kernelsMs > 0) rec('run.kernels', t.kernelsMs, attrs);
    rec('run.readback', t.readbackMs, attrs);
  }

  /** Frees the model's sessions and GPU memory in every replica; queued runs reject with {@link DisposedError}. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.stopGauges();
    this.host.onDispose(this);
    await this.server.dispose();
  }
}

/** Plain tensors from the caller's feeds, refusing arrays an earlier run already transferred away. */
function plainFeeds(feeds: Record<string, TensorLike | object>): TensorMap {
  if (typeof feeds !== 'object' || feeds === null) throw new InputError(`run() takes an object of named tensors, and got ${String(feeds)}.`);
  const plain: TensorMap = {};
  for (const [name, t] of Object.entries(feeds)) {
    plain[name] = toPlainTensor(name, t);
    if ((plain[name]!.data?.buffer as { detached?: boolean } | undefined)?.detached === true) {
      throw new InputError(`Input "${name}" has a detached buffer: an earlier run() transferred it to the worker. Pass a fresh array (or a copy) per run.`, {
        input: name,
      });
    }
  }
  return plain;
}

/** The absolute `performance.now()` deadline of `options` (Infinity without one). */
function deadlineOf(options: RunOptions, now: number): number {
  let at = Infinity;
  if (options.deadlineMs !== undefined) at = Math.min(at, now + options.deadlineMs);
  if (options.deadline !== undefined) at = Math.min(at, now + (options.deadline - Date.now()));
  if (Number.isNaN(at)) throw new InputError('deadlineMs / deadline must be numbers (milliseconds).');
  return at;
}

/** Telemetry attributes of a model: labels and hash, backend — never inputs or outputs. */
export function seriesAttributes(info: ModelInfo): SeriesAttributes {
  const name = info.modelId ?? info.source.split(/[?#]/)[0]!.split('/').pop() ?? info.id;
  return {
    modelId: name,
    ...(info.version !== undefined ? { modelVersion: info.version } : {}),
    ...(info.sha256 ? { modelSha256: info.sha256 } : {}),
    backend: info.backend.backend,
    planStrategy: info.strategy?.strategy ?? 'ort',
  };
}

/** Resolves like `work`, or rejects with {@link AbortError} as soon as `signal` aborts (calling `onAbort`). */
export function withAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(new AbortError());
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
