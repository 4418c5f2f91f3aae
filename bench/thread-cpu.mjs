// CPU time per run from a Chromium trace: the thread time (`tdur`) of the top-level tasks a thread
// ran between consecutive `run-N` user-timing marks. Wall time on a shared CPU mostly measures the
// other processes; the thread's own CPU time is what tier-up changes, so benches report both.

/** Trace categories {@link cpuPerRun} needs; pass them to `browser.startTracing`. */
export const CPU_TRACE_CATEGORIES = ['toplevel', 'blink.user_timing', '__metadata'];

/**
 * Milliseconds of CPU the thread named `threadName` (e.g. `'DedicatedWorker thread'`,
 * `'CrRendererMain'`) spent per run. Run k spans from mark `run-k` to mark `run-(k+1)`; a task
 * counts for the run in which it started. Returns one number per run that has both marks.
 */
export function cpuPerRun(traceBuffer, threadName) {
  const events = JSON.parse(traceBuffer.toString()).traceEvents;
  const names = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
  const marks = events
    .filter((e) => e.cat === 'blink.user_timing' && /^run-\d+$/.test(e.name) && e.ph !== 'e')
    .map((e) => ({ k: Number(e.name.slice(4)), ts: e.ts }))
    .sort((a, b) => a.k - b.k)
    .map((m) => m.ts);
  const tasks = events
    .filter((e) => e.ph === 'X' && e.cat === 'toplevel' && e.tdur !== undefined && names.get(`${e.pid}:${e.tid}`) === threadName)
    .sort((a, b) => a.ts - b.ts);
  const cpu = new Array(Math.max(0, marks.length - 1)).fill(0);
  let k = 0;
  for (const t of tasks) {
    while (k < cpu.length && t.ts >= marks[k + 1]) k++;
    if (k >= cpu.length) break;
    if (t.ts >= marks[k]) cpu[k] += t.tdur / 1000;
  }
  return cpu;
}
