#!/usr/bin/env node
// webq8's command line; see ./cli.mjs. Plain Node ESM over the library build (dist/quantize.js):
// run `npm run build` first in a checkout.
import { main } from './cli.mjs';

const load = () =>
  import('../dist/quantize.js').catch((e) => {
    throw new Error(`cannot load dist/quantize.js (${e.message}). In a checkout, run \`npm run build\` first.`);
  });

process.exitCode = await main(process.argv.slice(2), { load, out: (l) => console.log(l), err: (l) => console.error(l) });
