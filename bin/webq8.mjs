#!/usr/bin/env node
// webq8's command line. `webq8 quantize in.onnx out.onnx [--per-channel] [--exclude name,...]`
// rewrites every MatMul with a constant float weight the way ORT's quantize_dynamic (QInt8) does.
// Plain Node ESM over the library build (dist/quantize.js): run `npm run build` first in a checkout.
import { readFileSync, writeFileSync } from 'node:fs';

const USAGE = `usage: webq8 quantize <in.onnx> <out.onnx> [--per-channel] [--exclude name,...]

  --per-channel      one weight scale per output column (default: one per weight)
  --exclude a,b      node or weight names to leave in float`;

function parse(argv) {
  const [command, ...rest] = argv;
  const files = [];
  const options = { perChannel: false, exclude: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--per-channel') options.perChannel = true;
    else if (a === '--exclude') options.exclude.push(...(rest[++i] ?? '').split(',').filter(Boolean));
    else if (a.startsWith('--exclude=')) options.exclude.push(...a.slice(10).split(',').filter(Boolean));
    else if (a === '-h' || a === '--help') return { help: true };
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else files.push(a);
  }
  return { command, files, options };
}

async function main() {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    return 2;
  }
  if (args.help || args.command !== 'quantize' || args.files.length !== 2) {
    console.error(USAGE);
    return args.help ? 0 : 2;
  }
  let lib;
  try {
    lib = await import('../dist/quantize.js');
  } catch (e) {
    console.error(`webq8: cannot load dist/quantize.js (${e.message}). In a checkout, run \`npm run build\` first.`);
    return 1;
  }
  const [input, output] = args.files;
  const { bytes, report } = lib.quantizeDynamic(new Uint8Array(readFileSync(input)), args.options);
  writeFileSync(output, bytes);
  const mb = (n) => (n / 2 ** 20).toFixed(2);
  console.log(`quantized ${report.quantized.length} MatMul(s); opset ${report.opset.from} → ${report.opset.to}; weights ${mb(report.weightBytes.float)} MiB float → ${mb(report.weightBytes.int8)} MiB int8`);
  for (const s of report.skipped) console.log(`  kept float: ${s.node} (${s.reason})`);
  console.log(`wrote ${output} (${mb(bytes.byteLength)} MiB)`);
  return 0;
}

process.exitCode = await main();
