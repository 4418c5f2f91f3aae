/**
 * One replica of a model: its copy loaded in one webq8 Worker, and every verb that reaches it —
 * `run` (from the serving layer), `generate`, `profile`, `cancel`, `dispose`. The model's id inside
 * the Worker and its {@link ModelInfo} live here and nowhere else: after the Worker is rebuilt
 * (src/runtime/worker-host.ts) the replica loads itself again and both change in this one place.
 * Feeds are transferred (partial views are copied first, see src/tensors.ts); outputs come back
 * transferred.
 */
import { proxy, transfer, type Remote } from 'comlink';
import type { RunReply, WorkerApi } from '../protocol';
import type { ModelReplica } from '../serving/replica';
import { transferable } from '../tensors';
import type { Backend, ModelInfo, TensorMap } from '../types';
import { followVerify } from './verify-follow';
import type { WorkerHost } from './worker-host';

/** How a replica loads its model again into a fresh Worker (the same source and options as its first load). */
export type Reload = (api: Remote<WorkerApi>) => Promise<ModelInfo>;

/**
 * The replica `id` of the model `first`, loaded in `host`'s Worker; `reload` loads it again after a
 * rebuild, `release` frees what else the replica owns (e.g. its Worker) when it is disposed.
 */
export function workerReplica(
  id: string,
  host: WorkerHost,
  first: ModelInfo,
  reload: Reload,
  release: () => Promise<void> = async () => undefined,
): ModelReplica {
  let info = first;
  /** Why the replica could not be loaded again after a rebuild: its calls fail with it. */
  let lost: unknown = null;
  let disposed = false;
  const leave = host.add({
    reload: async (api) => {
      try {
        info = await reload(api);
        lost = null;
      } catch (err) {
        lost = err;
      }
    },
  });
  const call = <T>(work: (api: Remote<WorkerApi>, modelId: string) => Promise<T>): Promise<T> =>
    host.call((api) => {
      if (lost) throw lost;
      return work(api, info.id);
    });
  return {
    id,
    get info(): ModelInfo {
      return info;
    },
    get backend(): Backend {
      return info.backend.backend;
    },
    run(requestId: string, feeds: TensorMap): Promise<RunReply> {
      return call((api, modelId) => {
        const { tensors, transfer: list } = transferable(feeds);
        // Verification in service: the answer carries its counts, and a switch to WASM.
        return api.run(modelId, requestId, transfer(tensors, list)).then((reply) => ((info = followVerify(info, reply)), reply));
      });
    },
    generate(requestId, request, onTokens) {
      return call((api, modelId) => api.generate(modelId, requestId, request, proxy(onTokens)).then((reply) => ((info = followVerify(info, reply)), reply)));
    },
    profile(feeds) {
      return call((api, modelId) => api.profile(modelId, feeds));
    },
    cancel(requestId) {
      host.call((api) => api.cancel(requestId)).catch(() => undefined);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      leave();
      try {
        if (!lost) await host.call((api) => api.disposeModel(info.id));
      } finally {
        await release();
      }
    },
  };
}
