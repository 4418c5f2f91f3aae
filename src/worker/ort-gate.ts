/**
 * One call into onnxruntime at a time, per Worker. onnxruntime-web's WebGPU build (asyncify) yields
 * to JavaScript inside `Run()` — while a GPU buffer is mapped for a CPU-fallback op or an output is
 * downloaded — and is not re-entrant across the sessions of one WASM instance: a second session's
 * `Run()` entering then aborts the instance (`memory access out of bounds`, ORT issues 32561 and
 * 27592). Every entry into ORT from this Worker — session creation, `run`, `release`, releasing an
 * ORT-owned GPU tensor — goes through {@link ortCall}.
 *
 * The gate is a FIFO. That is also round-robin between models: each model's requests already run
 * one at a time (the engine's per-model chain), so a model has at most one call waiting here, and a
 * long `generate` (one call per step) cannot starve another model's runs. Our own kernel dispatches
 * between ORT segments do not enter ORT and do not take the gate.
 *
 * It also notices when the instance has aborted (a WebAssembly trap): from then on every call
 * rejects at once with {@link RuntimeCrashedError}, and the main thread replaces the Worker.
 */
import { RuntimeCrashedError } from '../errors';

let tail: Promise<unknown> = Promise.resolve();
let crash: { trap: string } | null = null;
let injectTrap = false;

/** Runs `work` (a call into ORT) once every earlier call has left ORT. */
export function ortCall<T>(work: () => Promise<T> | T): Promise<T> {
  const result = tail.then(async () => {
    if (crash) throw crashedError(crash.trap);
    try {
      if (injectTrap) {
        injectTrap = false;
        throw new WebAssembly.RuntimeError('memory access out of bounds (injected by a webq8 test hook)');
      }
      return await work();
    } catch (err) {
      if (isTrap(err)) {
        noteOrtCrash(err);
        throw crashedError(crash!.trap, err);
      }
      throw err;
    }
  });
  tail = result.catch(() => undefined);
  return result;
}

/** Releases something ORT owns (a GPU tensor) in turn, fire and forget: a failure (a dead instance) is ignored. */
export function ortRelease(release: () => void): void {
  ortCall(release).catch(() => undefined);
}

/** Whether `err` is a WebAssembly trap or an Emscripten abort: ORT's instance is dead after it. */
export function isTrap(err: unknown): boolean {
  if (err instanceof WebAssembly.RuntimeError) return true;
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return /^Aborted\(|memory access out of bounds|RuntimeError: unreachable/.test(message);
}

/** Records that ORT's instance aborted (also called for a trap seen outside {@link ortCall}, e.g. an uncaught error). */
export function noteOrtCrash(err: unknown): void {
  crash ??= { trap: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** The trap that killed ORT's instance in this Worker, or null while it lives. */
export function ortCrash(): { trap: string } | null {
  return crash;
}

/** Test hook: the next call into ORT fails as a WebAssembly trap would, which kills the instance for this Worker. */
export function injectOrtTrap(): void {
  injectTrap = true;
}

/** The error of a request that met (or came after) an aborted ORT instance. */
export function crashedError(trap: string, cause?: unknown): RuntimeCrashedError {
  return new RuntimeCrashedError(
    `onnxruntime-web aborted in webq8's Worker (${trap}). The Worker is being replaced and its models loaded again; retry the request.`,
    { trap },
    cause === undefined ? undefined : { cause },
  );
}
