/**
 * A loaded model, as the main thread sees it: `run`, `generate`, `info`, `stats`, `dispose`. Requests go through the model's serving layer (src/serving/: queue, deadlines,
 * batching, replicas); all inference happens in Workers.
 */
import { AbortError, DisposedError, InputError } from '../errors';
import type { RunCounters, RunPhases, RunReply, RunStrategy } from '../protocol';
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

/** Counters and timings of one run (see {@link ModelStats.lastRun}). */
export interface RunStats {
  /** How much crossed the CPU↔GPU boundary and what ran. */
  counters: RunCounters;
  /**
   * Milliseconds the request waited behind earlier runs of the same model in its Worker (`queueMs`),
   * ran (`runMs`), and of that, spent in ORT, encoding webq8's kernels, and reading outputs back.
   */
  timings: { queueMs: number; runMs: number } & RunPhases;
  /** Which plan ran it, for models that choose their plan per shape class (`strategy: 'auto'`). */
  strategy?: RunStrategy;
  /** Milliseconds from `run()` to its result, as the caller saw it. */
  totalMs: number;
  /** Which replica served it (`'0'` for the first). */
  replica: string;
  /** How many requests shared its dispatch (1 without batching). */
  batchSize: number;
  /** The model version that served it, when known (always for releases). */
  version?: string;
}

/** Queueing gauges of a model plus its replicas (see {@link ModelStats.serving}). */
export interface ServingStats extends GaugeSnapshot {
  /** Live replicas: dispatches each completed and its smoothed service time (ms; null before its first). */
  replicas: { id: string; backend: Backend; dispatches: number; serviceMs: number | null }[];
  /** Whether requests are merged into batches. */
  batching: boolean;
}

/** Everything a model tells about itself while it serves: the result of {@link Model.stats}. */
export interface ModelStats {
  /**
   * Local percentiles (ms) and error counts of this model since it loaded, per metric: `run` (the
   * whole call as you see it), its phases (`run.queue`, `run.transfer`, `run.ort`, `run.kernels`,
   * `run.readback`, `run.gpu`), `generate.*` and `load.*`; `count` is 0 for a metric without samples.
   * A release's figures cover all its versions (filter by version through `runtime.stats()` for one).
   */
  readonly latency: Readonly<Record<LatencyMetric, TelemetryStats>>;
  /**
   * Queueing gauges over the last seconds: arrival rate λ, mean time in system W, mean number in
   * system L (Little's law: L ≈ λ·W), queue length, service time, utilization ρ, requests shed by
   * reason, dispatches by batch size, and the replicas.
   */
  readonly serving: ServingStats;
  /** The SLO state (`serving.slo` at load), or `null` without an SLO. See docs/operations.md "Serving under load". */
  readonly health: Health | null;
  /**
   * The last run that completed successfully (with concurrent runs: the one that finished last, not
   * the one started last), or `null` before the first.
   */
  readonly lastRun: Readonly<RunStats> | null;
  /** Figures of the last `generate` answer that finished (counters prove the bytes read back per token), or `null`. */
  readonly lastGeneration: Readonly<GenerateStats> | null;
  /**
   * With `verify: { sampleRate }`: the sampled runs checked in service against ORT's WASM EP
   * (checked, agreed, diverged, dropped, pending, the worst metric), as of the last answer.
   */
  readonly verify?: ServiceVerifyStats;
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

/** Every latency series, in the order `ModelStats.latency` lists them. */
const METRICS: readonly LatencyMetric[] = [
  'run',
  'run.queue',
  'run.transfer',
  'run.ort',
  'run.kernels',
  'run.readback',
  'run.gpu',
  'generate.ttft',
  'generate.tpot',
  'generate.tokens',
  'generate.busy',
  'generate.busy_per_1k_tokens',
  'load.download',
  'load.verify',
  'load.compile',
  'load.first_run',
];

/**
 * A model loaded by `runtime.load`: `run` and `generate` it, read `info` and `stats()`, `dispose` it.
 * Requests go through the model's serving layer (queue, deadlines, batching, replicas); all
 * inference happens in Workers.
 */
export class Model {
  private lastRun: Readonly<RunStats> | null = null;
  private lastGeneration: Readonly<GenerateStats> | null = null;
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
   * release, those of the stable version now (see `ReleasedModel.release()`).
   */
  get info(): ModelInfo {
    return this.server.info?.() ?? this.server.replicas[0]?.info ?? this.firstInfo; // a replica's info follows its answers (verify in service)
  }

