/** The {@link ModelInfo} of a prepared model: what the load learnt, what the plan takes and gives, and why. */
import { ModelFormatError } from '../errors';
import type { AdapterInfo, BackendDecision, DeviceLimits, ModelInfo } from '../types';
import type { PreparedModel } from './prepare';

/** What a load knew about the model before preparing it (becomes part of {@link ModelInfo}). */
export type ModelMeta = Pick<ModelInfo, 'source' | 'bytes' | 'sha256' | 'cache' | 'modelId' | 'version' | 'externalData' | 'verify'> & { fetchMs: number };

/** The info of model `id`; throws when the model declares no outputs (there is nothing to run). */
export function describeModel(
  id: string,
  prepared: PreparedModel,
  decision: BackendDecision,
  adapter: AdapterInfo | null,
  meta: ModelMeta,
  compileMs: number,
): ModelInfo {
  const { executor, strategy, placement, memory } = prepared;
  const outputs = executor.outputInfo();
  if (outputs.length === 0) throw new ModelFormatError(`${meta.source} declares no outputs; there is nothing to run.`);
  const { fetchMs, ...known } = meta;
  return {
    id,
    ...known,
    inputs: executor.inputInfo(),
    outputs,
    backend: decision,
    adapter,
    loadTimings: { fetchMs, compileMs },
    ...(strategy ? { strategy } : {}),
    ...(placement ? { placement } : {}),
    ...(memory ? { memory } : {}),
  };
}

/** The buffer limits of a device (`GPUDevice.limits`), as `model.info.adapter.deviceLimits` reports them. */
export function deviceLimits(limits: GPUSupportedLimits): DeviceLimits {
  return { maxBufferSize: limits.maxBufferSize, maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize };
}
