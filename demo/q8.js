// The demo's q8 panel: where each MatMul of PP-OCRv4 rec runs (webq8's kernels or ORT, and why),
// the kernels-vs-ORT decision with its measured figures, and the profile of the last run. The row
// builders are pure functions of `model.info`, the quantizer's report and the run's figures
// (tested in test/unit/demo/q8.test.ts); `fillTable` only writes rows into the page.

/** @typedef {import('../src/types').ModelInfo} ModelInfo */
/** @typedef {{ quantized: string[], skipped: { node: string, reason: string }[] }} QuantizeReport */
/** @typedef {{ matmul: string, weights: 'int8' | 'float', runsOn: string, why: string }} PlacementRow */

const ms = (/** @type {number} */ v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'failed');

/** Where ORT runs a node on `backend`. */
function ortWhere(/** @type {string} */ backend) {
  return backend === 'webgpu' ? 'ORT, WebGPU EP' : `ORT, ${backend.toUpperCase()} EP (CPU)`;
}

/**
 * One row per MatMul of the model (names from the quantizer's report, in graph order): whether its
 * weight is int8 in the loaded file, where it runs, and why.
 * @param {'fp32' | 'q8'} variant the file loaded: the fp32 original or `webq8 quantize`'s output
 * @param {QuantizeReport} report
 * @param {ModelInfo} info
 * @returns {PlacementRow[]}
 */
