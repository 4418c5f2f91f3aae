/**
 * A replica is one copy of a model in one Worker. The server keeps at most one dispatch (a request
 * or a batch) in flight per replica, so it always knows when each will be free, and routes each
 * dispatch to the replica expected to finish it first: an idle replica finishes after its own
 * service time; a busy one after what is left of its current dispatch plus its service time. A slow
 * replica (WASM next to a GPU, or a fallback adapter) therefore only takes work when the fast one
 * would finish later — hardware-aware routing from measurements, not from assumptions.
 */
import type { GenerateReply, GenerateRequest, RunProfile, RunReply, TokenEvent } from '../protocol';
import type { Backend, ModelInfo, TensorMap } from '../types';

/** What the server needs from a replica. */
export interface Replica {
  /** Stable label, e.g. `'0'`. */
  readonly id: string;
  readonly backend: Backend;
  /** Runs one dispatch; rejects with a `WorkerError` when the replica's Worker died. */
  run(requestId: string, feeds: TensorMap): Promise<RunReply>;
  /** Frees the replica's copy of the model (and its Worker, if it owns one). */
  dispose(): Promise<void>;
}

/**
 * A replica as the runtime makes them (src/runtime/worker-replica.ts): every verb of the model
 * reaches the same copy through it, so `generate` and `profile` go where `run` goes.
 */
export interface ModelReplica extends Replica {
  /** The replica's model as loaded now (its `id` changes when its Worker is rebuilt). */
  readonly info: ModelInfo;
  generate(requestId: string, request: GenerateRequest, onTokens: (event: TokenEvent) => void): Promise<GenerateReply>;
  profile(feeds: TensorMap): Promise<RunProfile>;
  /** Cancels a request of this replica (a run still queued in the Worker, a generation); never rejects. */
  cancel(requestId: string): void;
}

/** A replica with its scheduling state. */
export interface ReplicaSlot<R extends Replica = Replica> {
  replica: R;
  /** `performance.now()` when its current dispatch started; null when idle. */
  busySince: number | null;
  /** Smoothed milliseconds per dispatch (null until measured). */
  serviceMs: number | null;
  /** Dispatches it completed. */
  dispatches: number;
}

/** Weight of the newest sample in the smoothed service time. */
const EWMA = 0.2;

/** Folds a measured dispatch time into the slot's estimate. */
export function observeService(slot: ReplicaSlot, ms: number): void {
  slot.dispatches++;
  slot.serviceMs = slot.serviceMs === null ? ms : slot.serviceMs + EWMA * (ms - slot.serviceMs);
}

/**
 * The idle slot to dispatch to now, or null when every slot is busy or some busy slot is expected
 * to finish the next dispatch sooner than any idle one (then the server waits for it).
 */
export function pickSlot<S extends ReplicaSlot>(slots: readonly S[], now: number): S | null {
  const known = slots.map((s) => s.serviceMs).filter((v): v is number => v !== null);
  // Unmeasured replicas are assumed as fast as the fastest measured one, so each gets tried.
  const guess = known.length > 0 ? Math.min(...known) : 0;
  let best: S | null = null;
  let bestDone = Infinity;
  let bestBusyDone = Infinity;
  for (const s of slots) {
    const service = s.serviceMs ?? guess;
    if (s.busySince === null) {
      if (service < bestDone) [best, bestDone] = [s, service];
    } else {
      const left = Math.max(0, service - (now - s.busySince));
      bestBusyDone = Math.min(bestBusyDone, left + service);
    }
  }
  return best && bestDone <= bestBusyDone ? best : null;
}
