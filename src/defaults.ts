/**
 * Every default of `runtime.load` and `runtime.loadPlan`, in one place. The main thread applies
 * them before a request crosses into the worker, so the worker never guesses.
 */
import type { ResolvedLoadOptions } from './protocol';
import type { BackendRequest, LoadOptions } from './types';

/** Defaults of {@link LoadOptions}. */
export const LOAD_DEFAULTS = {
  backend: 'auto',
  strategy: 'auto',
  cache: 'default',
  requireIntegrity: false,
} as const satisfies Omit<ResolvedLoadOptions, 'cacheMaxBytes'>;

/** Defaults of `model.generate` (`GenerateOptions`); sampling is greedy unless `sampling` is given. */
export const GENERATE_DEFAULTS = {
  maxNewTokens: 32,
  maxContext: 1024,
  temperature: 1,
  topK: 64,
  topP: 1,
  seed: 0,
} as const;

/** Backend of an explicit plan: plans exist to hand tensors between ORT and our GPU kernels. */
export const PLAN_BACKEND_DEFAULT: BackendRequest = 'webgpu';

/** `options` with every default filled in. */
export function resolveLoadOptions(options: LoadOptions, cacheMaxBytes: number | undefined): ResolvedLoadOptions {
  return {
    backend: options.backend ?? LOAD_DEFAULTS.backend,
    strategy: options.strategy ?? LOAD_DEFAULTS.strategy,
    cache: options.cache ?? LOAD_DEFAULTS.cache,
    requireIntegrity: options.requireIntegrity ?? LOAD_DEFAULTS.requireIntegrity,
    ...(cacheMaxBytes !== undefined ? { cacheMaxBytes } : {}),
    ...(options.warmup !== undefined ? { warmup: options.warmup } : {}),
    ...(options.verify !== undefined ? { verify: options.verify } : {}),
  };
}
