/**
 * Declared dimensions as onnxruntime-web reports them. A dynamic dimension with neither
 * `dim_value` nor `dim_param` comes back from `session.inputMetadata` as 4294967295 (ONNX's −1
 * read as uint32), not as a string or −1, so a number is a size only when it is a non-negative
 * integer below 2^31; anything else (that, any negative, NaN) is a symbolic dimension.
 */

/** The largest declared dimension taken as a fixed size (ONNX dims are int64; ORT web's are uint32). */
export const MAX_FIXED_DIM = 2 ** 31 - 1;

/** True when a declared dimension is a fixed size the input must match. */
export function isFixedDim(d: unknown): d is number {
  return typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= MAX_FIXED_DIM;
}

/** A declared dimension as {@link ValueInfo} carries it: a size, a symbol name, or `null` (unnamed). */
export function normalizeDim(d: unknown): number | string | null {
  if (typeof d === 'string') return d === '' ? null : d;
  return isFixedDim(d) ? d : null;
}
