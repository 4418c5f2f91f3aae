/** One run with every step timed to the end of its GPU work (see `profile` in `webq8/advanced`). */
import type { RunProfile } from '../protocol';
import type { TensorMap } from '../types';
import { PlanExecutor, type Executor, type RunProfiler } from './executor';

/** Runs `executor` once on `feeds`, profiled; the outputs are dropped. */
export async function profileRun(executor: Executor, feeds: TensorMap): Promise<RunProfile> {
  const profiler: RunProfiler = { steps: [], startMs: NaN };
  const r = await executor.run(feeds, { profile: profiler });
  const totalMs = performance.now() - profiler.startMs;
  const stepsMs = profiler.steps.reduce((a, s) => a + s.ms, 0);
  const plan = r.strategy?.strategy ?? (executor instanceof PlanExecutor && executor.hasKernels ? 'kernels' : 'ort');
  const { readbackMs } = r.phases;
  return { steps: profiler.steps, boundaryMs: Math.max(0, totalMs - stepsMs - readbackMs), readbackMs, totalMs, plan, counters: r.counters };
}
