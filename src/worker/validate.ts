/**
 * Checks feeds against a model's declared inputs before anything reaches ORT, so a bad request
 * fails with an {@link InputError} that names the input and what was expected, and the model
 * keeps serving.
 */
import { InputError } from '../errors';
import { arrayName, isDType } from '../dtypes';
import type { TensorLike, ValueInfo } from '../types';
import { isFixedDim, normalizeDim } from '../dims';

/** Throws {@link InputError} unless `feeds` has exactly the declared inputs with matching dtype and shape. */
export function validateFeeds(declared: readonly ValueInfo[], feeds: Record<string, TensorLike>): void {
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds)) {
    throw new InputError(`Feeds must be an object mapping input names to tensors ({type, dims, data}); expected inputs: ${names(declared)}.`);
  }
  const known = new Set(declared.map((d) => d.name));
  for (const name of Object.keys(feeds)) {
    if (!known.has(name)) throw new InputError(`Unknown input "${name}". This model's inputs are: ${names(declared)}.`, { input: name, expected: [...known] });
  }
  for (const info of declared) {
    const t = feeds[info.name];
    if (!t)
      throw new InputError(`Missing input "${info.name}" (${describe(info)}). Pass it in the feeds object.`, { input: info.name, expected: describe(info) });
    validateTensor(info, t);
  }
}

function validateTensor(info: ValueInfo, t: TensorLike): void {
  const where = { input: info.name, expected: describe(info) };
  if (!t || typeof t !== 'object' || !Array.isArray(t.dims) || !ArrayBuffer.isView(t.data)) {
    throw new InputError(`Input "${info.name}" is not a tensor: pass {type, dims, data} or an ort.Tensor (${describe(info)}).`, where);
  }
  if (info.type !== 'unknown' && t.type !== info.type) {
    throw new InputError(`Input "${info.name}" has dtype ${t.type}, and the model expects ${info.type}. Convert the data to a ${arrayName(info.type)}.`, {
      ...where,
      got: t.type,
    });
  }
  const ctor = isDType(t.type) ? arrayName(t.type) : undefined;
  if (!ctor || t.data.constructor.name !== ctor) {
    throw new InputError(
      `Input "${info.name}" is ${t.type} but its data is a ${t.data.constructor.name}; ${t.type} data must be a ${ctor ?? 'supported typed array'}.`,
      { ...where, got: t.data.constructor.name },
    );
  }
  if (!t.dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InputError(`Input "${info.name}" has dims [${t.dims.join(', ')}]; every dimension must be a non-negative integer.`, { ...where, got: t.dims });
  }
  const count = t.dims.reduce((a, b) => a * b, 1);
  if ((t.data as ArrayLike<unknown>).length !== count) {
    throw new InputError(
      `Input "${info.name}" has dims [${t.dims.join(', ')}] (${count} elements) but ${(t.data as ArrayLike<unknown>).length} data elements; make them agree.`,
      { ...where, got: t.dims },
    );
  }
  if (info.dims.length > 0 || info.type !== 'unknown') {
    if (t.dims.length !== info.dims.length) {
      throw new InputError(
        `Input "${info.name}" has rank ${t.dims.length} ([${t.dims.join(', ')}]), and the model expects rank ${info.dims.length} (${describe(info)}).`,
        { ...where, got: t.dims },
      );
    }
    info.dims.forEach((d, i) => {
      if (isFixedDim(d) && t.dims[i] !== d) {
        throw new InputError(`Input "${info.name}" has dimension ${i} = ${t.dims[i]}, and the model requires ${d} (${describe(info)}).`, {
          ...where,
          got: t.dims,
          axis: i,
        });
      }
    });
  }
}

/** `float32[1, 3, 48, W]`-style description of a declared value. */
export function describe(info: ValueInfo): string {
  return `${info.type}[${info.dims
    .map((d) => {
      const n = normalizeDim(d);
      return n === null ? '?' : String(n);
    })
    .join(', ')}]`;
}

function names(declared: readonly ValueInfo[]): string {
  return declared.map((d) => `"${d.name}" ${describe(d)}`).join(', ') || '(none)';
}
