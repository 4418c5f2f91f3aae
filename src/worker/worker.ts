/**
 * Worker entry point: exposes the {@link Engine} over comlink. Built to dist/worker.js, next to
 * dist/ort/ (ORT's .wasm), which is how the worker finds ORT without configuration. ORT is started
 * before the first model, so that a failure to load its own files is reported as such and fast
 * (src/worker/ort-init.ts), and the lifeline (src/worker/lifeline.ts) tells the main thread that
 * the worker runs, and when it dies.
 */
import { expose } from 'comlink';
import { installErrorTransfer } from '../protocol';
import { Engine } from './engine';
import { startLifeline } from './lifeline';
import { ensureOrt } from './ort-init';
import { isTrap, noteOrtCrash } from './ort-gate';

/** The engine, with ORT started (or its failure named) before any model is fetched. */
class WorkerEngine extends Engine {
  override async load(...args: Parameters<Engine['load']>): ReturnType<Engine['load']> {
    await ensureOrt();
    // The download phase begins (ORT's own start may have taken a while): this also re-arms the load timeout.
    void args[1]?.({ phase: 'download', loaded: 0 });
    return super.load(...args);
  }

  override async loadPlan(...args: Parameters<Engine['loadPlan']>): ReturnType<Engine['loadPlan']> {
    await ensureOrt();
    return super.loadPlan(...args);
  }
}

installErrorTransfer();
// A trap that escapes every request (ORT aborting inside a callback of its own) still kills the
// instance: note it, so the next request fails with RuntimeCrashedError and the Worker is replaced.
self.addEventListener('error', (e) => isTrap(e.error ?? e.message) && noteOrtCrash(e.error ?? e.message));
self.addEventListener('unhandledrejection', (e) => isTrap(e.reason) && noteOrtCrash(e.reason));
expose(new WorkerEngine());
startLifeline(self as unknown as DedicatedWorkerGlobalScope);
