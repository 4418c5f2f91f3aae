#!/usr/bin/env node
// CLI: serve the repository root on localhost.
//   node scripts/serve.mjs [--port 4173] [--demo] [--isolate]
// --demo prints the demo page's address.
import { startServer } from './server.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const port = Number(value('--port', process.env.PORT ?? (flag('--demo') ? '5173' : '4173')));
const { url } = await startServer({ port, isolate: flag('--isolate'), quiet: true });
console.log(`serving ${process.cwd()} at ${url}/`);
if (flag('--demo')) console.log(`\n  webq8 demo: ${url}/demo/\n\n  (open it in a browser with WebGPU; Ctrl+C stops)`);
