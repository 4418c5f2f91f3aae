/**
 * Puts a loaded model behind its serving layer: the first replica is the copy already loaded in
 * the runtime's Worker; every further replica gets a Worker of its own (one ORT session each; the
 * weight cache is shared, so a URL downloads once). A replica whose Worker dies is replaced by a
 * fresh Worker with the model loaded again; a replica whose Worker's ORT instance aborted loads itself
 * again in a fresh Worker (src/runtime/worker-host.ts).
 */
import type { Remote } from 'comlink';
import type { WorkerApi } from '../protocol';
import { Server } from '../serving/server';
import type { BackendRequest, ModelInfo, ServingOptions } from '../types';
import type { WorkerHost } from './worker-host';
import type { ModelReplica } from '../serving/replica';
import { workerReplica } from './worker-replica';

/** What {@link serveModel} needs from the runtime. */
export interface ServeContext {
  /** The Worker where the first replica is loaded (the runtime's own, or one started for this model). */
  primary: WorkerHost;
  /** Frees the primary Worker when the first replica is disposed (a no-op for the runtime's own). */
  releasePrimary?(): Promise<void>;
  /**
   * Whether the primary Worker is the runtime's own. When that one dies the runtime is unusable
   * (`WorkerError`, fatal: create a new one), so its replica is not replaced behind the caller's back.
   */
  primaryIsRuntimes: boolean;
  /** Starts another webq8 Worker. */
  spawn(): Promise<WorkerHost>;
  /** Loads the model being served into `api` on `backend`. */
  loadInto(api: Remote<WorkerApi>, backend: BackendRequest): Promise<ModelInfo>;
  nextRequestId(): string;
  /** Whether an error means the Worker that ran a request is gone. */
  isWorkerLost(err: unknown): boolean;
}

/** The backend of each replica: `serving.replicas` as a list, the load's backend where it names none. */
export function replicaBackends(serving: ServingOptions | undefined, backend: BackendRequest): BackendRequest[] {
  const r = serving?.replicas ?? 1;
  if (typeof r === 'number') return Array.from({ length: Math.max(1, Math.floor(r)) }, () => backend);
  return r.length > 0 ? r.map((spec) => spec.backend ?? backend) : [backend];
}

/** The server of a model whose first replica (`first`) is loaded in the primary Worker. */
export async function serveModel(
  first: ModelInfo,
  serving: ServingOptions | undefined,
  backends: BackendRequest[],
  ctx: ServeContext,
): Promise<Server<ModelReplica>> {
  const startReplica = async (id: string, backend: BackendRequest) => {
    const worker = await ctx.spawn();
    try {
      const info = await worker.call((api) => ctx.loadInto(api, backend));
      return workerReplica(
        id,
        worker,
        info,
        (api) => ctx.loadInto(api, backend),
        async () => worker.close(),
      );
    } catch (err) {
      worker.close();
      throw err;
    }
  };
  const replicas = [workerReplica('0', ctx.primary, first, (api) => ctx.loadInto(api, backends[0]!), ctx.releasePrimary)];
  try {
    for (const [i, backend] of backends.entries()) if (i > 0) replicas.push(await startReplica(String(i), backend));
  } catch (err) {
    await Promise.all(replicas.map((r) => r.dispose().catch(() => undefined)));
    throw err;
  }
  let generation = backends.length;
  return new Server(serving ?? {}, replicas, first.inputs, {
    nextRequestId: ctx.nextRequestId,
    isReplicaLost: ctx.isWorkerLost,
    // A dead replica's backend is reused; the replacement gets a new id so stats tell them apart.
    replace: async (dead) => (dead.id === '0' && ctx.primaryIsRuntimes ? null : startReplica(String(generation++), dead.backend)),
  });
}
