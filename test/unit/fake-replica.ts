// One scripted model replica for the serving and release unit tests: it computes `compute` on input
// `x` (rows flattened) and answers `y` of the same dims, at once, after `serviceMs` (of fake or real
// time), or when the test says (`state.hold`: finishNext, failNext, release). With `detach` it
// detaches its input like a transfer to a Worker does. Nothing here times anything.
import { vi } from 'vitest';
import type { RunReply } from '../../src/protocol';
import type { ModelReplica } from '../../src/serving/replica';
import type { ModelInfo, TensorMap } from '../../src/types';

/** See the module comment. */
export interface FakeReplica extends ModelReplica {
  /** Every run, in order: its request id, its feeds, and its input `x` as read before detaching. */
  calls: { requestId: string; feeds: TensorMap; x: number[] }[];
  /** `hold`: new runs wait for the test; `disposed`: after `dispose()`. */
  state: { hold: boolean; disposed: boolean };
  /** Runs waiting for the test. */
  readonly pending: number;
  /** Answers the oldest waiting run (with `outputs`, or `compute` on its input). */
  finishNext(outputs?: TensorMap): void;
  /** Rejects the oldest waiting run. */
  failNext(err: unknown): void;
  /** Answers every waiting run. */
  release(): void;
}

/** Options of {@link fakeReplica}. */
export interface FakeReplicaOptions {
  id?: string;
  /** y = compute(x); default: x doubled. */
  compute?: (x: number[]) => number[];
  /** Answer each run after this many ms (setTimeout: fake timers apply) instead of holding it. */
  serviceMs?: number;
  /** Hold runs until the test answers them (the default without `serviceMs`). */
  hold?: boolean;
  /** Detach the input's buffer, like a transfer to a Worker. */
  detach?: boolean;
}

/** A run's reply with the counters and timings of one ORT segment. */
export function fakeReply(outputs: TensorMap): RunReply {
  return {
    outputs,
    counters: { uploads: 0, readbacks: 0, ortSegments: 1, kernelDispatches: 0, submits: 0, bindGroups: 0 },
    timings: { queueMs: 0, runMs: 1, ortMs: 1, kernelsMs: 0, readbackMs: 0 },
  };
}

/** See the module comment. */
export function fakeReplica(options: FakeReplicaOptions = {}): FakeReplica {
  const compute = options.compute ?? ((x) => x.map((v) => v * 2));
  const waiting: { resolve(r: RunReply): void; reject(e: unknown): void; x: number[]; dims: number[] }[] = [];
  const answer = (x: number[], dims: number[]): TensorMap => ({ y: { type: 'float32', dims: [...dims], data: Float32Array.from(compute(x)) } });
  const r: FakeReplica = {
    id: options.id ?? '0',
    backend: 'wasm',
    info: { id: 'm1', backend: { backend: 'wasm' } } as ModelInfo,
    calls: [],
    state: { hold: options.hold ?? options.serviceMs === undefined, disposed: false },
    get pending() {
      return waiting.length;
    },
    run(requestId, feeds) {
      const data = feeds.x!.data as Float32Array;
      const x = [...(options.detach ? structuredClone(data, { transfer: [data.buffer as ArrayBuffer] }) : data)];
      const dims = [...feeds.x!.dims];
      r.calls.push({ requestId, feeds, x });
      return new Promise<RunReply>((resolve, reject) => {
        if (r.state.hold) waiting.push({ resolve, reject, x, dims });
        else setTimeout(() => resolve(fakeReply(answer(x, dims))), options.serviceMs ?? 0);
      });
    },
    finishNext(outputs) {
      const w = waiting.shift()!;
      w.resolve(fakeReply(outputs ?? answer(w.x, w.dims)));
    },
    failNext(err) {
      waiting.shift()!.reject(err);
    },
    release() {
      while (waiting.length > 0) r.finishNext();
    },
    generate: () => Promise.reject(new Error('not used')),
    profile: () => Promise.reject(new Error('not used')),
    cancel: () => undefined,
    dispose: vi.fn(async () => {
      r.state.disposed = true;
    }),
  };
  return r;
}
