/**
 * One webq8 Worker that can be replaced. When onnxruntime-web's WebAssembly instance aborts inside
 * it (a trap: the requests in flight reject with `RuntimeCrashedError`), the instance cannot be used
 * again: the host terminates that Worker, starts a fresh one and has every model living in it load
 * itself again (from the weight cache), one rebuild at a time. Calls made meanwhile wait for the
 * rebuild, so the models' handles keep working. A Worker that dies outright (`WorkerError`) is not
 * rebuilt here: that stays the serving layer's replica replacement, or is fatal for the runtime's own.
 */
import type { Remote } from 'comlink';
import { RuntimeCrashedError } from '../errors';
import type { WorkerApi } from '../protocol';
import type { WorkerLink } from './worker-link';

/** Something living in a host's Worker (a model replica) that loads itself again into a fresh one. */
export interface Resident {
  reload(api: Remote<WorkerApi>): Promise<void>;
}

/** How a host starts and configures its Workers. */
export interface WorkerStarter {
  start(): WorkerLink;
  init(api: Remote<WorkerApi>): Promise<void>;
  /** Called when a rebuild starts (telemetry counts it). */
  onRebuild?(trap: string): void;
}

/** A replaceable Worker (see the module comment). */
export class WorkerHost {
  /** Rebuilds after an aborted ORT instance so far. */
  rebuilds = 0;
  private link: WorkerLink;
  private ready: Promise<void>;
  private readonly residents = new Set<Resident>();
  private closed = false;

  constructor(private readonly starter: WorkerStarter) {
    this.link = starter.start();
    this.ready = starter.init(this.link.api);
    this.ready.catch(() => undefined); // a Worker that fails to start rejects every call; this one may have no caller
  }

  /** The current Worker's link (test hooks terminate it). */
  get current(): WorkerLink {
    return this.link;
  }

  /** Resolves when the Worker is started (and rebuilt, during a rebuild); rejects when it failed to start. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Calls the Worker once it is ready; an aborted ORT instance seen in the answer starts a rebuild (the error still reaches the caller). */
  async call<T>(work: (api: Remote<WorkerApi>) => Promise<T>): Promise<T> {
    await this.ready;
    const link = this.link;
    try {
      return await work(link.api);
    } catch (err) {
      if ((err as { code?: string } | null)?.code === 'RUNTIME_CRASHED') this.rebuild(link, (err as { details?: { trap?: string } }).details?.trap ?? '');
      throw err;
    }
  }

  /** Adds a model that lives in this Worker (it reloads itself after a rebuild); returns its removal. */
  add(resident: Resident): () => void {
    this.residents.add(resident);
    return () => void this.residents.delete(resident);
  }

  /** Terminates the Worker; calls in flight reject with `DisposedError`. */
  close(): void {
    this.closed = true;
    this.link.close();
  }

  private rebuild(crashed: WorkerLink, trap: string): void {
    // Every request in flight on the dead instance reports the crash: only the first starts the rebuild.
    if (this.closed || this.link !== crashed) return;
    this.rebuilds++;
    this.starter.onRebuild?.(trap);
    const fresh = this.starter.start();
    this.link = fresh;
    // Requests still on the dead instance fail with the crash too (not as if the runtime were disposed).
    crashed.close(new RuntimeCrashedError(`onnxruntime-web aborted in webq8's Worker (${trap}). The Worker was replaced; retry the request.`, { trap }));
    const residents = [...this.residents];
    this.ready = (async () => {
      await this.starter.init(fresh.api);
      // One at a time: each reload takes the new Worker's ORT calls in turn anyway.
      for (const r of residents) await r.reload(fresh.api);
    })();
    this.ready.catch(() => undefined);
  }
}
