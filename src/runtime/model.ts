/**
 * A loaded model, as the main thread sees it: `run`, `info`, `dispose`. All work happens in the
 * worker; this object only moves tensors (transferred, not copied) and requests.
 */
import type { Remote } from 'comlink';
import { AbortError, DisposedError, InputError } from '../errors';
import { toPlainTensor, transferable } from '../tensors';
import type { ModelInfo, RunOptions, TensorLike, TensorMap } from '../types';
import type { WorkerApi } from '../worker/api';
import type { RunReply } from '../worker/protocol';
import { transfer } from 'comlink';
import type { LatencyMetric, SeriesAttributes, Telemetry, TelemetryStats } from '../telemetry';

/** Counters and timings of the most recent run (see {@link Model.lastRun}). */
export type RunStats = Pick<RunReply, 'counters' | 'timings'> & {
  /** Milliseconds from `run()` to its result, as the caller saw it. */
  totalMs: number;
};

/** @internal What a model needs from its runtime. */
export interface ModelHost {
  worker: Remote<WorkerApi>;
  telemetry: Telemetry;
  nextRequestId(): string;
  onDispose(m: Model): void;
}

/** A model loaded by `runtime.load`. */
export class Model {
  /** Inputs, outputs, chosen backend and why, adapter, load timings. */
  readonly info: ModelInfo;
  /** Stats of the last successful run, or `null` before the first. */
  lastRun: RunStats | null = null;
  private disposed = false;
  private readonly attrs: SeriesAttributes;

  /** @internal Created by the runtime. */
  constructor(info: ModelInfo, private readonly host: ModelHost) {
    this.info = info;
    this.attrs = seriesAttributes(info);
    const t = host.telemetry;
    t.record('load.download', info.loadTimings.fetchMs, this.attrs);
    t.record('load.compile', info.loadTimings.compileMs, this.attrs);
  }

  /**
   * Local latency percentiles (ms) of this model since it loaded: `metric` `'run'` (default; the
   * whole call as you see it) or a phase (`'run.queue'`, `'run.transfer'`, `'run.ort'`,
   * `'run.kernels'`, `'run.readback'`, `'load.*'`), plus error counts by code.
   */
  stats(metric: LatencyMetric = 'run'): TelemetryStats {
    return this.host.telemetry.stats({ metric, modelSha256: this.attrs.modelSha256, backend: this.attrs.backend });
  }

  /**
   * Runs the model. Feeds are `{type, dims, data}` objects or `ort.Tensor`s keyed by input name.
   * Their buffers are **transferred** to the worker (your arrays are detached afterwards); pass
   * copies if you reuse them. Requests to one model run one at a time, in order.
   * @throws {@link InputError} for missing/unknown inputs or wrong dtype/shape; the model keeps serving.
   */
  async run(feeds: Record<string, TensorLike | object>, options: RunOptions = {}): Promise<TensorMap> {
    if (this.disposed) throw new DisposedError(`Model ${this.info.id} is disposed; load it again with runtime.load().`, { modelId: this.info.id });
    const { signal } = options;
    if (signal?.aborted) throw new AbortError();
    if (typeof feeds !== 'object' || feeds === null) throw new InputError(`run() takes an object of named tensors, and got ${String(feeds)}.`);
    const plain: TensorMap = {};
    for (const [name, t] of Object.entries(feeds)) {
      plain[name] = toPlainTensor(name, t);
      if ((plain[name]!.data?.buffer as { detached?: boolean } | undefined)?.detached === true) {
        throw new InputError(`Input "${name}" has a detached buffer: an earlier run() transferred it to the worker. Pass a fresh array (or a copy) per run.`, { input: name });
      }
    }
    const { tensors, transfer: list } = transferable(plain);
    const requestId = this.host.nextRequestId();
    const t0 = performance.now();
    let result: RunReply;
    try {
      const reply = this.host.worker.run(this.info.id, requestId, transfer(tensors, list));
      result = await withAbort(reply, signal, () => void this.host.worker.cancel(requestId));
    } catch (err) {
      this.host.telemetry.recordError((err as { code?: string }).code ?? 'INTERNAL', this.attrs);
      throw err;
    }
    const totalMs = performance.now() - t0;
    this.record(totalMs, result.timings);
    this.lastRun = { counters: result.counters, timings: result.timings, totalMs };
    return result.outputs;
  }

  private record(totalMs: number, t: RunReply['timings']): void {
    const rec = this.host.telemetry.record;
    if (this.lastRun === null) rec('load.first_run', totalMs, this.attrs);
    rec('run', totalMs, this.attrs);
    rec('run.queue', t.queueMs, this.attrs);
    rec('run.transfer', Math.max(0, totalMs - t.queueMs - t.runMs), this.attrs);
    rec('run.ort', t.ortMs, this.attrs);
    if (t.kernelsMs > 0) rec('run.kernels', t.kernelsMs, this.attrs);
    rec('run.readback', t.readbackMs, this.attrs);
  }

  /** Frees the model's sessions and GPU memory in the worker. Later `run` calls throw {@link DisposedError}. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.host.onDispose(this);
    await this.host.worker.disposeModel(this.info.id);
  }
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
