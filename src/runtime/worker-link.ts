/**
 * The main thread's end of webq8's Worker: starts it, watches it, and makes sure no call on it
 * hangs. Comlink alone never settles a call whose Worker failed to load (a 404 fires only an
 * `error` event on the Worker object), died, or whose reply could not be deserialized; here every
 * such case rejects the pending calls with a {@link WorkerError}:
 * - an `error` event before the worker said it runs: its script did not load or run (fatal);
 * - the worker's liveness lock is released (see src/worker/lifeline.ts): it died (fatal);
 * - an `error` event later (an uncaught error in the worker) or a `messageerror`: the calls in
 *   flight are rejected, because one of them may never be answered; later calls go through.
 * After a fatal failure every call rejects at once with the same error. The runtime does not
 * restart the worker: the models loaded in it are gone, and only the app can load them again.
 */
import { wrap, type Remote } from 'comlink';
import { DisposedError, WorkerError, type WorkerFailure } from '../errors';
import type { WorkerApi, LifelineMessage } from '../protocol';
import { isLifelineMessage } from '../protocol';

/** Methods that resolve instead of rejecting once the worker is gone: nothing is left to cancel or free. */
const QUIET = new Set<string>(['cancel', 'disposeModel', 'dispose']);

/** Test hooks (through `runtime[Symbol.for('webq8.debug')]`): kill the worker from outside, or make it fail inside. */
export type WorkerLinkDebug = 'terminate' | 'close' | 'throw';

/** One started Worker and the calls in flight on it. */
export class WorkerLink {
  /** The worker's API; every call rejects with a {@link WorkerError} when the worker fails. */
  readonly api: Remote<WorkerApi>;
  private readonly worker: Worker;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly lockWait = new AbortController();
  private started = false;
  private failure: Error | null = null;

  constructor(private readonly workerUrl?: string | URL) {
    this.worker = startWorker(workerUrl);
    this.worker.addEventListener('error', (e) => this.onError(e));
    this.worker.addEventListener('messageerror', () =>
      this.rejectPending(
        failure(
          'message-error',
          "A reply from webq8's Worker could not be deserialized (messageerror), so the calls in flight were rejected. Retry them.",
          false,
        ),
      ),
    );
    this.worker.addEventListener('message', (e: MessageEvent) => {
      if (isLifelineMessage(e.data) && e.data.webq8Lifeline === 'alive') this.onAlive(e.data.lock);
    });
    const remote = wrap<WorkerApi>(this.worker);
    this.api = new Proxy(remote, {
      get: (target, prop) => {
        // Symbols (comlink's releaseProxy) go straight through; `then` stays undefined so the API is not a thenable.
        if (typeof prop !== 'string') return Reflect.get(target, prop);
        if (prop === 'then') return undefined;
        return (...args: unknown[]) => this.call(prop, () => (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args));
      },
    });
  }

  /** Terminates the worker; calls still in flight reject with `why` ({@link DisposedError} by default). Idempotent. */
  close(why: Error = new DisposedError('The runtime was disposed while this call was in flight.')): void {
    if (this.failure) return;
    this.stop(why);
  }

  /** @internal Test hooks: `terminate` kills the worker as the browser would; `close`/`throw` make it fail inside. */
  debug(command: WorkerLinkDebug): void {
    if (command === 'terminate') this.worker.terminate();
    else this.worker.postMessage({ webq8Lifeline: command } satisfies LifelineMessage);
  }

  private call(method: string, start: () => Promise<unknown>): Promise<unknown> {
    if (this.failure) return QUIET.has(method) ? Promise.resolve(undefined) : Promise.reject(this.failure);
    const work = start();
    return new Promise((resolve, reject) => {
      const onFailure = (err: Error) => (QUIET.has(method) ? resolve(undefined) : reject(err));
      this.pending.add(onFailure);
      work.then(resolve, reject).finally(() => this.pending.delete(onFailure));
    });
  }

  private onAlive(lock: string | null): void {
    this.started = true;
    if (!lock) return;
    // Granted only once the worker that holds it is gone.
    navigator.locks
      .request(lock, { signal: this.lockWait.signal }, () => {
        this.stop(
          failure(
            'crashed',
            "webq8's Worker stopped (it crashed, ran out of memory, or was terminated), and the models loaded in it are gone. Create a new runtime with createRuntime() and load the models again.",
            true,
          ),
        );
      })
      .catch(() => undefined); // aborted by close()
  }

  private onError(e: Event): void {
    if (this.failure) return;
    const what = e instanceof ErrorEvent && e.message ? ` (${e.message})` : '';
    if (this.started) {
      this.rejectPending(
        failure(
          'uncaught-error',
          `webq8's Worker threw an uncaught error${what}, so the calls in flight were rejected. Retry them; please report the error.`,
          false,
        ),
      );
      return;
    }
    const url =
      (e instanceof ErrorEvent && e.filename) || (this.workerUrl !== undefined ? new URL(this.workerUrl, globalThis.location?.href).href : defaultWorkerUrl());
    const where =
      this.workerUrl !== undefined
        ? `from workerUrl ${url}`
        : `from ${url || 'its default URL'} (webq8's dist/worker.js, as your bundler emitted it or next to dist/index.js without one)`;
    this.stop(
      failure(
        'start-failed',
        `webq8's Worker script failed to load or run ${where}${what}. The URL must serve webq8's dist/worker.js with a JavaScript MIME type (text/javascript), and the chunks/ and ort/ folders beside it; check the browser's network panel. Vite and webpack find it without configuration; when you copy webq8's files yourself, pass createRuntime({ workerUrl }).`,
        true,
        url,
      ),
    );
  }

  private rejectPending(err: Error): void {
    for (const reject of this.pending) reject(err);
    this.pending.clear();
  }

  private stop(err: Error): void {
    this.failure = err;
    this.lockWait.abort();
    this.worker.terminate();
    this.rejectPending(err);
  }
}

function startWorker(workerUrl: string | URL | undefined): Worker {
  if (workerUrl !== undefined) return new Worker(workerUrl, { type: 'module', name: 'webq8' });
  // Keep this exact form: `new Worker(new URL('<literal>', import.meta.url), {type: 'module'})` is
  // what Vite (build and dev server) and webpack recognise to bundle and emit the worker. The
  // `@vite-ignore` only stops webq8's own library build from touching it; vite.config.ts removes it.
  return new Worker(new URL(/* @vite-ignore */ './worker.js', import.meta.url), { type: 'module', name: 'webq8' });
}

/**
 * Where the worker is without a bundler, for error messages only. String surgery, not `new URL()`:
 * a second `new URL('…worker.js', import.meta.url)` would make bundlers copy worker.js unbundled.
 */
function defaultWorkerUrl(): string {
  const here = String(import.meta.url);
  return here.startsWith('http') ? here.replace(/[^/]*$/, 'worker.js') : '';
}

function failure(reason: WorkerFailure, message: string, fatal: boolean, url?: string): WorkerError {
  return new WorkerError(message, { reason, fatal, ...(url ? { url } : {}) });
}
