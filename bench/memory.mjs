// `npm run bench -- memory`: does memory level off when a page loads, runs and disposes models over
// and over? Chromium's GPU process and the page's renderer (where webq8's Worker lives), resident
// set size read from /proc every CYCLES/STEPS cycles, for: webq8 on the kernel plan, webq8 on the
// plain-ORT plan, and onnxruntime-web alone in the page (no webq8: session create → run → release),
// each in a fresh browser. The model is a q8 MLP (two 256×256 int8 matmuls) made by webq8's quantizer.
// Linux only (/proc). A diagnostic: it prints figures and asserts nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { openBenchPage, q8Mlp256, table } from './browser.mjs';

const CYCLES = Number(process.env.BENCH_MEMORY_CYCLES ?? 60);
const STEPS = 6;

/** RSS (MiB) of the GPU process and of the renderers that are children of the browser marked with `marker`. */
export function rss(marker) {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      // Chromium rewrites its children's titles into one space-separated string.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      procs.push({ pid: Number(pid), ppid, cmd, mib: kb('VmRSS') / 1024, shmem: kb('RssShmem') / 1024, file: kb('RssFile') / 1024 });
    } catch {
      /* gone */
    }
  }
  const browser = procs.find((p) => p.cmd.includes(marker) && !p.cmd.some((a) => a.startsWith('--type=')));
  if (!browser) return { gpu: NaN, renderer: NaN, gpuShmem: NaN, rendererShmem: NaN };
  // The zygote forks renderers, so match by type among the browser's descendants.
  const ids = new Set([browser.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (ids.has(p.pid) || !ids.has(p.ppid)) continue;
      ids.add(p.pid);
      grew = true;
    }
  }
  const of = (type, k = 'mib') => procs.filter((p) => ids.has(p.pid) && p.cmd.includes(`--type=${type}`)).reduce((a, p) => a + p[k], 0);
  // Shared memory (RssShmem) is counted in every process that touched it: GPU transfers map it in both.
  return {
    gpu: of('gpu-process'),
    renderer: of('renderer'),
    gpuShmem: of('gpu-process', 'shmem'),
    rendererShmem: of('renderer', 'shmem'),
    gpuFile: of('gpu-process', 'file'),
    rendererFile: of('renderer', 'file'),
  };
}

async function soak(kind, model) {
  const marker = `--webq8-memory-${kind.replaceAll(' ', '-')}-${process.pid}`;
  const { page, close } = await openBenchPage(undefined, { args: [marker] });
  const samples = [];
  try {
    await page.evaluate(
      async ({ kind, model }) => {
        const bytes = new Uint8Array(model);
        const x = { type: 'float32', dims: [8, 256], data: Float32Array.from({ length: 8 * 256 }, (_, i) => Math.sin(i)) };
        if (kind === 'ort alone') {
          const ort = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs');
          ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
          ort.env.wasm.numThreads = 1;
          globalThis.cycle = async () => {
            const s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
            await s.run({ x: new ort.Tensor('float32', x.data.slice(), x.dims) });
            await s.release();
          };
        } else {
          const { createRuntime } = await import('/dist/index.js');
          const rt = createRuntime();
          const strategy = kind === 'webq8 kernels' ? 'kernels' : 'ort';
          globalThis.cycle = async () => {
            const m = await rt.load(bytes.slice(), { backend: 'webgpu', strategy, cache: 'bypass' });
            await m.run({ x: { ...x, data: x.data.slice() } });
            await m.dispose();
          };
        }
      },
      { kind, model },
    );
    samples.push({ cycle: 0, ...rss(marker) });
    for (let i = 1; i <= CYCLES; i++) {
      await page.evaluate(() => globalThis.cycle());
      if (i % (CYCLES / STEPS) === 0) {
        await new Promise((r) => setTimeout(r, 500)); // let the GPU process settle its frees
        samples.push({ cycle: i, ...rss(marker) });
      }
    }
  } finally {
    await close();
  }
  return samples;
}

/** Runs the diagnostic and prints its table. */
export async function run() {
  const model = await q8Mlp256();
  const rows = [];
  for (const kind of ['webq8 kernels', 'webq8 ort plan', 'ort alone']) {
    const s = await soak(kind, model);
    const half = s[Math.floor(s.length / 2)];
    const last = s.at(-1);
    const perCycle = (k) => ((last[k] - half[k]) / (last.cycle - half.cycle)) * 1024;
    rows.push([
      kind,
      s.map((x) => x.gpu.toFixed(0)).join(' → '),
      perCycle('gpu').toFixed(0),
      s.map((x) => x.renderer.toFixed(0)).join(' → '),
      perCycle('renderer').toFixed(0),
    ]);
  }
  console.log(`\n## memory over ${CYCLES} load → run → dispose cycles (MiB RSS every ${CYCLES / STEPS} cycles; per-cycle growth over the second half in KiB)`);
  console.log(table(['config', 'GPU process MiB', 'GPU KiB/cycle (2nd half)', 'renderer MiB', 'renderer KiB/cycle (2nd half)'], rows));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
