import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors';

/** The error table of docs/reference.md, class name → code (a row may list several of each, in order). */
function documentedErrors(): Map<string, string> {
  const text = readFileSync(new URL('../../docs/reference.md', import.meta.url), 'utf8');
  const table = text.slice(text.indexOf('## Errors'));
  const rows = [...table.matchAll(/^\| (`\w+Error`(?:, `\w+Error`)*) \| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|/gm)];
  const names = (cell: string) => [...cell.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
  return new Map(rows.flatMap(([, classes, codes]) => names(classes!).map((name, i) => [name, names(codes!)[i]!] as const)));
}

describe('error serialization across the worker boundary', () => {
  const named = (Object.values(errors) as unknown[]).filter(
    (v): v is (new (m: string, d?: Record<string, unknown>) => errors.WebQ8Error) & { name: string } =>
      typeof v === 'function' && v.prototype instanceof errors.WebQ8Error,
  );

  it('covers every named class: exactly the classes and codes of the error table in docs/reference.md', () => {
    const documented = documentedErrors();
    expect(new Map(named.map((C) => [C.name, new C('x').code]))).toEqual(documented);
  });

  it.each(named.map((C) => [C.name, C] as const))('%s keeps its class, code, message and details', (_, C) => {
    const original = new C('what to do', { url: '/m.onnx', status: 404 });
    const back = errors.deserializeError(structuredClone(errors.serializeError(original)));
    expect(back).toBeInstanceOf(C);
    expect(back).toBeInstanceOf(errors.WebQ8Error);
    expect((back as errors.WebQ8Error).code).toBe(original.code);
    expect(back.message).toBe('what to do');
    expect((back as errors.WebQ8Error).details).toEqual({ url: '/m.onnx', status: 404 });
    expect(back.name).toBe(original.name);
  });

  it('the package exports every named class (src/index.ts lists them one by one)', async () => {
    const pkg = (await import('../../src/index')) as Record<string, unknown>;
    expect(named.filter((C) => pkg[C.name] !== C).map((C) => C.name)).toEqual([]);
  });

  it('codes are unique per class', () => {
    const codes = named.map((C) => new C('x').code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('plain errors keep name and message; non-errors become Error', () => {
    const back = errors.deserializeError(errors.serializeError(new TypeError('bad')));
    expect(back.name).toBe('TypeError');
    expect(back.message).toBe('bad');
    expect(errors.deserializeError(errors.serializeError('oops')).message).toBe('oops');
  });

  it('details that cannot be cloned are dropped rather than breaking the transfer', () => {
    const d: Record<string, unknown> = {};
    d.self = d;
    expect(errors.serializeError(new errors.InputError('x', d)).details).toEqual({});
  });
});
