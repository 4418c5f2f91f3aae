#!/usr/bin/env node
// `npm run bench`: every benchmark, one after another, in one run on this machine's adapter.
// Each bench/<name>.mjs exports `run()` and prints its own table. Pick some with
// `npm run bench -- runtime kernels`.
import { existsSync } from 'node:fs';

const ALL = ['runtime', 'kernels', 'device', 'partition', 'concurrency', 'cache', 'telemetry', 'verify'];
// Others (memory, large: a generated 256 MiB model, …) run only when named.
const picked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = picked.length ? picked : ALL;
const started = Date.now();
for (const name of names) {
  const file = new URL(`./${name}.mjs`, import.meta.url);
  if (!existsSync(file)) {
    if (picked.length) console.error(`no benchmark bench/${name}.mjs`);
    continue;
  }
  const mod = await import(file.href);
  if (typeof mod.run !== 'function') continue;
  await mod.run();
}
console.log(`\nbenchmarks done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
