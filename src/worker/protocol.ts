/**
 * The wire between the main thread and the worker: message payload types and the comlink
 * `"throw"` handler that keeps webq8's error classes (name, code, details) intact. Comlink's
 * default handler sends only `{name, message, stack}`, so `instanceof` and `code` would be lost.
 */
import { transferHandlers } from 'comlink';
import { deserializeError, serializeError, type SerializedError } from '../errors';
import type { BackendRequest, LoadOptions, LoadPhase, ModelInfo, StrategyRequest, TensorMap } from '../types';
import type { RunCounters, RunPhases } from './executor';
import type { OrtConfig } from './ort';

/** Sent once when the worker starts. */
export type WorkerConfig = OrtConfig;

/** Where the model bytes come from. URLs are fetched (or read from the cache) inside the worker. */
export type WireSource =
  | { kind: 'url'; url: string; sha256?: string; size?: number; id?: string; version?: string }
  | { kind: 'manifest'; url: string }
  | { kind: 'bytes'; bytes: Uint8Array; label?: string };

/** `runtime.load` as the worker receives it. */
export interface LoadRequest {
  requestId: string;
  source: WireSource;
  backend: BackendRequest;
  /** Kernels-vs-ORT plan strategy (see LoadOptions.strategy). */
  strategy?: StrategyRequest;
  cache?: 'default' | 'refresh' | 'bypass';
  requireIntegrity?: boolean;
  /** Upper bound on the bytes the weight cache may hold. */
  cacheMaxBytes?: number;
  /** Load-time warm-up (see LoadOptions.warmup). */
  warmup?: LoadOptions['warmup'];
}

/** Progress events forwarded from the worker. */
export interface WireProgress {
  phase: LoadPhase;
  loaded: number;
  total?: number;
}

/** The answer to `run`. Output buffers are transferred. */
export interface RunReply {
  outputs: TensorMap;
  counters: RunCounters;
  /**
   * Milliseconds the request waited behind earlier runs of the same model (`queueMs`), ran
   * (`runMs`), and of that, spent in ORT, encoding our kernels, and reading outputs back.
   */
  timings: { queueMs: number; runMs: number } & RunPhases;
}

/** The answer to `load`. */
export type LoadReply = ModelInfo;

let installed = false;

/** Installs the error-preserving `"throw"` handler (idempotent; call on both sides). */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const original = transferHandlers.get('throw');
  if (!original) return;
  transferHandlers.set('throw', {
    canHandle: original.canHandle,
    serialize(thrown: unknown) {
      const { value } = thrown as { value: unknown };
      return [{ isError: true, value: serializeError(value) }, []];
    },
    deserialize(serialized: unknown): never {
      const s = serialized as { isError: boolean; value: unknown };
      if (s.isError) throw deserializeError(s.value as SerializedError);
      throw s.value;
    },
  });
}
