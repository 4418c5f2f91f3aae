/**
 * A {@link Replica} backed by a model loaded in a webq8 Worker: `run` transfers the feeds (partial
 * views are copied first, see src/tensors.ts) and the outputs come back transferred.
 */
import { transfer, type Remote } from 'comlink';
import type { RunReply, WorkerApi } from '../protocol';
import type { Replica } from '../serving/replica';
import { transferable } from '../tensors';
import type { ModelInfo, TensorMap } from '../types';

/** The replica of `info` (loaded in the Worker behind `api`); `release` frees what else it owns (e.g. its Worker). */
export function workerReplica(id: string, api: Remote<WorkerApi>, info: ModelInfo, release: () => Promise<void> = async () => undefined): Replica {
  let disposed = false;
  return {
    id,
    backend: info.backend.backend,
    run(requestId: string, feeds: TensorMap): Promise<RunReply> {
      const { tensors, transfer: list } = transferable(feeds);
      return api.run(info.id, requestId, transfer(tensors, list));
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        await api.disposeModel(info.id);
      } finally {
        await release();
      }
    },
  };
}
