// @ts-check
// The logic of webq8's command line (bin/webq8.mjs is the executable), with its library and
// output streams injected so tests can run it against the TypeScript sources.
//
// `webq8 quantize in.onnx out.onnx [--per-channel] [--exclude name,...] [--debug]` rewrites every
// MatMul with a constant float weight the way ORT's quantize_dynamic (QInt8) does. The output is
// written to a temporary file beside it and renamed into place, so a failure never leaves a
// partial model under the output name. Errors print as one line, `webq8: <Name>: <message>`; the
// stack only with --debug.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * @typedef {{ quantizeDynamic: typeof import('../src/graph/quantize.js').quantizeDynamic, quantizeWeightsOnly: typeof import('../src/graph/quantize.js').quantizeWeightsOnly }} QuantizeLib
 * @typedef {{ load: () => Promise<QuantizeLib>, out: (line: string) => void, err: (line: string) => void }} CliIo
 */

export const USAGE = `usage: webq8 quantize <in.onnx> <out.onnx> [--weights-only] [--per-channel] [--ops MatMul,Conv] [--exclude name,...] [--debug]

  --weights-only     int8 weights behind DequantizeLinear, float activations (QDQ weight-only);
                     default: dynamic int8 as ORT's quantize_dynamic
  --per-channel      one weight scale per output column (default: one per weight; MatMul only)
  --ops MatMul,Conv  which ops to quantize dynamically (default: MatMul; Conv: 1-D and 2-D convs)
  --exclude a,b      node or weight names to leave in float
  --debug            print stack traces with errors`;

/** @param {string[]} argv */
function parse(argv) {
  if (argv[0] === '-h' || argv[0] === '--help') argv = ['', ...argv];
  const [command, ...rest] = argv;
  /** @type {string[]} */
  const files = [];
  const options = { perChannel: false, weightsOnly: false, exclude: /** @type {string[]} */ ([]), ops: /** @type {('MatMul' | 'Conv')[]} */ (['MatMul']) };
  let debug = false;
  for (let i = 0; i < rest.length; i++) {
    const a = /** @type {string} */ (rest[i]);
    if (a === '--per-channel') options.perChannel = true;
    else if (a === '--weights-only') options.weightsOnly = true;
    else if (a === '--debug') debug = true;
    else if (a === '--exclude') options.exclude.push(...(rest[++i] ?? '').split(',').filter(Boolean));
    else if (a.startsWith('--exclude=')) options.exclude.push(...a.slice(10).split(',').filter(Boolean));
    else if (a === '--ops' || a.startsWith('--ops=')) options.ops = opsOf(a === '--ops' ? (rest[++i] ?? '') : a.slice(6));
    else if (a === '-h' || a === '--help') return { help: true, debug, files, options };
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else files.push(a);
  }
  return { help: false, command, files, options, debug };
}

/** `--ops` values, checked. @param {string} list */
function opsOf(list) {
  const ops = list.split(',').filter(Boolean);
  const bad = ops.find((o) => o !== 'MatMul' && o !== 'Conv');
  if (bad || ops.length === 0) throw new Error(`--ops takes MatMul and/or Conv (comma-separated), not "${bad ?? list}"`);
  return /** @type {('MatMul' | 'Conv')[]} */ (ops);
}

/** One line: the error's class name and message (multi-line messages folded). @param {unknown} e */
export function oneLine(e) {
  const err = e instanceof Error ? e : new Error(String(e));
  return `webq8: ${err.name}: ${err.message.replace(/\s*\n\s*/g, ' ')}`;
}

/**
 * Writes `bytes` to `file` atomically: a temporary file in the same folder (same filesystem, so
 * the rename is atomic), then rename. The temporary file is removed when anything fails.
 * @param {string} file @param {Uint8Array} bytes
 */
export function writeAtomic(file, bytes) {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, bytes, { flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Runs the CLI; resolves to the exit code (0 ok, 1 failure, 2 usage).
 * @param {string[]} argv arguments after the executable
 * @param {CliIo} io
 */
export async function main(argv, io) {
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    io.err(`webq8: ${/** @type {Error} */ (e).message}\n${USAGE}`);
    return 2;
  }
  if (args.help || args.command !== 'quantize' || args.files.length !== 2) {
    (args.help ? io.out : io.err)(USAGE);
    return args.help ? 0 : 2;
  }
  const [input = '', output = ''] = args.files;
  try {
    const lib = await io.load();
    const bytes = new Uint8Array(readFileSync(input));
    const { weightsOnly, ...options } = args.options;
    const quantize = weightsOnly ? lib.quantizeWeightsOnly : lib.quantizeDynamic;
    const { bytes: q, report } = quantize(bytes, { ...options, source: input });
    writeAtomic(output, q);
    const mb = (/** @type {number} */ n) => (n / 2 ** 20).toFixed(2);
    io.out(
      `quantized ${report.quantized.length} ${args.options.ops.join('/')}(s); opset ${report.opset.from} → ${report.opset.to}; weights ${mb(report.weightBytes.float)} MiB float → ${mb(report.weightBytes.int8)} MiB int8`,
    );
    for (const s of report.skipped) io.out(`  kept float: ${s.node} (${s.reason})`);
    io.out(`wrote ${output} (${mb(q.byteLength)} MiB)`);
    return 0;
  } catch (e) {
    io.err(args.debug && e instanceof Error && e.stack ? e.stack : oneLine(e));
    return 1;
  }
}
