#!/usr/bin/env node
// CLI: serve the repository root on localhost.
//   node scripts/serve.mjs [--port 4173] [--demo] [--isolate]
// --demo also starts the reference telemetry collector and prints the demo's address, wired to it.
import { startServer } from './server.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const port = Number(value('--port', process.env.PORT ?? (flag('--demo') ? '5173' : '4173')));
// The demo's q8 OCR model and synthetic decoders, made once and cached in .cache/demo/.
const prepared = flag('--demo') ? await (await import('./demo-models.mjs')).prepareDemoModels({ log: (line) => console.log(line) }) : null;
const { url } = await startServer({ port, isolate: flag('--isolate'), quiet: true });
console.log(`serving ${process.cwd()} at ${url}/`);
if (prepared) {
  const { startCollector } = await import('../collector/server.mjs');
  // The demo page posts from this server's origin; pages on this machine are allowed anyway.
  const options = { dataFile: '.collector/demo.jsonl', allowedOrigins: ['loopback', url], log: () => {} };
  let collector;
  try {
    collector = await startCollector({ ...options, port: 4318 });
  } catch {
    collector = await startCollector({ ...options, port: 0 }); // 4318 is taken
  }
  const { publishDemoRelease } = await import('./demo-release.mjs');
  const release = await publishDemoRelease(url, collector.url, prepared.rec.url.slice(1));
  console.log(`\n  webq8 demo:          ${url}/demo/?collector=${collector.url}`);
  console.log(`  as a release:        ${url}/demo/?collector=${collector.url}&release=${release}  (fp32 stable, int8 shadow candidate)`);
  console.log(`  latency dashboard:   ${collector.url}/  (the reference collector; data in .collector/demo.jsonl)`);
  console.log('\n  Open the demo in a browser with WebGPU. Ctrl+C stops both.');
}