export function placementRows(variant, report, info) {
  const backend = info.backend.backend;
  const strategy = info.strategy;
  const skipped = new Map(report.skipped.map((s) => [s.node, s.reason]));
  const names = [...report.quantized, ...skipped.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return names.map((matmul) => {
    const float = (why) => ({ matmul, weights: 'float', runsOn: ortWhere(backend), why });
    if (variant === 'fp32') return float('the fp32 model has no int8 MatMul for webq8 kernels to replace (choose q8)');
    if (skipped.has(matmul)) return float(`kept float by webq8 quantize: ${skipped.get(matmul)}`);
    // webq8 quantize names the MatMulInteger that replaces MatMul `n` `n_quant` (as ORT's quantizer does).
    const quant = `${matmul}_quant`;
    const int8 = (runsOn, why) => ({ matmul, weights: 'int8', runsOn, why });
    if (!info.placement) return int8(ortWhere(backend), strategy?.reason ?? 'no placement for this model');
    const group = info.placement.kernels.find((g) => g.nodes.includes(quant));
    if (!group) {
      const fallback = info.placement.fallbacks.find((f) => f.node === quant || f.node === matmul);
      return int8(ortWhere(backend), fallback ? `no webq8 kernel: ${fallback.reason}` : 'no webq8 pattern matched');
    }
    if (strategy?.strategy === 'kernels') return int8(`webq8 kernel: ${group.ops.join(' + ')}`, `pattern ${group.pattern}; ${strategy.reason}`);
    // ORT 1.30's WebGPU EP has no MatMulInteger kernel (see ORT_WEBGPU_CPU_OPS in src/graph/placement.ts),
    // so plain ORT runs it on the CPU.
    return int8(`${ortWhere(backend)} (MatMulInteger on the CPU)`, `plain ORT was chosen: ${strategy?.reason ?? 'no strategy'}`);
  });
}

/**
 * What ran where overall: kernel steps by op, ORT nodes and segments, ops ORT's WebGPU EP would
 * run on the CPU.
 * @param {ModelInfo} info
 */
export function placementSummary(info) {
  const p = info.placement;
  if (!p) return `No placement: on ${info.backend.backend} the model runs in one ORT session (${info.backend.reason}).`;
  const ops = {};
  for (const g of p.kernels) for (const op of g.ops) ops[op] = (ops[op] ?? 0) + 1;
  const steps = Object.entries(ops).map(([op, n]) => `${n} ${op}`);
  const cpu = Object.entries(p.cpuFallbackOps).map(([op, n]) => `${op} ×${n}`);
  const kernels = steps.length ? `${steps.join(', ')} replacing ${p.kernelNodes} nodes` : 'none';
  return `webq8 kernel steps: ${kernels}; ORT: ${p.ortNodes} nodes${p.segments ? ` in ${p.segments} segments` : ''}; ops ORT's WebGPU EP would run on the CPU: ${cpu.join(', ') || 'none'}.`;
}

/**
 * The kernels-vs-ORT decision as label/value rows: the one made at load and, for `'auto'` (which
 * decides per shape class), the one that ran the last input (`model.stats().lastRun.strategy`).
 * @param {ModelInfo} info
 * @param {{ strategy?: import('../src/protocol').RunStrategy } | null} [lastRun]
 * @returns {[string, string][]}
 */
export function strategyRows(info, lastRun) {
  const s = info.strategy;
  if (!s) return [['Strategy', 'none (an explicit plan)']];
  const m = s.measured;
  const backend = info.backend.backend;
  const figures = (/** @type {{ kernelsMs: number, ortMs: number, runs: number }} */ f) =>
    `webq8 kernels ${ms(f.kernelsMs)} · plain ORT ${ms(f.ortMs)} (median of ${f.runs} timed run${f.runs === 1 ? '' : 's'} each`;
  const run = lastRun?.strategy;
  const perClass = run
    ? [
        [
          'This input',
          run.provisional
            ? `${run.strategy} for shape class ${run.shapeClass}: not measured yet (the nearest measured class's plan answered; both plans are measured while the model is idle)`
            : `${run.strategy} for shape class ${run.shapeClass}: ${figures(run.measured)}, decided for this class)`,
        ],
      ]
    : [];
  const measured = m
    ? `${figures(m)}, seeded random probe input${s.probeClass ? ` of class ${s.probeClass}` : ''}, on this device)`
    : backend !== 'webgpu'
      ? `not measured: on ${backend} there is no kernel plan to choose`
      : s.requested === 'auto'
        ? 'not measured: there was only one plan'
        : `not measured: strategy '${s.requested}' was requested`;
  return [
    ['Strategy', `${s.strategy} (requested ${s.requested})${s.cached ? ', decision from the artifact cache of an earlier load' : ''}`],
    ['Why', s.reason],
    ['Measured', measured],
    ...perClass,
  ];
}

/**
 * Rows of a per-step profile (`model.profile`'s `RunProfile`): each step with its share of the run,
 * the slowest marked, then the time between steps, the readback and the total.
 * @param {{ steps: { index: number, kind: 'ort' | 'kernel', label: string, ms: number }[], boundaryMs: number, readbackMs: number, totalMs: number, plan: string }} profile
 * @returns {[string, string, string, string][]}
 */
export function profileRows(profile) {
  const share = (v) => (profile.totalMs > 0 ? `${((100 * v) / profile.totalMs).toFixed(1)} %` : '');
  const slowest = profile.steps.reduce((a, s) => (a && a.ms >= s.ms ? a : s), null);
  const steps = [...profile.steps]
    .sort((a, b) => a.index - b.index)
    .map((s) => [
      `${s.index}`,
      `${s.kind === 'kernel' ? 'webq8 kernel' : 'ORT segment'}: ${s.label}${s === slowest ? ' (slowest)' : ''}`,
      ms(s.ms),
      share(s.ms),
    ]);
  return [
    ...steps,
    ['', 'between steps', ms(profile.boundaryMs), share(profile.boundaryMs)],
    ['', 'readback', ms(profile.readbackMs), share(profile.readbackMs)],
    ['', `total (${profile.plan} plan)`, ms(profile.totalMs), ''],
  ];
}

/**
 * The phase totals of the last run (`model.stats().lastRun`), shown until a profile (`webq8/advanced`) is asked for.
 * @param {{ timings: { queueMs: number, runMs: number, ortMs: number, kernelsMs: number, readbackMs: number }, counters: { uploads: number, readbacks: number, ortSegments: number, kernelDispatches: number } }} lastRun
 * @returns {[string, string, string, string][]}
 */
export function timingsRows({ timings: t, counters: c }) {
  return [
    ['', `ORT (${c.ortSegments} segment${c.ortSegments === 1 ? '' : 's'})`, ms(t.ortMs), ''],
    ['', `webq8 kernels, encoding (${c.kernelDispatches} dispatches)`, ms(t.kernelsMs), ''],
    ['', `readback (${c.readbacks} output${c.readbacks === 1 ? '' : 's'}; ${c.uploads} input upload${c.uploads === 1 ? '' : 's'})`, ms(t.readbackMs), ''],
    ['', 'run, in the worker', ms(t.runMs), ''],
    ['', 'queued before it', ms(t.queueMs), ''],
  ];
}

/** Replaces the rows of `tbody` with `rows` (arrays of cell texts). */
export function fillTable(/** @type {HTMLElement} */ tbody, /** @type {string[][]} */ rows) {
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      for (const text of cells) tr.appendChild(document.createElement('td')).textContent = text;
      return tr;
    }),
  );
}
