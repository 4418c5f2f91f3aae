/**
 * The test hooks of `WorkerApi.debug` that need no GPU context: live generation state, a trap in
 * the next ORT call, a small binding limit, tiny weight-cache chunks for data files, corrupted kernel outputs. The engine handles the rest
 * (GPU counts, an invalid binding, a lost device) on its GPU context.
 */
import type { DebugCommand } from '../protocol';
import { forceBindingLimit, SMALL_BINDING_LIMIT, TINY_BINDING_LIMIT } from './binding-limit';
import { setKernelFault } from './faults';
import { liveCacheBytes, liveSequences } from './generate';
import { injectOrtTrap } from './ort-gate';
import { forceDataChunkBytes, TINY_DATA_CHUNK_BYTES } from './stream-hooks';

const HOOKS: Partial<Record<DebugCommand, () => number | void>> = {
  'kv-cache-bytes': liveCacheBytes,
  'kv-sequences': liveSequences,
  'crash-ort': injectOrtTrap,
  'small-binding-limit': () => forceBindingLimit(SMALL_BINDING_LIMIT),
  'tiny-binding-limit': () => forceBindingLimit(TINY_BINDING_LIMIT),
  'tiny-data-chunks': () => forceDataChunkBytes(TINY_DATA_CHUNK_BYTES),
  'corrupt-kernels': () => setKernelFault(true),
  'heal-kernels': () => setKernelFault(false),
};

/** The hook for `command` when it needs no GPU context, else `undefined`. */
export function gpulessHook(command: DebugCommand): (() => number | void) | undefined {
  return HOOKS[command];
}
