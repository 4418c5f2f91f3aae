/**
 * Every default of `runtime.load` and `loadPlan` (`webq8/advanced`), in one place. The main thread applies
 * them before a request crosses into the worker, so the worker never guesses.
 */
import type { ResolvedLoadOptions } from './protocol';
import { InputError } from './errors';
import type { BackendRequest, LoadOptions } from './types';

/** Defaults of {@link LoadOptions}. */
export const LOAD_DEFAULTS = {
  backend: 'auto',
  strategy: 'auto',
  cache: 'default',
  requireIntegrity: false,
  bothPlansMaxBytes: 512 * 2 ** 20,
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
    bothPlansMaxBytes: options.bothPlansMaxBytes ?? LOAD_DEFAULTS.bothPlansMaxBytes,
    ...(cacheMaxBytes !== undefined ? { cacheMaxBytes } : {}),
    ...(options.warmup !== undefined ? { warmup: options.warmup } : {}),
    ...(options.revalidate !== undefined ? { revalidate: checkRevalidate(options.revalidate) } : {}),
    ...(options.verify !== undefined ? { verify: options.verify } : {}),
  };
}

/** `LoadOptions.revalidate`, checked: a timeout must be a finite number of milliseconds ≥ 0. */
function checkRevalidate(r: NonNullable<LoadOptions['revalidate']>): NonNullable<LoadOptions['revalidate']> {
  if (r.timeoutMs !== undefined && !(Number.isFinite(r.timeoutMs) && r.timeoutMs >= 0)) {
    throw new InputError(`revalidate.timeoutMs is ${String(r.timeoutMs)}; pass a number of milliseconds ≥ 0 (default 5000).`, { timeoutMs: r.timeoutMs });
  }
  return { ...r };
}