  /**
   * How the model does, in one snapshot: latency percentiles per metric, queueing gauges, SLO
   * health, and the last completed run and generation. Each call takes a new snapshot; the objects
   * it returns are read-only and never change afterwards.
   */
  stats(): ModelStats {
    const latency = Object.fromEntries(METRICS.map((metric) => [metric, this.latency(metric)])) as Record<LatencyMetric, TelemetryStats>;
    const serving: ServingStats = { ...this.server.snapshot(), replicas: this.server.replicaStats(), batching: this.server.batching };
    const verify = sumServiceVerify(this.server.replicas.map((r) => r.info)); // verify.sampleRate: sampled runs checked in service
    return Object.freeze({
      latency,
      serving,
      health: this.server.health(),
      lastRun: this.lastRun,
      lastGeneration: this.lastGeneration,
      ...(verify ? { verify } : {}),
    });
  }

  private latency(metric: LatencyMetric): TelemetryStats {
    if (this.server.release) return this.host.telemetry.stats({ metric, modelId: this.attrs.modelId });
    // Runs are labelled by the backend of the replica that served them: with replicas on several backends, all of them count.
    const backends = new Set(this.server.replicas.map((r) => r.backend));
    const backend = backends.size === 1 ? { backend: [...backends][0]! } : {};
    return this.host.telemetry.stats({ metric, modelSha256: this.attrs.modelSha256, ...backend });
  }

  /**
   * Calls `listener` when the SLO state changes (`ok` ↔ `warning` ↔ `breached`); returns the
   * unsubscribe function. Without an SLO it is never called.
   */
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
      this.lastRun = Object.freeze({
        counters: served.reply.counters,
        timings: served.reply.timings,
        totalMs,
        replica: served.replica,
        batchSize: served.batchSize,
        ...(version !== undefined ? { version } : {}),
        ...(served.reply.strategy ? { strategy: served.reply.strategy } : {}),
      });
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
   * queue; its steps take turns with that Worker's runs of this model. See docs/guide.md "Generating tokens".
   * @param inputIds - the prompt's token ids (an array, a typed array or a BigInt64Array).
   * @returns a {@link TokenStream}: `for await` the ids, `await stream.result` for the whole answer.
   * @throws `NotADecoderError` (not a decoder), {@link InputError} (bad ids or options),
   *   `ContextOverflowError` (prompt + maxNewTokens > maxContext), at once. The stream then fails with
   *   {@link AbortError} (`signal`), `DeadlineExceededError` (no first token within `deadlineMs`) or a
   *   run error.
   */
  generate(inputIds: ArrayLike<number> | BigInt64Array, options: GenerateOptions = {}): TokenStream {
    const replica = this._replica();
    const attrs = seriesAttributes(replica.info);
    return startGeneration(replica, this.host.nextRequestId, inputIds, options, (outcome) => {
      recordGeneration(this.host.telemetry, attrs, outcome);
      countServiceVerify(this.host.telemetry, replica, attrs); // a greedy generation may be sampled too
      if ('result' in outcome) this.lastGeneration = Object.freeze(outcome.result.stats);
    });
  }

  /**
   * @internal The replica `generate` and the advanced entry's `profile` go to: the first live one of
   * the version new runs go to (for a release, the version the manifest routes this client to, as
   * `run` does).
   */
  _replica(): ModelReplica {
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

/** @internal Plain tensors from the caller's feeds, refusing arrays an earlier run already transferred away. */
export function plainFeeds(feeds: Record<string, TensorLike | object>): TensorMap {
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
