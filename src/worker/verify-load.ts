/**
 * What a load does with the verdict of src/worker/verify.ts, between preparing a model and
 * registering it: the verdict becomes `ModelInfo.verify`, and a divergence follows
 * `verify.onDiverge`: `'fallback'` serves the model from the WASM reference (the backend and
 * strategy decisions then say why, naming the output, metric and value), `'error'` rejects the
 * load with {@link NumericsError}, `'report'` keeps the GPU plan.
 */
import { NumericsError } from '../errors';
import { ortPlan } from '../graph/plan';
import type { AdapterInfo, BackendDecision, VerifyInfo } from '../types';
import type { PreparedModel } from './prepare';
import { verifyAtLoad, type ResolvedVerify } from './verify';

// The engine's one import for verification (and its test hook).
export { verifyOptions } from './verify';

/** A prepared model after verification: possibly swapped to WASM, with the verdict for its `ModelInfo`. */
export interface CheckedModel {
  prepared: PreparedModel;
  decision: BackendDecision;
  info: { verify?: VerifyInfo };
}

/** What the check needs to know about the load besides the prepared model. */
export interface VerifyContext {
  bytes: Uint8Array;
  adapter: AdapterInfo | null;
  source: string;
  signal?: AbortSignal;
}

/**
 * Verifies a prepared model (`options` null: verification is off, nothing happens). The GPU
 * executor is disposed when it is replaced or the load fails here.
 * @throws {@link NumericsError} when the plans diverged and `onDiverge` is `'error'`.
 */
export async function verifyPrepared(
  prepared: PreparedModel,
  decision: BackendDecision,
  ctx: VerifyContext,
  options: ResolvedVerify | null,
): Promise<CheckedModel> {
  if (!options) return { prepared, decision, info: {} };
  const { executor } = prepared;
  let outcome;
  try {
    outcome = await verifyAtLoad({ bytes: ctx.bytes, backend: decision.backend, executor, signal: ctx.signal }, options);
  } catch (err) {
    await executor.dispose(); // AbortError, InputError (verify.shapes that do not fit)
    throw err;
  }
  const verify = outcome.info;
  if (verify.status !== 'diverged') return { prepared, decision, info: { verify } };
  if (options.onDiverge === 'error') {
    await executor.dispose();
    const worst = verify.outputs.find((o) => o.metric !== 'relL2' || o.value > o.tolerance) ?? verify.outputs[0];
    const adapter = ctx.adapter ? `${ctx.adapter.vendor}/${ctx.adapter.architecture}` : 'unknown';
    throw new NumericsError(
      `${verify.reason} (adapter ${adapter}). The load was rejected because verify.onDiverge is 'error'; load with onDiverge 'fallback' (the default) to serve it from WASM, or with backend 'wasm'.`,
      { ...worst, adapter, source: ctx.source },
    );
  }
  if (!outcome.reference) return { prepared, decision, info: { verify } }; // 'report': the GPU plan stays
  await executor.dispose();
  const reason = `Served from ORT's WASM EP: ${verify.reason.replace(/^The GPU plan /, 'the GPU plan ')}`;
  const swapped: PreparedModel = { ...prepared, executor: outcome.reference, recipe: { plan: ortPlan(ctx.bytes) } };
  if (prepared.strategy) swapped.strategy = { strategy: 'ort', requested: prepared.strategy.requested, reason };
  return { prepared: swapped, decision: { backend: 'wasm', requested: decision.requested, reason }, info: { verify } };
}
