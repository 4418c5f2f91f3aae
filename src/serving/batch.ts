/**
 * Micro-batching of requests along a shared leading batch dimension: requests whose inputs agree in
 * dtype and in every dimension but the first are concatenated along axis 0, run once, and each gets
 * its own rows of every output back. Only models whose every input has a symbolic first dimension
 * qualify, and a batch whose outputs do not lead with the summed batch size is refused (the caller
 * then runs the requests one by one), so a model that does not batch along axis 0 never gets mixed
 * answers.
 */
import { allocTyped } from '../dtypes';
import type { TensorData, TensorLike, TensorMap, ValueInfo } from '../types';

/** Whether every input of `inputs` has a symbolic (or unknown) first dimension. */
export function batchable(inputs: readonly ValueInfo[]): boolean {
  return inputs.length > 0 && inputs.every((v) => v.dims.length > 0 && typeof v.dims[0] !== 'number');
}

/** Requests with equal keys can share a batch: dtypes and every dimension after the first. */
export function batchKey(feeds: TensorMap): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name]!.type}[${feeds[name]!.dims.slice(1).join(',')}]`)
    .join(';');
}

/** Rows (first dimension) of a request: the first feed's, which {@link batchKey} peers share in kind. */
export function rowsOf(feeds: TensorMap): number {
  const first = Object.values(feeds)[0];
  return first?.dims[0] ?? 1;
}

/** The feeds of several requests, concatenated along axis 0 (every request must share a {@link batchKey}). */
export function concatFeeds(requests: readonly TensorMap[]): TensorMap {
  const out: TensorMap = {};
  for (const name of Object.keys(requests[0] ?? {})) {
    const parts = requests.map((r) => r[name]!);
    const rows = parts.reduce((n, t) => n + (t.dims[0] ?? 0), 0);
    const data = allocTyped(
      parts[0]!.type,
      parts.reduce((n, t) => n + t.data.length, 0),
    );
    let at = 0;
    for (const t of parts) {
      (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(t.data as ArrayLike<unknown>, at);
      at += t.data.length;
    }
    out[name] = { type: parts[0]!.type, dims: [rows, ...parts[0]!.dims.slice(1)], data };
  }
  return out;
}

/**
 * Splits batched `outputs` back into one output map per request of `rows[i]` rows, or returns null
 * when an output does not lead with the summed row count (the model does not batch on axis 0).
 */
export function splitOutputs(outputs: TensorMap, rows: readonly number[]): TensorMap[] | null {
  const total = rows.reduce((a, b) => a + b, 0);
  const parts: TensorMap[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    if (t.dims[0] !== total) return null;
    const perRow = total === 0 ? 0 : t.data.length / total;
    let at = 0;
    rows.forEach((r, i) => {
      parts[i]![name] = slice(t, at * perRow, (at + r) * perRow, [r, ...t.dims.slice(1)]);
      at += r;
    });
  }
  return parts;
}

function slice(t: TensorLike, from: number, to: number, dims: number[]): TensorLike {
  // A copy, not a view: each caller's output must own (and be able to transfer) its buffer.
  const data = (t.data as unknown as { slice(a: number, b: number): TensorData }).slice(from, to);
  return { type: t.type, dims, data };
}
