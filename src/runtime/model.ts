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

/** Counters and timings of the most recent run (see {@link Model.lastRun}). */
export type RunStats = Pick<RunReply, 'counters' | 'timings'> & {
  /** Milliseconds from `run()` to its result, as the caller saw it. */
  totalMs: number;
};

/** A model loaded by `runtime.load`. */
export class Model {
  /** Inputs, outputs, chosen backend and why, adapter, load timings. */
  readonly info: ModelInfo;
  /** Stats of the last successful run, or `null` before the first. */
  lastRun: RunStats | null = null;
  private disposed = false;

  /** @internal Created by the runtime. */
  constructor(
    info: ModelInfo,
    private readonly worker: Remote<WorkerApi>,
    private readonly nextRequestId: () => string,
    private readonly onDispose: (m: Model) => void,
  ) {
    this.info = info;
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
    const requestId = this.nextRequestId();
    const t0 = performance.now();
    const reply = this.worker.run(this.info.id, requestId, transfer(tensors, list));
    const result = await withAbort(reply, signal, () => void this.worker.cancel(requestId));
    this.lastRun = { counters: result.counters, timings: result.timings, totalMs: performance.now() - t0 };
    return result.outputs;
  }

  /** Frees the model's sessions and GPU memory in the worker. Later `run` calls throw {@link DisposedError}. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose(this);
    await this.worker.disposeModel(this.info.id);
  }
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
