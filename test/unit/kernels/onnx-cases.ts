// ONNX's own conformance cases for the int8 ops (Debian package libonnx-testdata), read with
// onnx-proto. Shared by the Node tests (CPU reference) and the browser spec (GPU kernels), which
// passes the plain-array form into the page. `.ci/run` installs the package; a missing directory
// fails loudly instead of skipping.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { ConvAttrs } from '../../../src/kernels/conv-math';

const { onnx } = onnxProto;

/** Where Debian installs the cases. */
export const ONNX_NODE_TESTS = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data/node';

/** A decoded TensorProto as plain data (JSON-safe, so it can cross into `page.evaluate`). */
export interface CaseTensor {
  name: string;
  type: 'float32' | 'uint8' | 'int8' | 'int32';
  dims: number[];
  data: number[];
}

/** One conformance case: the node's op, its input and output tensors in order. */
export interface OnnxCase {
  name: string;
  op: string;
  inputs: CaseTensor[];
  outputs: CaseTensor[];
  /** The node's int, ints and string attributes by ONNX name. */
  attrs: Record<string, number | number[] | string>;
}

const TYPES: Record<number, CaseTensor['type']> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32' };

function decodeTensor(bytes: Uint8Array): CaseTensor {
  const t = onnx.TensorProto.decode(bytes);
  const type = TYPES[t.dataType];
  if (!type) throw new Error(`TensorProto ${t.name}: data type ${t.dataType} is not one the int8 cases use.`);
  const dims = t.dims.map(Number);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  let data: number[];
  if (raw) {
    const buf = new Uint8Array(raw).buffer;
    const Ctor: new (b: ArrayBuffer) => ArrayLike<number> & Iterable<number> = { float32: Float32Array, uint8: Uint8Array, int8: Int8Array, int32: Int32Array }[
      type
    ];
    data = [...new Ctor(buf)];
  } else {
    data = type === 'float32' ? [...t.floatData] : [...t.int32Data];
  }
  return { name: t.name, type, dims, data };
}

/** Reads every `test_data_set_*` of the cases whose directory name matches `pattern`. */
export function loadOnnxCases(pattern: RegExp): OnnxCase[] {
  if (!existsSync(ONNX_NODE_TESTS)) {
    throw new Error(`ONNX conformance data not found at ${ONNX_NODE_TESTS}. Install it: apt-get install -y libonnx-testdata (or set ONNX_TESTDATA).`);
  }
  const cases: OnnxCase[] = [];
  for (const dir of readdirSync(ONNX_NODE_TESTS)
    .filter((d) => pattern.test(d))
    .sort()) {
    const model = onnx.ModelProto.decode(readFileSync(join(ONNX_NODE_TESTS, dir, 'model.onnx')));
    const node = model.graph?.node?.[0];
    const op = node?.opType ?? '';
    const attrs: OnnxCase['attrs'] = {};
    for (const a of node?.attribute ?? []) {
      if (a.ints && a.ints.length > 0) attrs[a.name ?? ''] = a.ints.map(Number);
      else if (a.s && a.s.length > 0) attrs[a.name ?? ''] = new TextDecoder().decode(a.s);
      else attrs[a.name ?? ''] = Number(a.i ?? 0);
    }
    for (const set of readdirSync(join(ONNX_NODE_TESTS, dir)).filter((d) => d.startsWith('test_data_set_'))) {
      const files = readdirSync(join(ONNX_NODE_TESTS, dir, set)).sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
      const read = (prefix: string) => files.filter((f) => f.startsWith(prefix)).map((f) => decodeTensor(readFileSync(join(ONNX_NODE_TESTS, dir, set, f))));
      cases.push({ name: `${dir}/${set}`, op, inputs: read('input_'), outputs: read('output_'), attrs });
    }
  }
  if (cases.length === 0) throw new Error(`No ONNX conformance cases match ${pattern} in ${ONNX_NODE_TESTS}.`);
  return cases;
}

/** The int8 cases webq8's kernels must pass bit-exactly (the `_expanded` variants are the same data). */
export function int8OnnxCases(): OnnxCase[] {
  return loadOnnxCases(/^test_(matmulinteger|dynamicquantizelinear(_max_adjusted|_min_adjusted)?|qlinearmatmul_[23]D)$/);
}

/** The ConvInteger cases (QLinearConv's need a requantizing epilogue, which the conv kernels do not have yet). */
export function convOnnxCases(): OnnxCase[] {
  return loadOnnxCases(/^test_(basic_convinteger|convinteger_with_padding|convinteger_without_padding)$/);
}

/** ONNX attribute names → {@link ConvAttrs}. */
export function convAttrsOf(c: OnnxCase): ConvAttrs {
  const a = c.attrs;
  const ints = (v: unknown) => (Array.isArray(v) ? (v as number[]) : undefined);
  return {
    ...(typeof a.auto_pad === 'string' ? { autoPad: a.auto_pad } : {}),
    ...(ints(a.dilations) ? { dilations: ints(a.dilations) } : {}),
    ...(typeof a.group === 'number' ? { group: a.group } : {}),
    ...(ints(a.kernel_shape) ? { kernelShape: ints(a.kernel_shape) } : {}),
    ...(ints(a.pads) ? { pads: ints(a.pads) } : {}),
    ...(ints(a.strides) ? { strides: ints(a.strides) } : {}),
  };
}
